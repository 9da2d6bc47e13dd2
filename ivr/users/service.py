"""Users: adding them with a hashed password and an API token, and finding them by either."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from ivr.users.models import ROLES, User


class UserError(ValueError):
    """A user cannot be added or changed as asked; the message says why."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    now: datetime,
    agent_id: int | None = None,
) -> tuple[User, str]:
    """Create a user; returns the user and their API token (shown once, stored hashed)."""
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if not username or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UserError(f"username {username!r}: use letters, digits, '.', '-' or '_'")
    if len(password) < 4:
        raise UserError("password: at least 4 characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    token = secrets.token_urlsafe(32)
    user = User(
        username=username,
        password_hash=generate_password_hash(password),
        role=role,
        api_token_hash=token_hash(token),
        agent_id=agent_id,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user, token


def rotate_token(user: User) -> str:
    token = secrets.token_urlsafe(32)
    user.api_token_hash = token_hash(token)
    return token


def by_token(session: Session, token: str) -> User | None:
    if not token:
        return None
    return session.scalar(select(User).where(User.api_token_hash == token_hash(token)))


def by_password(session: Session, *, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not check_password_hash(user.password_hash, password):
        return None
    return user
