"""The admin page: users, agents with skills, skills, and the flow through the linter."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from ivr.routing.models import Agent, Skill
from ivr.settings import DEFAULT_FLOW
from ivr.users.models import User

from conftest import make_settings


def test_an_admin_adds_an_agent_with_skills_and_a_user_for_them(signed_in, db):
    ada = signed_in("ada")
    added = ada.post("/admin/agents", data={"agent-name": "cleo", "agent-endpoint": "",
                                            "agent-skills": "billing:4, spanish",
                                            "csrf_token": ada.csrf})
    assert added.status_code == 302
    with db.transaction() as session:
        cleo = session.scalar(select(Agent).where(Agent.name == "cleo"))
        assert (cleo.endpoint, cleo.level("billing"), cleo.level("spanish")) == (
            "client:cleo", 4, 1)
        cleo_id = cleo.id
    user = ada.post("/admin/users", data={"user-username": "cleo", "user-password": "pw-5678",
                                          "user-role": "agent", "user-agent": str(cleo_id),
                                          "csrf_token": ada.csrf})
    assert user.status_code == 302
    with db.transaction() as session:
        assert session.scalar(select(User).where(User.username == "cleo")).agent_id == cleo_id
    page = ada.get("/admin").get_data(as_text=True)
    assert "cleo" in page and "billing:4" in page


def test_bad_admin_input_is_refused_with_the_reason(signed_in):
    ada = signed_in("ada")
    bad_level = ada.post("/admin/agents", data={"agent-name": "dan", "agent-skills": "billing:9",
                                                "csrf_token": ada.csrf})
    assert bad_level.status_code == 400
    assert "the level must be 1-5" in bad_level.get_data(as_text=True)
    no_agent = ada.post("/admin/users", data={"user-username": "eve", "user-password": "pw-5678",
                                              "user-role": "agent", "user-agent": "",
                                              "csrf_token": ada.csrf})
    assert no_agent.status_code == 400
    assert "choose it" in no_agent.get_data(as_text=True)
    duplicate = ada.post("/admin/users", data={"user-username": "sue", "user-password": "pw-5678",
                                               "user-role": "supervisor", "csrf_token": ada.csrf})
    assert "already exists" in duplicate.get_data(as_text=True)


def test_an_admin_adds_a_skill_and_sets_an_agent_skills(signed_in, people, db):
    ada = signed_in("ada")
    assert ada.post("/admin/skills", data={"skill-name": "french", "skill-description": "FR",
                                           "csrf_token": ada.csrf}).status_code == 302
    assert ada.post("/admin/agents/skills", data={"skills-agent": str(people["ben"]["agent_id"]),
                                                  "skills-skills": "french:3",
                                                  "csrf_token": ada.csrf}).status_code == 302
    with db.transaction() as session:
        assert session.scalar(select(Skill.description).where(Skill.name == "french")) == "FR"
        assert session.get(Agent, people["ben"]["agent_id"]).level("french") == 3


def test_a_supervisor_cannot_post_to_the_admin_page(signed_in):
    sue = signed_in("sue")
    answer = sue.post("/admin/skills", data={"skill-name": "x", "csrf_token": sue.csrf})
    assert answer.status_code == 403


@pytest.fixture
def flow_copy(tmp_path: Path) -> Path:
    path = tmp_path / "support.yaml"
    path.write_text(DEFAULT_FLOW.read_text(encoding="utf-8"), encoding="utf-8")
    return path


@pytest.fixture
def flow_admin(database_url, tmp_path, clock, flow_copy):
    """An app whose flow is a copy the test may change, with an admin signed in."""
    from ivr.app import create_app
    from ivr.users.service import add_user

    from .conftest import PASSWORD, csrf_of, sign_in

    application = create_app(make_settings(database_url, tmp_path, flow=flow_copy), clock=clock)
    with application.extensions["ivr"].db.transaction() as session:
        add_user(session, username="ada", password=PASSWORD, role="admin", now=clock.now())
    browser = application.test_client()
    sign_in(browser, "ada")
    page = browser.get("/admin/flow")
    browser.csrf = csrf_of(page.get_data(as_text=True))
    yield application, browser, page
    application.extensions["ivr"].db.dispose()


def test_a_broken_flow_is_refused_with_the_linter_messages_and_the_file_is_kept(
    flow_admin, flow_copy
):
    application, browser, page = flow_admin
    before = flow_copy.read_text(encoding="utf-8")
    assert "main_menu" in page.get_data(as_text=True)
    broken = before.replace("next: billing_queue", "next: no_such_node", 1)
    assert broken != before
    answer = browser.post("/admin/flow", data={"text": broken, "csrf_token": browser.csrf})
    assert answer.status_code == 400
    text = answer.get_data(as_text=True)
    assert "Not saved: the linter found" in text and "no_such_node" in text
    assert flow_copy.read_text(encoding="utf-8") == before


def test_a_good_flow_is_saved_and_loaded_at_once(flow_admin, flow_copy):
    application, browser, _ = flow_admin
    changed = flow_copy.read_text(encoding="utf-8") + "\n# changed on the admin page\n"
    answer = browser.post("/admin/flow", data={"text": changed, "csrf_token": browser.csrf})
    assert answer.status_code == 302
    assert flow_copy.read_text(encoding="utf-8") == changed
    assert application.extensions["ivr"].flows.last_error is None
