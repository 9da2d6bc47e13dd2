"""Who is calling the API: a bearer token (or, for the consoles, the signed-in session), and
what their role lets them do. Agents act for themselves; supervisors and admins for anyone."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import abort, g, request, session

from ivr.routing.models import Agent
from ivr.runtime import current
from ivr.users.models import User
from ivr.users.service import by_token

SUPERVISING = ("supervisor", "admin")


def load_user() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    with current().db.transaction() as db_session:
        if scheme.lower() == "bearer" and token:
            return by_token(db_session, token.strip())
        user_id = session.get("user_id")
        if user_id is not None:
            return db_session.get(User, user_id)
    return None


def require(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Only users with one of `roles` (any signed-in user when none are named)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = load_user()
            if user is None:
                abort(401, description="send 'Authorization: Bearer <token>' (ivr users add)")
            if roles and user.role not in roles:
                abort(403, description=f"needs the role {' or '.join(roles)}")
            g.user = user
            return view(*args, **kwargs)

        return guarded

    return decorate


def user() -> User:
    return g.user


def supervising() -> bool:
    return g.user.role in SUPERVISING


def may_act_for(agent: Agent) -> None:
    """An agent acts only for themselves; supervisors and admins for every agent."""
    if supervising() or g.user.agent_id == agent.id:
        return
    abort(403, description=f"agents act only for themselves, not for {agent.name}")
