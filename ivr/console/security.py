"""Who is at the screen and what they may do: the signed-in user from the session cookie,
the page guard by role, CSRF protection of every state change made with the cookie, and the
throttle on sign-in attempts (per username and per address)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from ivr.runtime import current
from ivr.users.models import User

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SUPERVISING = ("supervisor", "admin")
# Blueprints whose forms are protected even before anyone has signed in (the sign-in form).
CONSOLE_BLUEPRINTS = frozenset({"console_auth", "console_admin", "desktop", "supervisor",
                                "console_live"})
# Requests signed by the carrier, not sent by a browser.
CARRIER_BLUEPRINTS = frozenset({"voice"})

csrf = CSRFProtect()


@dataclass(frozen=True)
class SignedIn:
    """The signed-in user as the pages need them (a plain value: no database session)."""

    id: int
    username: str
    role: str
    agent_id: int | None

    @property
    def supervising(self) -> bool:
        return self.role in SUPERVISING


def signed_in() -> SignedIn | None:
    """The user of this request's session cookie, looked up afresh (a removed user, or a
    changed role, takes effect on the next request)."""
    if "console_user" in g:
        return g.console_user
    found = None
    user_id = session.get("user_id")
    if user_id is not None:
        with current().db.transaction() as db_session:
            user = db_session.get(User, user_id)
            if user is not None:
                found = SignedIn(user.id, user.username, user.role, user.agent_id)
    g.console_user = found
    return found


def page(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A console page for signed-in users with one of `roles` (any role when none named).
    Anyone else is sent to sign in; a signed-in user without the role gets a 403 page."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            user = signed_in()
            if user is None:
                return redirect(url_for("console_auth.signin", next=request.full_path))
            if roles and user.role not in roles:
                return forbidden(f"This page is for {' and '.join(roles)} users; "
                                 f"you are signed in as {user.username} ({user.role}).")
            return view(*args, **kwargs)

        return guarded

    return decorate


def forbidden(message: str) -> tuple[str, int]:
    return render_template("console/forbidden.html", message=message, me=signed_in()), 403


def safe_next(target: str | None) -> str | None:
    """A place on this site to go after signing in; never another site."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def _bearer_token() -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def protect_state_changes() -> None:
    """CSRF check for every state-changing request a browser makes with the session cookie:
    console forms and the JSON API alike. Token-authenticated API calls carry no cookie an
    attacker's page could borrow, and carrier webhooks are signed; neither needs a token."""
    if request.method in SAFE_METHODS or request.blueprint in CARRIER_BLUEPRINTS:
        return
    if _bearer_token():
        return
    if request.blueprint in CONSOLE_BLUEPRINTS or session.get("user_id") is not None:
        csrf.protect()


def init_csrf(app: Flask) -> None:
    # Checked by protect_state_changes, not on every view: webhooks and token calls are exempt.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    # A token lives as long as the sign-in: a desktop left open all shift still works.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    csrf.init_app(app)
    app.before_request(protect_state_changes)
    app.register_error_handler(CSRFError, _csrf_refused)


def _csrf_refused(exc: CSRFError) -> Any:
    from ivr.httperrors import json_error

    if request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json":
        exc.description = (
            f"{exc.description} Send the page's token in the X-CSRFToken header, "
            "or use 'Authorization: Bearer <token>'."
        )
        return json_error(exc)
    message = "This form was not sent from a page of this site, or it has expired. " \
              "Reload the page and try again."
    page = render_template("console/forbidden.html", message=message, title="Refused",
                           me=signed_in())
    return page, 400


class SignInThrottle:
    """Counts failed sign-ins per username and per address in a sliding window; past the
    limit, further attempts are refused until the oldest failure leaves the window.

    In memory, per process: with several web processes each keeps its own count, so the
    effective limit is the limit times the number of processes (still a hard ceiling)."""

    def __init__(
        self,
        *,
        per_username: int = 5,
        per_address: int = 20,
        window_seconds: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits = {"username": per_username, "address": per_address}
        self.window = window_seconds
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def retry_after(self, *, username: str, address: str) -> float:
        """Seconds until an attempt for this username from this address is allowed; 0 now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for kind, value in (("username", username.lower()), ("address", address)):
                failures = self._recent((kind, value), now)
                if len(failures) >= self.limits[kind]:
                    wait = max(wait, failures[-self.limits[kind]] + self.window - now)
        return wait

    def failed(self, *, username: str, address: str) -> None:
        now = self._clock()
        with self._lock:
            for key in (("username", username.lower()), ("address", address)):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, *, username: str) -> None:
        """The right password: the username's count starts again (the address's does not,
        so one good account does not unlock guessing at the others)."""
        with self._lock:
            self._failures.pop(("username", username.lower()), None)
