"""The JSON API: token auth and roles, presence, the live queue, the screen pop, notes, and the
OpenAPI document describing every route."""

from __future__ import annotations

import pytest

from ivr.routing import reservations
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent
from ivr.routing.policy import RoutingPolicy
from ivr.routing.router import sweep
from ivr.users.service import add_user

from webhooks import Caller


@pytest.fixture
def people(db, clock):
    """Two agents with sign-ins, and a supervisor; returns name -> (token, agent id)."""
    found = {}
    with db.transaction() as session:
        for name, skills in (("ann", {"billing": 3, "general": 2}), ("ben", {"technical": 2})):
            agent = add_agent(
                session, name=name, endpoint=f"client:{name}", skills=skills, now=clock.now()
            )
            _, token = add_user(
                session,
                username=name,
                password="pw-123",
                role="agent",
                now=clock.now(),
                agent_id=agent.id,
            )
            found[name] = (token, agent.id)
        _, token = add_user(
            session, username="sue", password="pw-123", role="supervisor", now=clock.now()
        )
        found["sue"] = (token, None)
    return found


def auth(people, name):
    return {"Authorization": f"Bearer {people[name][0]}"}


def test_the_api_needs_a_token(client):
    response = client.get("/api/agents")
    assert response.status_code == 401
    assert "Bearer" in response.get_json()["reason"]
    assert client.get("/api/agents", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_an_agent_goes_available_and_the_change_is_timestamped(client, people, clock):
    ann = people["ann"][1]
    clock.advance(5)
    response = client.put(
        f"/api/agents/{ann}/state", json={"state": "available"}, headers=auth(people, "ann")
    )
    assert response.status_code == 200
    view = response.get_json()
    assert view["state"] == "available"
    assert view["state_since"] == clock.now().isoformat()
    detail = client.get(f"/api/calls/{0}", headers=auth(people, "sue"))
    assert detail.status_code == 404


def test_not_ready_needs_a_reason(client, people):
    ann = people["ann"][1]
    response = client.put(
        f"/api/agents/{ann}/state", json={"state": "not-ready"}, headers=auth(people, "ann")
    )
    assert response.status_code == 409
    assert "reason" in response.get_json()["reason"]
    response = client.put(
        f"/api/agents/{ann}/state",
        json={"state": "not-ready", "reason": "training"},
        headers=auth(people, "ann"),
    )
    assert response.get_json()["reason"] == "training"


def test_an_agent_cannot_change_another_agents_state_but_a_supervisor_can(client, people):
    ben = people["ben"][1]
    refused = client.put(
        f"/api/agents/{ben}/state", json={"state": "available"}, headers=auth(people, "ann")
    )
    assert refused.status_code == 403
    allowed = client.put(
        f"/api/agents/{ben}/state", json={"state": "available"}, headers=auth(people, "sue")
    )
    assert allowed.status_code == 200


@pytest.mark.parametrize("payload", [None, {"state": 5}, {"state": "busy"}, {"state": "asleep"}])
def test_bad_state_changes_get_a_clear_4xx(client, people, payload):
    ann = people["ann"][1]
    response = client.put(f"/api/agents/{ann}/state", json=payload, headers=auth(people, "ann"))
    assert 400 <= response.status_code < 500
    assert response.get_json()["reason"]


def test_calls_list_is_for_supervisors(client, people):
    assert client.get("/api/calls", headers=auth(people, "ann")).status_code == 403
    assert client.get("/api/calls", headers=auth(people, "sue")).status_code == 200
    bad = client.get("/api/calls?date=yesterday", headers=auth(people, "sue"))
    assert bad.status_code == 400


def test_the_live_queue_shows_positions_and_estimates_per_skill(client, people, carrier_post):
    first, second = Caller(carrier_post, "+15551230101"), Caller(carrier_post, "+15551230102")
    for caller in (first, second):
        caller.say(caller.to_main_menu(), "billing")
    queue = client.get("/api/queue", headers=auth(people, "ann")).get_json()
    (billing,) = [s for s in queue["skills"] if s["skill"] == "billing"]
    assert billing["waiting"] == 2
    assert [e["position"] for e in billing["entries"]] == [1, 2]
    assert billing["entries"][0]["caller"]["number"] == "+15551230101"
    # ann (billing 3) is signed out: nobody can take the call, so no estimate is invented.
    assert billing["entries"][0]["estimated_wait_seconds"] is None


def test_the_screen_pop_shows_caller_path_priority_and_notes(
    client, db, people, carrier_post, clock
):
    earlier = Caller(carrier_post, "+15551230103")
    earlier.press(earlier.ring(), "0")
    earlier.status("completed", CallDuration="30")
    clock.advance(600)
    caller = Caller(carrier_post, "+15551230103")
    caller.say(caller.to_main_menu(), "my invoice is wrong")
    ann = people["ann"][1]
    client.put(f"/api/agents/{ann}/state", json={"state": "available"}, headers=auth(people, "ann"))
    with db.transaction() as session:
        (reservation,) = sweep(session, now=clock.now(), policy=RoutingPolicy())
        call_id = reservation.call_id
    note = client.post(
        f"/api/calls/{call_id}/notes",
        json={"text": "asked about invoice 42"},
        headers=auth(people, "sue"),
    )
    assert note.status_code == 201
    pop = client.get(f"/api/agents/{ann}/call", headers=auth(people, "ann")).get_json()
    assert pop["caller"]["number"] == "+15551230103"
    assert pop["caller"]["repeat_today"] is True
    assert [step["node"] for step in pop["ivr_path"]][:2] == ["notice", "open_check"]
    assert any(step.get("input") == "my invoice is wrong" for step in pop["ivr_path"])
    assert pop["skills"] == {"billing": 1}
    assert pop["priority_reasons"]
    assert len(pop["earlier_today"]) == 1
    assert pop["notes"][0]["text"] == "asked about invoice 42"
    assert client.get(f"/api/agents/{ann}/call", headers=auth(people, "ben")).status_code == 403
    with db.transaction() as session:
        reservation = reservations.active_for_agent(session, agent_id=ann)
        assert session.get(Agent, ann).state == "reserved"


def test_an_agent_with_no_call_gets_204(client, people):
    ben = people["ben"][1]
    assert client.get(f"/api/agents/{ben}/call", headers=auth(people, "ben")).status_code == 204


def test_the_openapi_document_describes_every_api_route(app, client):
    document = client.get("/api/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    described = {(path, method) for path, ops in document["paths"].items() for method in ops}
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            routes.add((path, method.lower()))
    assert routes == described


def test_a_change_that_lost_a_race_gets_a_409_with_a_reason_and_writes_nothing(
    client, people, monkeypatch
):
    from sqlalchemy.orm.exc import StaleDataError

    from ivr.api import views as api_views

    def lost(*_args, **_kwargs):
        raise StaleDataError("UPDATE statement on table 'agents' expected to update 1 row(s)")

    monkeypatch.setattr(api_views, "choose_state", lost)
    ann = people["ann"][1]
    response = client.put(
        f"/api/agents/{ann}/state", json={"state": "available"}, headers=auth(people, "ann")
    )
    assert response.status_code == 409
    assert "changed while this request was handled" in response.get_json()["reason"]
    monkeypatch.undo()
    view = client.get(f"/api/agents/{ann}", headers=auth(people, "ann")).get_json()
    assert view["state"] == "offline"
