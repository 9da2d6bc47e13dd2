"""A webhook that read a caller's queue entry, and the router reserving that entry before the
webhook writes: on PostgreSQL both run at once. The webhook must not overwrite the
reservation (the agent would stay reserved for a call that is over); it does its work again
on what is there now."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from ivr.calls.models import Call, CallEvent
from ivr.routing import queue
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.routing.presence import set_state
from ivr.routing.router import sweep

from webhooks import Caller, in_db


@pytest.fixture
def postgresql_only(db):
    if db.is_sqlite:
        pytest.skip("SQLite's writer holds the database from BEGIN: no router can reserve "
                    "between a webhook's read and its write")


def router_reserves_meanwhile(app, monkeypatch, module, name):
    """`module.name` (a read of the caller's entry) returns what it read, after the router
    reserved that entry in a transaction of its own; only the first time."""
    rt = app.extensions["ivr"]
    original = getattr(module, name)
    raced = []

    def read_then_race(session, **kwargs):
        found = original(session, **kwargs)
        if not raced:
            router = threading.Thread(target=lambda: raced.extend(rt.db.run(
                lambda other: [r.id for r in sweep(other, now=rt.clock.now(), policy=rt.policy)])))
            router.start()
            router.join(10)
        return found

    monkeypatch.setattr(module, name, read_then_race)
    return raced


def waiting_caller_and_free_agent(db, carrier_post, clock):
    caller = Caller(carrier_post)
    caller.press(caller.ring(), "0")  # straight to a person: the general queue
    with db.transaction() as session:
        agent = add_agent(session, name="hal", endpoint="client:hal",
                          skills={"general": 1}, now=clock.now())
        set_state(session, agent=agent, state="available", now=clock.now())
        session.flush()
        agent_id = agent.id
    return caller, agent_id


def outcome_of(db, caller, agent_id):
    with db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == caller.sid))
        entry = session.scalar(select(QueueEntry).where(QueueEntry.call_id == call.id))
        reservation = session.scalar(select(Reservation).where(Reservation.call_id == call.id))
        return {
            "outcome": call.outcome,
            "entry": entry.status,
            "reservation": reservation.status,
            "agent": session.get(Agent, agent_id).state,
            "abandoned_events": session.scalar(
                select(func.count(CallEvent.id))
                .where(CallEvent.call_id == call.id, CallEvent.kind == "queue.abandoned")),
        }


def test_a_hangup_read_before_the_router_reserved_leaves_the_reservation_to_the_call_end(
    app, db, carrier_post, clock, monkeypatch, postgresql_only
):
    caller, agent_id = waiting_caller_and_free_agent(db, carrier_post, clock)
    raced = router_reserves_meanwhile(app, monkeypatch, queue, "waiting_entry")

    response = carrier_post("/voice/queue/result", caller.form(QueueResult="hangup"))
    assert response.status_code == 200
    assert len(raced) == 1
    # The reservation stands; the end of the call releases the agent.
    assert in_db(db, select(Reservation.status)) == "offered"
    caller.status("completed")

    assert outcome_of(db, caller, agent_id) == {
        "outcome": "abandoned", "entry": "abandoned", "reservation": "canceled",
        "agent": "available", "abandoned_events": 1}


def test_a_call_end_read_before_the_router_reserved_still_releases_the_agent(
    app, db, carrier_post, clock, monkeypatch, postgresql_only
):
    caller, agent_id = waiting_caller_and_free_agent(db, carrier_post, clock)
    raced = router_reserves_meanwhile(app, monkeypatch, queue, "call_entries")

    response = caller.status("completed")
    assert response.status_code == 204
    assert len(raced) == 1
    assert outcome_of(db, caller, agent_id) == {
        "outcome": "abandoned", "entry": "abandoned", "reservation": "canceled",
        "agent": "available", "abandoned_events": 1}


def test_a_state_change_read_before_the_router_reserved_does_not_overwrite_the_reservation(
    app, db, client, carrier_post, clock, monkeypatch, postgresql_only
):
    """The agent asks for a break while a caller waits: either the router took them first
    (the change is refused, they are on a call) or the break stands and the caller waits on;
    never a break with a call ringing."""
    from ivr.api import views as api_views
    from ivr.users.service import add_user

    caller, agent_id = waiting_caller_and_free_agent(db, carrier_post, clock)
    with db.transaction() as session:
        _, token = add_user(session, username="hal", password="pw-123", role="agent",
                            now=clock.now(), agent_id=agent_id)
    rt = app.extensions["ivr"]
    original = api_views.agent_or_404
    raced = []

    def read_then_race(session, ident, **kwargs):
        found = original(session, ident, **kwargs)
        router = threading.Thread(target=lambda: raced.extend(rt.db.run(
            lambda other: [r.id for r in sweep(other, now=rt.clock.now(), policy=rt.policy)])))
        router.start()
        router.join(10)
        return found

    monkeypatch.setattr(api_views, "agent_or_404", read_then_race)
    response = client.put(f"/api/agents/{agent_id}/state",
                          json={"state": "not-ready", "reason": "break"},
                          headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    assert raced == []  # the router passed the agent over while the change held the row
    with db.transaction() as session:
        assert session.get(Agent, agent_id).state == "not-ready"
        assert session.scalar(select(func.count(Reservation.id))) == 0
        assert session.scalar(select(QueueEntry.status)) == "waiting"


def test_signing_out_during_wrap_up_is_not_undone_by_the_wrap_up_timer(
    app, db, client, clock, monkeypatch, postgresql_only
):
    """The agent signs out just as their wrap-up time ends: the router's round, ending
    wrap-ups meanwhile, leaves them for the next round instead of making them available."""
    from datetime import timedelta

    from ivr.api import views as api_views
    from ivr.users.service import add_user

    with db.transaction() as session:
        agent = add_agent(session, name="hal", endpoint="client:hal",
                          skills={"general": 1}, now=clock.now())
        set_state(session, agent=agent, state="wrap-up", now=clock.now())
        agent.wrapup_until = clock.now() - timedelta(seconds=1)
        session.flush()
        agent_id = agent.id
        _, token = add_user(session, username="hal", password="pw-123", role="agent",
                            now=clock.now(), agent_id=agent_id)
    rt = app.extensions["ivr"]
    original = api_views.agent_or_404
    rounds = []

    def read_then_round(session, ident, **kwargs):
        found = original(session, ident, **kwargs)
        router = threading.Thread(target=lambda: rt.db.run(
            lambda other: sweep(other, now=rt.clock.now(), policy=rt.policy)))
        router.start()
        router.join(2)
        rounds.append(router)
        return found

    monkeypatch.setattr(api_views, "agent_or_404", read_then_round)
    response = client.put(f"/api/agents/{agent_id}/state", json={"state": "offline"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    rounds[0].join(10)
    assert not rounds[0].is_alive()
    with db.transaction() as session:
        assert session.get(Agent, agent_id).state == "offline"
