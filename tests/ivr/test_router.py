"""The router's rules, with a session and a manual clock, on both engines."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from ivr.routing import queue, reservations
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import route_entry, sweep

POLICY = RoutingPolicy(aging_per_minute=0.5, expansion_seconds=60, wrap_up_seconds=30)
_numbers = itertools.count(100)


def new_agent(session, clock, name, skills, *, available=True):
    agent = add_agent(session, name=name, endpoint=f"client:{name}", skills=skills, now=clock.now())
    if available:
        set_state(session, agent=agent, state="available", now=clock.now())
    session.flush()
    return agent


def new_caller(session, clock, skills, priority=1):
    n = next(_numbers)
    call = Call(
        sid=f"CA{n:032x}",
        from_number=f"+1555123{n:04d}",
        to_number="+15005550006",
        started_at=clock.now(),
        path=[],
        vars={},
    )
    session.add(call)
    session.flush()
    return queue.enqueue(
        session, call=call, skills=skills, priority=priority, reasons=[], now=clock.now()
    )


def route(session, clock, policy=POLICY):
    made = sweep(session, now=clock.now(), policy=policy)
    session.flush()
    return {(r.entry_id, r.agent.name) for r in made}


def test_a_caller_reaches_an_agent_with_the_skill_and_not_one_without(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "billy", {"billing": 3})
        new_agent(session, clock, "tess", {"technical": 3})
        clock.advance(1)
        entry = new_caller(session, clock, {"technical": 2})
        made = route_entry(session, entry=entry, now=clock.now(), policy=POLICY)
        assert [r.agent.name for r in made] == ["tess"]
        assert entry.status == "reserved"
        assert session.get(Agent, made[0].agent_id).state == "reserved"


def test_a_higher_priority_caller_is_answered_first(db, clock):
    with db.transaction() as session:
        low = new_caller(session, clock, {"general": 1}, priority=1)
        clock.advance(5)
        high = new_caller(session, clock, {"general": 1}, priority=5)
        new_agent(session, clock, "gina", {"general": 1})
        assert route(session, clock) == {(high.id, "gina")}
        assert low.status == "waiting"


def test_aging_lets_an_old_low_priority_caller_through(db, clock):
    with db.transaction() as session:
        old = new_caller(session, clock, {"general": 1}, priority=1)
        clock.advance(timedelta(minutes=10))  # 1 + 0.5*10 = 6 > 5
        new_caller(session, clock, {"general": 1}, priority=5)
        new_agent(session, clock, "gina", {"general": 1})
        assert route(session, clock) == {(old.id, "gina")}


def test_same_priority_is_served_in_order_of_arrival(db, clock):
    with db.transaction() as session:
        first = new_caller(session, clock, {"general": 1})
        clock.advance(1)
        new_caller(session, clock, {"general": 1})
        new_agent(session, clock, "gina", {"general": 1})
        assert route(session, clock) == {(first.id, "gina")}


def test_skill_expansion_routes_to_a_lower_level_agent_after_the_wait(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "junior", {"technical": 2})
        entry = new_caller(session, clock, {"technical": 4})
        assert route(session, clock) == set()
        clock.advance(timedelta(seconds=119))  # one step: 3 is asked, junior has 2
        assert route(session, clock) == set()
        clock.advance(timedelta(seconds=1))  # two steps: 2 is asked
        assert route(session, clock) == {(entry.id, "junior")}


def test_skill_expansion_never_gives_a_caller_to_an_agent_without_the_skill(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "billy", {"billing": 5})
        new_caller(session, clock, {"technical": 1})
        clock.advance(timedelta(hours=2))
        assert route(session, clock) == set()


def test_every_required_skill_must_be_met(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "half", {"billing": 3})
        both = new_agent(session, clock, "both", {"billing": 3, "spanish": 2})
        clock.advance(1)
        set_state(session, agent=both, state="not-ready", reason="break", now=clock.now())
        entry = new_caller(session, clock, {"billing": 1, "spanish": 1})
        assert route(session, clock) == set()
        set_state(session, agent=both, state="available", now=clock.now())
        assert route(session, clock) == {(entry.id, "both")}


def test_the_longest_idle_agent_is_chosen(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "early", {"general": 1})
        clock.advance(30)
        new_agent(session, clock, "late", {"general": 1})
        entry = new_caller(session, clock, {"general": 1})
        assert route(session, clock) == {(entry.id, "early")}


def test_the_highest_level_strategy_prefers_the_most_skilled(db, clock):
    policy = RoutingPolicy(strategy="highest-level")
    with db.transaction() as session:
        new_agent(session, clock, "early", {"general": 2})
        clock.advance(30)
        new_agent(session, clock, "expert", {"general": 5})
        entry = new_caller(session, clock, {"general": 1})
        assert route(session, clock, policy) == {(entry.id, "expert")}


def test_an_unanswered_agent_goes_not_ready_and_the_caller_keeps_their_place(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "sleepy", {"general": 1})
        first = new_caller(session, clock, {"general": 1})
        entered = first.entered_at
        (reservation,) = sweep(session, now=clock.now(), policy=POLICY)
        clock.advance(20)
        later = new_caller(session, clock, {"general": 1})
        reservations.missed(session, reservation=reservation, now=clock.now(), result="no-answer")
        sleepy = session.get(Agent, reservation.agent_id)
        assert (sleepy.state, sleepy.state_reason) == ("not-ready", "missed")
        assert (first.status, first.entered_at) == ("waiting", entered)
        new_agent(session, clock, "awake", {"general": 1})
        assert route(session, clock) == {(first.id, "awake")}
        assert later.status == "waiting"


def test_after_a_call_the_agent_wraps_up_then_is_available(db, clock):
    with db.transaction() as session:
        agent = new_agent(session, clock, "gina", {"general": 1})
        new_caller(session, clock, {"general": 1})
        (reservation,) = sweep(session, now=clock.now(), policy=POLICY)
        reservations.answered(
            session, reservation=reservation, now=clock.now(), agent_call_sid="CA" + "f" * 32
        )
        assert agent.state == "busy"
        clock.advance(60)
        reservations.finished(session, reservation=reservation, now=clock.now(), wrap_up_seconds=30)
        assert agent.state == "wrap-up"
        next_caller = new_caller(session, clock, {"general": 1})
        clock.advance(29)
        assert route(session, clock) == set()
        clock.advance(1)
        assert route(session, clock) == {(next_caller.id, "gina")}


def test_a_caller_hanging_up_while_the_agent_rings_frees_the_agent(db, clock):
    with db.transaction() as session:
        agent = new_agent(session, clock, "gina", {"general": 1})
        entry = new_caller(session, clock, {"general": 1})
        sweep(session, now=clock.now(), policy=POLICY)
        call = session.get(Call, entry.call_id)
        reservations.call_ended(session, call=call, now=clock.now(), wrap_up_seconds=30)
        assert agent.state == "available"
        assert entry.status == "abandoned"
        assert call.outcome == "abandoned"


@pytest.mark.parametrize("strategy", ["longest-idle", "highest-level"])
def test_one_agent_is_never_given_two_callers(db, clock, strategy):
    with db.transaction() as session:
        new_agent(session, clock, "solo", {"general": 1})
        for _ in range(5):
            new_caller(session, clock, {"general": 1})
        made = route(session, clock, RoutingPolicy(strategy=strategy))
        assert len(made) == 1
        assert session.query(QueueEntry).filter_by(status="waiting").count() == 4


def test_a_redirect_refused_because_the_caller_left_frees_the_agent_and_ends_the_entry(
        db, clock):
    """The router reserved a caller who was hanging up: the carrier refuses the redirect
    (Twilio 21220, with a message longer than the reservation's result column). The agent is
    free again and the caller's entry ends; nothing is left reserved."""
    from types import SimpleNamespace

    from ivr.dispatcher import Dispatcher
    from ivr.routing.models import Reservation
    from ivr.telephony.port import CALL_NOT_IN_PROGRESS, TelephonyError

    with db.transaction() as session:
        agent = new_agent(session, clock, "hal", {"general": 1})
        entry = new_caller(session, clock, {"general": 1})
        [made] = sweep(session, now=clock.now(), policy=POLICY)
        session.flush()
        rid, agent_id, entry_id = made.id, agent.id, entry.id
    refused = TelephonyError(
        "redirecting call CA0: 400 Unable to update record: Call is not in-progress. "
        "Cannot redirect.", status=400, code=CALL_NOT_IN_PROGRESS)
    dispatcher = Dispatcher.__new__(Dispatcher)
    dispatcher.rt = SimpleNamespace(clock=clock)
    db.run(lambda session: dispatcher._undo(session, rid, refused))
    with db.transaction() as session:
        reservation = session.get(Reservation, rid)
        assert reservation.status == "canceled"
        assert reservation.result == f"redirect failed: {refused}"[:32]
        assert session.get(Agent, agent_id).state == "available"
        entry = session.get(QueueEntry, entry_id)
        assert entry.status == "abandoned"
        # The call's end, if it comes later, finds the caller already counted as abandoned.
        assert entry.call.outcome == "abandoned"
        assert [e.kind for e in session.scalars(
            select(CallEvent).where(CallEvent.call_id == entry.call_id)
            .order_by(CallEvent.id))][-2:] == ["routing.canceled", "queue.abandoned"]
