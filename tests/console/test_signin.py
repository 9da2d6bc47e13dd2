"""Signing in and out: where each role lands, wrong passwords, the throttle per username and
per address, the sign-in log, and the CSRF token every form and session API call needs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.calls.models import CallEvent
from ivr.console.security import SignInThrottle, safe_next

from .conftest import PASSWORD, csrf_of, sign_in


def test_an_agent_lands_on_their_desktop_and_a_supervisor_on_the_wallboard(app, people):
    agent, supervisor = app.test_client(), app.test_client()
    assert sign_in(agent, "ann").headers["Location"] == "/desktop"
    assert sign_in(supervisor, "sue").headers["Location"] == "/console"
    desktop = agent.get("/desktop")
    assert desktop.status_code == 200 and "ann's desktop" in desktop.get_data(as_text=True)
    assert supervisor.get("/console").status_code == 200


def test_a_wrong_password_is_refused_and_every_attempt_is_logged(app, client, people, db, caplog):
    assert sign_in(client, "ann", "wrong").status_code == 401
    assert client.get("/desktop").headers["Location"].startswith("/signin")
    assert sign_in(client, "ann").status_code == 302
    with db.transaction() as session:
        logged = [(e.data["username"], e.data["result"]) for e in session.scalars(
            select(CallEvent).where(CallEvent.kind == "user.signin").order_by(CallEvent.id))]
    assert logged == [("ann", "failed"), ("ann", "ok")]
    assert "sign-in failed: 'ann'" in caplog.text


def test_after_five_failures_the_username_is_locked_even_with_the_right_password(
    app, people, client
):
    for _ in range(5):
        assert sign_in(client, "ann", "guess").status_code == 401
    locked = sign_in(client, "ann")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert "Too many failed attempts" in locked.get_data(as_text=True)
    # Another user from another address is not held up by ann's attacker.
    other = app.test_client()
    answer = other.post("/signin", environ_base={"REMOTE_ADDR": "10.0.0.9"}, data={
        "username": "ben", "password": PASSWORD,
        "csrf_token": csrf_of(other.get("/signin").get_data(as_text=True))})
    assert answer.status_code == 302


def test_one_address_guessing_many_usernames_is_throttled():
    now = [1000.0]
    throttle = SignInThrottle(per_username=5, per_address=3, window_seconds=60,
                              clock=lambda: now[0])
    for name in ("a", "b", "c"):
        assert throttle.retry_after(username=name, address="198.51.100.7") == 0
        throttle.failed(username=name, address="198.51.100.7")
    assert throttle.retry_after(username="d", address="198.51.100.7") == pytest.approx(60)
    assert throttle.retry_after(username="d", address="198.51.100.8") == 0
    now[0] += 30
    assert throttle.retry_after(username="d", address="198.51.100.7") == pytest.approx(30)
    now[0] += 30.5
    assert throttle.retry_after(username="d", address="198.51.100.7") == 0


def test_a_good_sign_in_clears_the_username_count_but_not_the_address_count():
    throttle = SignInThrottle(per_username=2, per_address=3, window_seconds=60, clock=lambda: 5.0)
    throttle.failed(username="Ann", address="a1")
    throttle.failed(username="ann", address="a1")
    assert throttle.retry_after(username="ANN", address="a2") > 0  # names ignore case
    throttle.succeeded(username="ann")
    assert throttle.retry_after(username="ann", address="a2") == 0
    throttle.failed(username="ben", address="a1")
    assert throttle.retry_after(username="ann", address="a1") > 0


def test_the_sign_in_form_needs_its_csrf_token(client, people):
    client.get("/signin")
    refused = client.post("/signin", data={"username": "ann", "password": PASSWORD})
    assert refused.status_code == 400
    assert "not sent from a page of this site" in refused.get_data(as_text=True)


def test_signing_out_is_a_post_with_the_token(signed_in):
    browser = signed_in("ann")
    assert browser.get("/signout").status_code == 405
    assert browser.post("/signout").status_code == 400
    assert browser.get("/desktop").status_code == 200
    out = browser.post("/signout", data={"csrf_token": browser.csrf})
    assert out.status_code == 302
    assert browser.get("/desktop").headers["Location"].startswith("/signin")


def test_after_sign_in_the_browser_goes_back_only_to_a_page_of_this_site(app, people):
    browser = app.test_client()
    browser.get("/console/recordings?q=refund")
    token = csrf_of(browser.get("/signin").get_data(as_text=True))
    answer = browser.post("/signin?next=/console/recordings%3Fq%3Drefund",
                          data={"username": "sue", "password": PASSWORD, "csrf_token": token})
    assert answer.headers["Location"] == "/console/recordings?q=refund"
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        assert safe_next(target) is None


def test_the_session_cookie_is_httponly_and_samesite(app, people):
    browser = app.test_client()
    answer = sign_in(browser, "ann")
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
