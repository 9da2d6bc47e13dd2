"""Fixtures for the console tests: people who sign in (agents, a supervisor, an admin), and a
test client that signs in through the form, carrying the page's CSRF token as a browser does."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ivr.routing.agents import add_agent
from ivr.users.service import add_user

PASSWORD = "pw-1234"
TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


@pytest.fixture
def people(db, clock) -> dict[str, dict[str, Any]]:
    """ann and ben (agents), sue (supervisor), ada (admin): name -> {token, agent_id}."""
    found: dict[str, dict[str, Any]] = {}
    with db.transaction() as session:
        for name, skills in (("ann", {"billing": 3, "general": 2}), ("ben", {"technical": 2})):
            agent = add_agent(session, name=name, endpoint=f"client:{name}", skills=skills,
                              now=clock.now())
            _, token = add_user(session, username=name, password=PASSWORD, role="agent",
                                now=clock.now(), agent_id=agent.id)
            found[name] = {"token": token, "agent_id": agent.id}
        for name, role in (("sue", "supervisor"), ("ada", "admin")):
            _, token = add_user(session, username=name, password=PASSWORD, role=role,
                                now=clock.now())
            found[name] = {"token": token, "agent_id": None}
    return found


def csrf_of(page: str) -> str:
    match = TOKEN.search(page)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Sign in through the form as a browser would; returns the form's answer."""
    token = csrf_of(client.get("/signin").get_data(as_text=True))
    return client.post("/signin", data={"username": username, "password": password,
                                        "csrf_token": token})


@pytest.fixture
def signed_in(app, people):
    """A new browser (test client) signed in as `name`, with its page token at hand."""

    def make(name: str) -> Any:
        browser = app.test_client()
        answer = sign_in(browser, name)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        home = browser.get(answer.headers["Location"])
        browser.csrf = csrf_of(home.get_data(as_text=True))
        return browser

    return make
