"""The callback's legs through the webhooks: how the agent's part ending leaves the callback
and its queue entry, whichever of the carrier's two callbacks arrives first."""

from __future__ import annotations

from datetime import time

import pytest
from sqlalchemy import select

from callback import service as callbacks
from callback.models import Callback, CallbackAttempt
from callback.policy import END_OF_DAY
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call
from ivr.routing import queue, reservations
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep

NUMBER = "+12125550177"
ANYTIME = BusinessCalendar.from_spec(timezone="UTC", hours="always")
AROUND_THE_CLOCK = callbacks.CallbackPolicy(customer_hours=(time(0, 0), END_OF_DAY))
AGENT_LEG = "CA" + "a" * 32


@pytest.fixture
def dialing(db, clock):
    """A keep-place callback whose agent answered; the customer's phone is ringing.
    Returns (reservation id, callback id)."""
    now = clock.now()
    with db.transaction() as session:
        call = Call(sid="CA" + "b" * 32, from_number=NUMBER, to_number="+15005550006",
                    started_at=now, status="completed", path=[], vars={})
        session.add(call)
        session.flush()
        entry = queue.enqueue(session, call=call, skills={"billing": 1}, priority=1,
                              reasons=[], now=now)
        callback = callbacks.keep_place(session, call=call, entry=entry, number=NUMBER,
                                        now=now, policy=callbacks.CallbackPolicy())
        agent = add_agent(session, name="ann", endpoint="client:ann", skills={"billing": 1},
                          now=now)
        set_state(session, agent=agent, state="available", now=now)
        (reservation,) = sweep(session, now=now, policy=RoutingPolicy())
        reservations.answered(session, reservation=reservation, now=now,
                              agent_call_sid=AGENT_LEG)
        callbacks.start_attempt(session, callback=callback, reservation=reservation,
                                agent_call_sid=AGENT_LEG, now=now)
        return reservation.id, callback.id


def leg(**fields: str) -> dict[str, str]:
    return {"CallSid": AGENT_LEG, "AccountSid": "AC" + "0" * 31 + "1", "From": "+15005550006",
            "To": "client:ann", **fields}


def state(db, callback_id: int) -> tuple[str, int, str, list[str | None]]:
    with db.transaction() as session:
        callback = session.get(Callback, callback_id)
        entry = session.get(QueueEntry, callback.entry_id)
        results = [a.result for a in session.query(CallbackAttempt).filter_by(
            callback_id=callback_id)]
        return callback.status, callback.attempts, entry.status, results


@pytest.mark.parametrize("first", ["done", "agent-status"])
def test_the_agent_hanging_up_before_the_customer_answers_keeps_the_callbacks_place(
    carrier_post, db, dialing, first
):
    rid, callback_id = dialing
    done = (f"/voice/callback/{rid}/done", leg(DialCallStatus="canceled",
                                                CallStatus="completed"))
    agent_status = (f"/voice/callback/{rid}/agent-status", leg(CallStatus="completed"))
    for path, form in ((done, agent_status) if first == "done" else (agent_status, done)):
        assert carrier_post(path, form).status_code in (200, 204)
    # No attempt at the customer is used up; the callback keeps its place, held back a
    # minute, and Ann, who was there to answer, is free for the next caller.
    assert state(db, callback_id) == ("scheduled", 0, "scheduled", ["agent-missed"])
    with db.transaction() as session:
        callback = session.get(Callback, callback_id)
        held_until = callback.due_at
        # Her wrap-up of no seconds ends at the router's next round, which offers her nothing.
        assert sweep(session, now=held_until, policy=RoutingPolicy(wrap_up_seconds=0)) == []
        ann = session.scalars(select(Agent).where(Agent.name == "ann")).one()
        assert (ann.state, ann.state_reason) == ("available", None)
        activated = callbacks.activate_due(session, now=held_until, calendar=ANYTIME,
                                           policy=AROUND_THE_CLOCK)
        assert activated == [callback]
        entry = session.get(QueueEntry, callback.entry_id)
        assert entry.entered_at == callback.created_at  # its place: the time it entered
        again = sweep(session, now=held_until, policy=RoutingPolicy(wrap_up_seconds=0))
        assert [(r.entry_id, r.agent_id) for r in again] == [(entry.id, ann.id)]


def test_a_customer_who_does_not_answer_is_tried_again_later(carrier_post, db, dialing):
    rid, callback_id = dialing
    answer = carrier_post(f"/voice/callback/{rid}/done",
                          leg(DialCallStatus="no-answer", CallStatus="in-progress"))
    assert answer.status_code == 200
    assert state(db, callback_id) == ("scheduled", 1, "scheduled", ["no-answer"])


def test_the_carriers_second_callback_leaves_the_callback_to_the_next_agent(
    carrier_post, db, dialing
):
    rid, callback_id = dialing
    assert carrier_post(f"/voice/callback/{rid}/agent-status",
                        leg(CallStatus="completed")).status_code == 204
    with db.transaction() as session:
        callback = session.get(Callback, callback_id)
        callbacks.activate_due(session, now=callback.due_at, calendar=ANYTIME,
                               policy=AROUND_THE_CLOCK)
        ann = session.scalars(select(Agent).where(Agent.name == "ann")).one()
        set_state(session, agent=ann, state="not-ready", now=callback.due_at, reason="break")
        bob = add_agent(session, name="bob", endpoint="client:bob", skills={"billing": 1},
                        now=callback.due_at)
        set_state(session, agent=bob, state="available", now=callback.due_at)
        (offer,) = sweep(session, now=callback.due_at, policy=RoutingPolicy(wrap_up_seconds=0))
        entry_id, bob_id = callback.entry_id, bob.id
    # The <Dial>'s action for Ann's leg arrives after Bob was offered the callback.
    assert carrier_post(f"/voice/callback/{rid}/done",
                        leg(DialCallStatus="canceled", CallStatus="completed")).status_code == 200
    with db.transaction() as session:
        entry = session.get(QueueEntry, entry_id)
        assert (entry.status, entry.agent_id) == ("reserved", bob_id)
        assert session.get(Callback, callback_id).status == "pending"


@pytest.mark.parametrize(("answered_by", "after"), [
    ("human", ("completed", 0, "done", ["completed"])),
    ("machine_start", ("scheduled", 1, "scheduled", ["machine"])),
])
def test_a_customer_leg_answered_and_a_lost_dial_end_end_the_attempt_as_that_end_would(
    carrier_post, db, dialing, answered_by, after
):
    """The customer's leg was answered (its screen ran), but the Dial's action never arrived:
    the agent's leg ending ends the attempt as the action would have (a person reached is not
    rung again; their voicemail counts an attempt), not as the agent leaving early."""
    rid, callback_id = dialing
    customer = leg(CallSid="CA" + "c" * 32, To=NUMBER, AnsweredBy=answered_by)
    assert carrier_post(f"/voice/callback/{rid}/screen", customer).status_code == 200
    assert carrier_post(f"/voice/callback/{rid}/agent-status",
                        leg(CallStatus="completed")).status_code == 204
    assert state(db, callback_id) == after
    with db.transaction() as session:
        ann = session.scalars(select(Agent).where(Agent.name == "ann")).one()
        assert ann.state == "wrap-up", "the call is over for Ann"
