"""Callbacks through the offline carrier over real HTTP: keeping the place, a chosen slot, and
the same-day follow-up of a caller who hung up in the queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callback import service as callbacks
from callback.models import Callback, CallbackAttempt, FollowUp
from ivr.calls.models import CallEvent
from ivr.sim import CallerScript

from flowpaths import TO_BILLING
from support import wait_for

# Customers' numbers must be real, callable numbers (the dialler checks them).
ALICE = "+12125550101"
BRUNO = "+12125550102"
CLARA = "+13125550103"


@pytest.fixture
def callback_center(center_factory):
    def make(**overrides):
        # Any hour of the test run is inside the customer's local hours.
        overrides.setdefault("customer_hours", "00:00-24:00")
        center = center_factory(**overrides)
        for number in (ALICE, BRUNO, CLARA):
            center.carrier.set_callee(number, CallerScript(answer=True, answer_after=1))
        return center

    return make


def callback_of(center, sid):
    with center.live.db.transaction() as session:
        call_id = center.call_row(sid).id
        return session.scalar(select(Callback).where(Callback.call_id == call_id))


def attempts(center, callback_id):
    with center.live.db.transaction() as session:
        return list(session.scalars(select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback_id).order_by(CallbackAttempt.id)))


def event_ids(center, kind, **match):
    with center.live.db.transaction() as session:
        rows = session.execute(select(CallEvent.id, CallEvent.data)
                               .where(CallEvent.kind == kind).order_by(CallEvent.id)).all()
    return [rid for rid, data in rows if all(data.get(k) == v for k, v in match.items())]


def test_press_1_hang_up_and_be_called_back_in_your_place(callback_center):
    center = callback_center()
    center.agent("ann", {"billing": 2}, available=False, talk_time=20)
    first = center.call([*TO_BILLING, "1", "1"], ALICE)
    center.ended(first)
    assert center.call_row(first).outcome == "callback"
    callback = wait_for(lambda: callback_of(center, first), what="the callback")
    assert (callback.kind, callback.status, callback.number) == ("keep-place", "pending", ALICE)
    later = center.call(TO_BILLING, BRUNO)
    wait_for(lambda: center.waiting(later), what="the later caller to wait")
    center.set_state("ann", "available")
    done = wait_for(lambda: callback_of(center, first).status == "completed",
                    timeout=60, what="the callback to complete")
    assert done
    (attempt,) = attempts(center, callback.id)
    assert (attempt.result, attempt.answered_by) == ("completed", "human")
    center.ended(later)
    assert center.answered_by(later) == ["ann"]
    completed = event_ids(center, "callback.attempt", callback_id=callback.id)
    with center.live.db.transaction() as session:
        later_answered = session.scalar(
            select(CallEvent.id).where(CallEvent.kind == "call.answered",
                                       CallEvent.call_id == center.call_row(later).id))
    assert completed[0] < later_answered, "the callback went ahead of the caller who came later"
    assert center.carrier.errors == []


def test_a_callback_is_not_put_through_to_an_agents_voicemail(callback_center):
    center = callback_center()
    roaming = "+13125550177"  # the agent's mobile, answered by its voicemail
    center.agent("roamer", {"billing": 2}, available=False, mobile=roaming,
                 answered_by="machine")
    first = center.call([*TO_BILLING, "1", "1"], ALICE)
    center.ended(first)
    callback = wait_for(lambda: callback_of(center, first), what="the callback")
    center.set_state("roamer", "available")
    wait_for(lambda: center.agent_row("roamer").state == "not-ready", what="roamer not-ready")
    assert center.agent_row("roamer").state_reason == "missed"
    assert center.carrier.calls(to=ALICE) == [], "the customer was not rung into a voicemail"
    (attempt,) = attempts(center, callback.id)
    assert attempt.result == "agent-missed"
    assert callback_of(center, first).status == "pending", "the callback keeps its place"
    center.agent("desk", {"billing": 2}, talk_time=5)
    done = wait_for(lambda: (c := callback_of(center, first)).status == "completed" and c,
                    timeout=60, what="the callback to complete")
    assert done.attempts == 0, "the agent's voicemail counted no try at the customer"
    assert [a.result for a in attempts(center, callback.id)] == ["agent-missed", "completed"]
    assert center.carrier.errors == []


def test_an_agent_on_a_mobile_takes_the_callback_with_a_key(callback_center):
    center = callback_center(agent_accept_seconds=15)
    roaming = "+13125550178"
    center.agent("roamer", {"billing": 2}, available=False, mobile=roaming, talk_time=60)
    first = center.call([*TO_BILLING, "1", "1"], ALICE)
    center.ended(first)
    callback = wait_for(lambda: callback_of(center, first), what="the callback")
    center.set_state("roamer", "available")
    done = wait_for(lambda: callback_of(center, first).status == "completed",
                    timeout=60, what="the callback to complete")
    assert done
    [leg] = center.carrier.calls(to=roaming)
    heard = leg.line.events_after(0)[0]
    said = [event["text"] for event in heard if event["type"] == "say"]
    assert said[0].startswith("Callback for") and said[0].endswith("Press 1 to call them now.")
    [key] = [event for event in heard if event["type"] == "gather"]
    assert key["timeout"] == 15, "IVR_AGENT_ACCEPT_SECONDS"
    assert [a.result for a in attempts(center, callback.id)] == ["completed"]
    assert center.carrier.errors == []


def test_an_agents_voicemail_taken_for_a_person_gets_no_callback(callback_center):
    center = callback_center()
    roaming = "+13125550179"
    center.agent("roamer", {"billing": 2}, available=False, mobile=roaming, accepts=False)
    first = center.call([*TO_BILLING, "1", "1"], ALICE)
    center.ended(first)
    callback = wait_for(lambda: callback_of(center, first), what="the callback")
    center.set_state("roamer", "available")
    wait_for(lambda: center.agent_row("roamer").state == "not-ready", what="roamer not-ready")
    assert center.carrier.calls(to=ALICE) == [], "the customer was not rung"
    [attempt] = attempts(center, callback.id)
    assert attempt.result == "agent-missed"
    assert callback_of(center, first).status == "pending", "the callback keeps its place"
    assert center.carrier.errors == []


def test_choose_a_time_and_be_called_in_that_slot(callback_center, clock):
    center = callback_center(clock=clock)
    center.agent("ann", {"billing": 2}, available=False, talk_time=20)
    sid = center.call([*TO_BILLING, "2", "1", "1"], ALICE)
    center.ended(sid)
    callback = wait_for(lambda: callback_of(center, sid), what="the booked callback")
    assert (callback.kind, callback.status) == ("scheduled", "scheduled")
    slot = callback.due_at
    assert slot >= clock.now() + timedelta(hours=1)
    center.set_state("ann", "available")
    rt = center.live.runtime
    with rt.db.transaction() as session:
        assert callbacks.activate_due(session, now=clock.now(), calendar=rt.calendar,
                                      policy=rt.callbacks) == []
    clock.set(slot)
    with rt.db.transaction() as session:
        activated = callbacks.activate_due(session, now=clock.now(), calendar=rt.calendar,
                                           policy=rt.callbacks)
        assert [c.id for c in activated] == [callback.id]
    rt.poke_router()
    wait_for(lambda: callback_of(center, sid).status == "completed", timeout=60,
             what="the callback in its slot")
    (attempt,) = attempts(center, callback.id)
    assert attempt.started_at >= slot
    assert attempt.result == "completed"


def test_a_caller_who_hangs_up_in_the_queue_is_followed_up_the_same_day(callback_center):
    center = callback_center()
    center.agent("ann", {"billing": 2}, available=False, talk_time=20)
    sid = center.call([*TO_BILLING, None], CLARA, patience=2)
    call = center.ended(sid)
    assert call.outcome == "abandoned"

    def follow_up():
        with center.live.db.transaction() as session:
            return session.scalar(select(FollowUp).where(FollowUp.number == CLARA))

    opened = wait_for(follow_up, what="the follow-up")
    assert opened.status == "open"
    assert opened.due_at.date() >= call.ended_at.date()
    center.set_state("ann", "available")
    done = wait_for(lambda: (f := follow_up()).status == "done" and f, timeout=60,
                    what="the follow-up to be done")
    assert done.closed_by == "callback completed"
    assert done.closed_at <= done.due_at
    same_day = event_ids(center, "followup.done", follow_up_id=done.id, same_day=True)
    assert len(same_day) == 1


def test_a_follow_up_closes_when_the_customer_calls_in_and_talks_to_an_agent(callback_center):
    center = callback_center()
    center.agent("ann", {"billing": 2}, available=False, talk_time=5)
    center.carrier.set_callee(CLARA, CallerScript(answer=False))  # never picks up a callback
    missed = center.call([*TO_BILLING, None], CLARA, patience=2)
    center.ended(missed)

    def follow_up():
        with center.live.db.transaction() as session:
            return session.scalar(select(FollowUp).where(FollowUp.number == CLARA))

    assert wait_for(follow_up, what="the follow-up").status == "open"
    center.set_state("ann", "available")
    # The follow-up's callback rings Clara's phone (no answer); she calls in meanwhile.
    again = center.call(TO_BILLING, CLARA)
    center.ended(again)
    assert center.answered_by(again) == ["ann"]
    done = wait_for(lambda: (f := follow_up()).status == "done" and f, what="the follow-up done")
    assert done.closed_by == "answered inbound call"
