"""Wrap-up: the agent who talked to the caller records the request category (from the report
policy's list), whether it was resolved, and notes; saving it ends their wrap-up time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent, CallWrapUp
from ivr.routing import queue, reservations
from ivr.routing.models import Agent
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep


def bearer(people, name):
    return {"Authorization": f"Bearer {people[name]['token']}"}


@pytest.fixture
def handled(db, clock, people):
    """A billing call ann answered and finished: she is in wrap-up. Returns the call's id."""
    with db.transaction() as session:
        call = Call(sid="CA" + "7" * 32, from_number="+15551230007", to_number="+15005550006",
                    started_at=clock.now(), status="in-progress")
        session.add(call)
        session.flush()
        queue.enqueue(session, call=call, skills={"billing": 1}, priority=0, reasons=[],
                      now=clock.now())
        set_state(session, agent=session.get(Agent, people["ann"]["agent_id"]),
                  state="available", now=clock.now())
        call_id = call.id
    with db.transaction() as session:
        [reservation] = sweep(session, now=clock.now(), policy=RoutingPolicy())
        reservations.answered(session, reservation=reservation, now=clock.now(),
                              agent_call_sid=None)
    clock.advance(90)
    with db.transaction() as session:
        reservation = reservations.active_for_call(session, call_id=call_id)
        reservations.finished(session, reservation=reservation, now=clock.now(),
                              wrap_up_seconds=120)
    return call_id


def test_the_categories_come_from_the_report_policy(client, people, app):
    answer = client.get("/api/wrapup/categories", headers=bearer(people, "ann"))
    assert answer.status_code == 200
    assert answer.get_json()["categories"] == list(app.extensions["ivr"].reports.categories)
    assert "payment problem" in answer.get_json()["categories"]


def test_the_agent_wraps_up_and_is_free_again(client, people, handled, db, clock):
    clock.advance(20)
    answer = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "ann"),
                         json={"category": "payment problem", "resolved": True,
                               "notes": "  charged twice; refund sent  "})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json() | {"at": None} == {
        "call_id": handled, "agent_id": people["ann"]["agent_id"], "category": "payment problem",
        "resolved": True, "notes": "charged twice; refund sent", "at": None}
    with db.transaction() as session:
        ann = session.get(Agent, people["ann"]["agent_id"])
        assert (ann.state, ann.wrapup_until) == ("available", None)
        event = session.scalar(select(CallEvent).where(CallEvent.kind == "call.wrapped_up"))
        assert event.call_id == handled and event.agent_id == ann.id
        assert event.data == {"category": "payment problem", "resolved": True,
                              "corrected": False}
    detail = client.get(f"/api/calls/{handled}", headers=bearer(people, "ann")).get_json()
    assert [w["category"] for w in detail["wrap_ups"]] == ["payment problem"]


def test_a_second_save_corrects_the_wrap_up_instead_of_adding_one(client, people, handled, db):
    for category in ("billing question", "complaint"):
        answer = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "ann"),
                             json={"category": category})
        assert answer.status_code == 201
    with db.transaction() as session:
        saved = session.scalars(select(CallWrapUp)).all()
        assert [(w.category, w.resolved) for w in saved] == [("complaint", False)]
        corrected = session.scalars(select(CallEvent.data).where(
            CallEvent.kind == "call.wrapped_up").order_by(CallEvent.id)).all()
        assert [c["corrected"] for c in corrected] == [False, True]


@pytest.mark.parametrize(("payload", "reason"), [
    ({"category": "lottery"}, "is not in the list"),
    ({"category": ""}, "'category'"),
    ({"category": "complaint", "resolved": "yes"}, "'resolved'"),
    ({"category": "complaint", "notes": 12}, "'notes'"),
    ({"category": "complaint", "notes": "x" * 4001}, "4000 characters"),
])
def test_a_bad_wrap_up_is_refused_with_the_field_and_nothing_is_saved(
    client, people, handled, db, payload, reason
):
    answer = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "ann"),
                         json=payload)
    assert answer.status_code == 400
    assert reason in answer.get_json()["reason"]
    with db.transaction() as session:
        assert session.scalars(select(CallWrapUp)).all() == []
        assert session.get(Agent, people["ann"]["agent_id"]).state == "wrap-up"


def test_only_the_agent_who_talked_to_the_caller_wraps_up(client, people, handled, db):
    ben = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "ben"),
                      json={"category": "complaint"})
    assert ben.status_code == 409
    assert "did not talk to the caller" in ben.get_json()["reason"]
    for_ann = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "ben"),
                          json={"category": "complaint", "agent_id": people["ann"]["agent_id"]})
    assert for_ann.status_code == 403
    unnamed = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "sue"),
                          json={"category": "complaint"})
    assert unnamed.status_code == 400
    by_sue = client.post(f"/api/calls/{handled}/wrap-up", headers=bearer(people, "sue"),
                         json={"category": "complaint", "agent_id": people["ann"]["agent_id"]})
    assert by_sue.status_code == 201
    assert client.post("/api/calls/9999/wrap-up", headers=bearer(people, "ann"),
                       json={"category": "complaint"}).status_code == 404
    with db.transaction() as session:
        assert [w.agent_id for w in session.scalars(select(CallWrapUp))] == [
            people["ann"]["agent_id"]]
