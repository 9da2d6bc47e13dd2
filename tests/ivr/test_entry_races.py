"""A webhook that read a caller's queue entry, and the router reserving that entry before the
webhook writes: on PostgreSQL both run at once. The webhook must not overwrite the
reservation (the agent would stay reserved for a call that is over); it does its work again
on what is there now."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from ivr.api import views as api_views
from ivr.calls.models import Call, CallEvent
from ivr.routing import queue, reservations, transfer
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.routing.presence import set_state
from ivr.routing.router import sweep
from ivr.users.service import add_user

from webhooks import Caller, in_db


@pytest.fixture
def postgresql_only(db):
    if db.is_sqlite:
        pytest.skip("SQLite's writer holds the database from BEGIN: no router can reserve "
                    "between a webhook's read and its write")


class RouterRound:
    """A router's round in a transaction of its own, run once, just after the first call of
    a read (`module.name`) has returned what it read (`before`: just before a step that
    acts on what was read): the round may take the rows the read saw before the reader
    writes. `made`: the reservations it made (ids)."""

    def __init__(self, app, monkeypatch, module, name, *, wait: float = 10,
                 before: bool = False) -> None:
        self.rt = app.extensions["ivr"]
        self.made: list[int] = []
        self.thread: threading.Thread | None = None
        original = getattr(module, name)

        def read_then_round(*args, **kwargs):
            if before:
                self._once(wait)
            found = original(*args, **kwargs)
            self._once(wait)
            return found

        monkeypatch.setattr(module, name, read_then_round)

    def _once(self, wait: float) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._round)
            self.thread.start()
            self.thread.join(wait)

    def _round(self) -> None:
        rt = self.rt
        self.made.extend(rt.db.run(
            lambda session: [r.id for r in sweep(session, now=rt.clock.now(), policy=rt.policy)]))

    def finish(self) -> None:
        assert self.thread is not None, "the read never ran"
        self.thread.join(10)
        assert not self.thread.is_alive()


def waiting_caller_and_free_agent(db, carrier_post, clock, name="hal", number="+15551230001"):
    caller = Caller(carrier_post, number=number)
    caller.press(caller.ring(), "0")  # straight to a person: the general queue
    with db.transaction() as session:
        agent = add_agent(session, name=name, endpoint=f"client:{name}",
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
    raced = RouterRound(app, monkeypatch, queue, "waiting_entry")

    response = carrier_post("/voice/queue/result", caller.form(QueueResult="hangup"))
    assert response.status_code == 200
    raced.finish()
    assert len(raced.made) == 1
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
    raced = RouterRound(app, monkeypatch, queue, "call_entries")

    response = caller.status("completed")
    assert response.status_code == 204
    raced.finish()
    assert len(raced.made) == 1
    assert outcome_of(db, caller, agent_id) == {
        "outcome": "abandoned", "entry": "abandoned", "reservation": "canceled",
        "agent": "available", "abandoned_events": 1}


def test_a_state_change_read_before_the_router_reserved_does_not_overwrite_the_reservation(
    app, db, client, carrier_post, clock, monkeypatch, postgresql_only
):
    """The agent asks for a break while a caller waits: either the router took them first
    (the change is refused, they are on a call) or the break stands and the caller waits on;
    never a break with a call ringing."""

    _, agent_id = waiting_caller_and_free_agent(db, carrier_post, clock)
    with db.transaction() as session:
        _, token = add_user(session, username="hal", password="pw-123", role="agent",
                            now=clock.now(), agent_id=agent_id)
    raced = RouterRound(app, monkeypatch, api_views, "agent_or_404")
    response = client.put(f"/api/agents/{agent_id}/state",
                          json={"state": "not-ready", "reason": "break"},
                          headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200
    raced.finish()
    assert raced.made == []  # the router passed the agent over while the change held the row
    with db.transaction() as session:
        assert session.get(Agent, agent_id).state == "not-ready"
        assert session.scalar(select(func.count(Reservation.id))) == 0
        assert session.scalar(select(QueueEntry.status)) == "waiting"


def test_signing_out_during_wrap_up_is_not_undone_by_the_wrap_up_timer(
    app, db, client, clock, monkeypatch, postgresql_only
):
    """The agent signs out just as their wrap-up time ends: the router's round, ending
    wrap-ups meanwhile, leaves them for the next round instead of making them available."""

    with db.transaction() as session:
        agent = add_agent(session, name="hal", endpoint="client:hal",
                          skills={"general": 1}, now=clock.now())
        set_state(session, agent=agent, state="wrap-up", now=clock.now())
        agent.wrapup_until = clock.now() - timedelta(seconds=1)
        session.flush()
        agent_id = agent.id
        _, token = add_user(session, username="hal", password="pw-123", role="agent",
                            now=clock.now(), agent_id=agent_id)
    # The round waits for the change's lock (without the skip) or passes the agent over.
    router = RouterRound(app, monkeypatch, api_views, "agent_or_404", wait=2)
    response = client.put(f"/api/agents/{agent_id}/state", json={"state": "offline"},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    router.finish()
    with db.transaction() as session:
        assert session.get(Agent, agent_id).state == "offline"


def test_a_transfer_to_a_named_agent_and_the_router_never_give_them_two_calls(
    app, db, client, carrier_post, clock, monkeypatch, postgresql_only
):
    """ann, on a call, transfers it to ben, who is free, as a waiting caller could be given
    to ben: one of the two gets him, never both."""
    first, ann = waiting_caller_and_free_agent(db, carrier_post, clock, name="ann")
    rt = app.extensions["ivr"]
    with db.transaction() as session:
        [reservation] = sweep(session, now=clock.now(), policy=rt.policy)
        reservations.answered(session, reservation=reservation, now=clock.now(),
                              agent_call_sid="CA" + "a" * 32)
        call_id = reservation.call_id
        _, token = add_user(session, username="ann", password="pw-123", role="agent",
                            now=clock.now(), agent_id=ann)
    _, ben = waiting_caller_and_free_agent(db, carrier_post, clock, name="ben",
                                           number="+15551230002")
    redirected = []
    monkeypatch.setattr(rt.telephony, "redirect", lambda sid, url: redirected.append(url))
    router = RouterRound(app, monkeypatch, transfer, "to_agent", before=True)

    response = client.post(f"/api/calls/{call_id}/transfer",
                           json={"agent": "ben", "note": "wants a refund"},
                           headers={"Authorization": f"Bearer {token}"})
    router.finish()

    assert response.status_code == 200, response.get_json()
    assert router.made == []  # the router passed ben over while the transfer held his row
    with db.transaction() as session:
        bens = session.scalars(select(Reservation).where(
            Reservation.agent_id == ben, Reservation.status.in_(("offered", "connected")))).all()
        assert [r.call_id for r in bens] == [call_id]
        assert session.get(Agent, ben).state == "reserved"
    assert redirected == [f"{rt.settings.public_url}/voice/connect/{bens[0].id}"]


def bump_behind_the_sessions_back(session, entry):
    """What another transaction's change looks like to this one: the row's version moved on
    (done here in the same transaction, with SQL the session does not see)."""
    session.execute(update(QueueEntry).where(QueueEntry.id == entry.id)
                    .values(version=QueueEntry.version + 1, note="theirs")
                    .execution_options(synchronize_session=False))


def test_work_that_wrote_over_a_changed_entry_is_done_again_and_the_first_try_left_nothing(
    db, carrier_post
):
    caller = Caller(carrier_post)
    caller.press(caller.ring(), "0")
    tries = []

    def work(session):
        entry = session.scalar(select(QueueEntry))
        tries.append((entry.version, entry.note))
        if len(tries) == 1:
            bump_behind_the_sessions_back(session, entry)
        entry.note = "ours"
        return entry.id

    db.run(work)
    assert tries == [(1, None), (1, None)]  # the second try read the row afresh
    assert in_db(db, select(QueueEntry.note)) == "ours"
    assert in_db(db, select(QueueEntry.version)) == 2


def test_work_that_keeps_losing_the_race_fails_after_its_tries(db, carrier_post):
    caller = Caller(carrier_post)
    caller.press(caller.ring(), "0")
    tries = []

    def work(session):
        entry = session.scalar(select(QueueEntry))
        tries.append(entry.version)
        bump_behind_the_sessions_back(session, entry)
        entry.note = "ours"

    with pytest.raises(StaleDataError):
        db.run(work, attempts=3)
    assert tries == [1, 1, 1]
    assert in_db(db, select(QueueEntry.note)) is None
