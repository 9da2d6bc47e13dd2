"""The cases API: who sees what, editing status, priority, notes, closing, moving a call at
wrap-up, incidents and the report, with clear 4xx errors."""

from __future__ import annotations

import pytest

from ivr.calls.models import Call
from ivr.cases import service as cases
from ivr.routing.agents import add_agent
from ivr.users.service import add_user


@pytest.fixture
def world(db, clock, app):
    rt = app.extensions["ivr"]
    with db.transaction() as session:
        agent = add_agent(session, name="ann", endpoint="client:ann", skills={"billing": 2},
                          now=clock.now())
        _, ann = add_user(session, username="ann", password="pw-123", role="agent",
                          now=clock.now(), agent_id=agent.id)
        _, sue = add_user(session, username="sue", password="pw-123", role="supervisor",
                          now=clock.now())
        calls = []
        for n in range(2):
            call = Call(sid=f"CA{n + 1:032x}", from_number="+12125550140",
                        to_number="+15005550006", started_at=clock.now(), path=[],
                        vars={"topic": "billing"})
            session.add(call)
            session.flush()
            calls.append(call.id)
        case = cases.open_case(session, call=session.get(Call, calls[0]), subject="billing",
                               skill="billing", now=clock.now(), calendar=rt.calendar,
                               policy=rt.cases, owner_agent_id=agent.id)
        number = case.number
    return {"ann": {"Authorization": f"Bearer {ann}"}, "sue": {"Authorization": f"Bearer {sue}"},
            "case": number, "calls": calls}


def test_agents_see_their_cases_and_supervisors_all(client, world):
    mine = client.get("/api/cases", headers=world["ann"]).get_json()["cases"]
    assert [c["number"] for c in mine] == [world["case"]]
    detail = client.get(f"/api/cases/{world['case']}", headers=world["ann"]).get_json()
    assert detail["owner"] == "ann" and detail["calls"][0]["call_id"] == world["calls"][0]
    assert {c["kind"] for c in detail["clocks"]} == {"response", "resolution", "courtesy"}
    assert client.get("/api/cases/000000", headers=world["ann"]).status_code == 404


def test_editing_a_case(client, world):
    number, ann = world["case"], world["ann"]
    waiting = client.patch(f"/api/cases/{number}", json={"status": "waiting-on-customer",
                                                         "category": "refund"}, headers=ann)
    assert waiting.get_json()["status"] == "waiting-on-customer"
    assert waiting.get_json()["category"] == "refund"
    bad = client.patch(f"/api/cases/{number}", json={"status": "asleep"}, headers=ann)
    assert bad.status_code == 409 and "status must be one of" in bad.get_json()["reason"]
    no_reason = client.post(f"/api/cases/{number}/priority",
                            json={"impact": "everyone", "urgency": "outage"}, headers=ann)
    assert no_reason.status_code == 400
    raised = client.post(f"/api/cases/{number}/priority",
                         json={"impact": "everyone", "urgency": "outage",
                               "reason": "whole floor down"}, headers=ann)
    assert raised.get_json()["priority"] == "P1"
    note = client.post(f"/api/cases/{number}/notes", json={"text": "sent the form"},
                       headers=ann)
    assert note.status_code == 201
    wrong = client.post(f"/api/cases/{number}/close",
                        json={"outcome": "shrug", "first_contact": False}, headers=ann)
    assert wrong.status_code == 409
    closed = client.post(f"/api/cases/{number}/close",
                         json={"outcome": "known issue", "first_contact": False}, headers=ann)
    assert closed.get_json()["status"] == "closed"
    timeline = client.get(f"/api/cases/{number}", headers=ann).get_json()["timeline"]
    kinds = [item["kind"] for item in timeline]
    assert {"case.opened", "case.priority_changed", "case.note", "case.closed"} <= set(kinds)


def test_moving_a_call_to_a_case_or_a_new_one_at_wrap_up(client, world):
    number, second = world["case"], world["calls"][1]
    joined = client.put(f"/api/calls/{second}/case", json={"case": number},
                        headers=world["ann"])
    assert joined.get_json()["number"] == number
    fresh = client.put(f"/api/calls/{second}/case", json={"case": "new"}, headers=world["ann"])
    assert fresh.get_json()["number"] != number
    missing = client.put(f"/api/calls/{second}/case", json={"case": "123456"},
                         headers=world["ann"])
    assert missing.status_code in (404, 409)


def test_incidents_are_declared_and_cleared_by_supervisors(client, world):
    refused = client.post("/api/incidents", json={"subject": "billing", "message": "down"},
                          headers=world["ann"])
    assert refused.status_code == 403
    made = client.post("/api/incidents", json={"subject": "billing", "message": "down"},
                       headers=world["sue"])
    assert made.status_code == 201
    twice = client.post("/api/incidents", json={"subject": "billing", "message": "again"},
                        headers=world["sue"])
    assert twice.status_code == 409 and "already active" in twice.get_json()["reason"]
    incident = made.get_json()["id"]
    cleared = client.post(f"/api/incidents/{incident}/clear", json={"message": "fixed"},
                          headers=world["sue"])
    assert cleared.get_json()["cleared_at"] is not None
    again = client.post(f"/api/incidents/{incident}/clear", json={}, headers=world["sue"])
    assert again.status_code == 409


def test_the_case_report_through_the_api(client, world, clock):
    month = clock.now().strftime("%Y-%m")
    report = client.get(f"/api/reports/cases?month={month}", headers=world["sue"]).get_json()
    assert report["opened"] == 1 and report["still_open"] == 1
    assert client.get("/api/reports/cases?month=13-2026",
                      headers=world["sue"]).status_code == 400
    assert client.get("/api/reports/cases", headers=world["ann"]).status_code == 403
