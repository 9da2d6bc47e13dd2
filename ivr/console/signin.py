"""Signing in and out of the consoles. Every attempt is logged (the service log and the event
log); failures are throttled per username and per address."""

from __future__ import annotations

import logging
import math
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from ivr import events
from ivr.console.forms import SignInForm, SignOutForm
from ivr.console.security import SignInThrottle, safe_next, signed_in
from ivr.runtime import current
from ivr.users.service import by_password

bp = Blueprint("console_auth", __name__)
log = logging.getLogger(__name__)


def throttle() -> SignInThrottle:
    return current_app.extensions["ivr_console"].throttle


def home_for(role: str) -> str:
    return url_for("desktop.own") if role == "agent" else url_for("supervisor.wallboard")


@bp.get("/")
def home() -> Any:
    user = signed_in()
    if user is None:
        return redirect(url_for("console_auth.signin"))
    return redirect(home_for(user.role))


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> Any:
    form = SignInForm()
    if not form.validate_on_submit():
        status = 400 if request.method == "POST" else 200
        return render_template("console/signin.html", form=form, error=None), status
    username = form.username.data.strip()
    address = request.remote_addr or "unknown"
    wait = throttle().retry_after(username=username, address=address)
    if wait > 0:
        _note(username, address, "throttled")
        error = f"Too many failed attempts. Try again in {math.ceil(wait / 60)} minute(s)."
        page = render_template("console/signin.html", form=form, error=error)
        return page, 429, {"Retry-After": str(math.ceil(wait))}
    rt = current()
    with rt.db.transaction() as db_session:
        user = by_password(db_session, username=username, password=form.password.data)
        found = (user.id, user.role) if user is not None else None
    if found is None:
        throttle().failed(username=username, address=address)
        _note(username, address, "failed")
        error = "Wrong username or password."
        return render_template("console/signin.html", form=form, error=error), 401
    throttle().succeeded(username=username)
    _note(username, address, "ok")
    user_id, role = found
    session.clear()  # a new session: nothing from before signing in carries over
    session.permanent = True
    session["user_id"] = user_id
    return redirect(safe_next(request.args.get("next")) or home_for(role))


@bp.post("/signout")
def signout() -> Any:
    user = signed_in()
    SignOutForm()  # the CSRF token was checked before the view ran
    if user is not None:
        log.info("sign-out: %s from %s", user.username, request.remote_addr)
    session.clear()
    return redirect(url_for("console_auth.signin"))


def _note(username: str, address: str, result: str) -> None:
    level = logging.INFO if result == "ok" else logging.WARNING
    log.log(level, "sign-in %s: %r from %s", result, username, address)
    rt = current()
    with rt.db.transaction() as db_session:
        events.record(db_session, "user.signin", at=rt.clock.now(), username=username[:64],
                      address=address, result=result)
