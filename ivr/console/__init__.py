"""The web consoles: sign-in and admin, the agent desktop, the supervisor console, and the
live stream that feeds them. `init_app` wires them into the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Blueprint, Flask

from ivr.console.security import SignInThrottle, init_csrf


@dataclass
class ConsoleState:
    throttle: SignInThrottle


def init_app(app: Flask, *, https: bool = False) -> None:
    """Register the console's blueprints, CSRF protection and session cookie settings."""
    from ivr.console import admin, desktop, live, signin, supervisor, vendor

    # Flask has defaults for these: set them, so a cross-site page never sends the cookie on a
    # POST and a sign-in lasts a shift.
    app.config.update(
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
    )
    app.config.setdefault("CONSOLE_HEARTBEAT_SECONDS", 15.0)
    app.extensions["ivr_console"] = ConsoleState(throttle=SignInThrottle())
    init_csrf(app)
    assets = Blueprint("console_assets", __name__, static_folder="static",
                       static_url_path="/console/static", template_folder="templates")
    for blueprint in (assets, signin.bp, admin.bp, desktop.bp, supervisor.bp, live.bp,
                      vendor.bp):
        app.register_blueprint(blueprint)
