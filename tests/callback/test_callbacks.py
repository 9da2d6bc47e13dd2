"""Callbacks: keeping the place, booking a slot, entering the router at the right time, and
the attempts policy (3 tries, 10 minutes apart, then a missed call for the follow-up rule)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callback import service as callbacks
from callback import slots
from callback.models import Callback, CallbackAttempt, FollowUp, MissedCall
from callback.policy import CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call, CallEvent
from ivr.routing import queue
from ivr.routing.agents import add_agent
from ivr.routing.models import QueueEntry
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep

NY = ZoneInfo("America/New_York")
CALENDAR = BusinessCalendar.from_spec(timezone="America/New_York", hours="mon-fri 08:00-18:00")
POLICY = CallbackPolicy()
NUMBER = "+12125550123"
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=NY)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2125550123", "+12125550123"), ("(212) 555-0123", "+12125550123"),
    ("2125550123#", "+12125550123"), ("+14155550123", "+14155550123"),
    ("12345", None), ("5551230000", None), ("", None), (None, None),
])
def test_a_keyed_number_is_checked(raw, expected):
    assert callbacks.customer_number(raw) == expected


def waiting_caller(session, at, *, priority=1, skills=None):
    call = Call(sid=f"CA{int(at.timestamp() * 1000) + priority:032x}", from_number=NUMBER,
                to_number="+15005550006", started_at=at, path=[], vars={})
    session.add(call)
    session.flush()
    entry = queue.enqueue(session, call=call, skills=skills or {"billing": 1},
                          priority=priority, reasons=["billing_queue: 1"], now=at)
    return call, entry


def test_keeping_the_place_keeps_time_and_priority_in_the_router(db):
    with db.transaction() as session:
        call, entry = waiting_caller(session, MONDAY_10)
        callback = callbacks.keep_place(session, call=call, entry=entry, number=NUMBER,
                                        now=MONDAY_10 + timedelta(minutes=3), policy=POLICY)
        assert (entry.status, entry.kind, entry.entered_at) == ("waiting", "callback", MONDAY_10)
        assert callback.status == "pending"
        _, later = waiting_caller(session, MONDAY_10 + timedelta(minutes=5), priority=1)
        agent = add_agent(session, name="ann", endpoint="client:ann", skills={"billing": 2},
                          now=MONDAY_10)
        set_state(session, agent=agent, state="available", now=MONDAY_10)
        (reservation,) = sweep(session, now=MONDAY_10 + timedelta(minutes=6),
                               policy=RoutingPolicy())
        assert reservation.entry_id == entry.id, "the callback is served before later callers"


def test_a_booked_slot_enters_the_router_at_its_time_with_its_priority_raised(db):
    slot = MONDAY_10 + timedelta(hours=2)
    with db.transaction() as session:
        call, entry = waiting_caller(session, MONDAY_10)
        callback = callbacks.book_slot(session, call=call, entry=entry, number=NUMBER,
                                       slot_start=slot, now=MONDAY_10, policy=POLICY)
        booked = session.get(QueueEntry, callback.entry_id)
        assert entry.status == "left"
        assert (booked.status, booked.priority) == ("scheduled", entry.priority + 2)
        assert callbacks.activate_due(session, now=slot - timedelta(seconds=1),
                                      calendar=CALENDAR, policy=POLICY) == []
        assert callbacks.activate_due(session, now=slot, calendar=CALENDAR,
                                      policy=POLICY) == [callback]
        assert (callback.status, booked.status) == ("pending", "waiting")


def test_a_due_callback_waits_for_the_manners_then_enters(db):
    friday_night = datetime(2026, 11, 20, 19, 0, tzinfo=NY)
    with db.transaction() as session:
        call, entry = waiting_caller(session, friday_night - timedelta(hours=2))
        callback = callbacks.book_slot(session, call=call, entry=entry, number=NUMBER,
                                       slot_start=friday_night, now=friday_night,
                                       policy=POLICY)
        assert callbacks.activate_due(session, now=friday_night, calendar=CALENDAR,
                                      policy=POLICY) == []
        assert callback.due_at == datetime(2026, 11, 23, 8, 0, tzinfo=NY)
        deferred = session.scalar(select(CallEvent).where(CallEvent.kind == "callback.deferred"))
        assert "business hours" in deferred.data["reason"]


def attempt_for(session, callback, at):
    callback_entry = session.get(QueueEntry, callback.entry_id)
    callback_entry.status = "reserved"
    attempt = CallbackAttempt(callback_id=callback.id, started_at=at)
    session.add(attempt)
    session.flush()
    return attempt


def test_a_customer_not_reached_is_tried_again_then_followed_up(db):
    with db.transaction() as session:
        call, entry = waiting_caller(session, MONDAY_10)
        callback = callbacks.keep_place(session, call=call, entry=entry, number=NUMBER,
                                        now=MONDAY_10, policy=POLICY)
        now = MONDAY_10
        for result in ("no-answer", "machine"):
            callbacks.finish_attempt(session, attempt=attempt_for(session, callback, now),
                                     result=result, now=now, calendar=CALENDAR, policy=POLICY)
            assert callback.status == "scheduled"
            assert callback.due_at == now + timedelta(minutes=10)
            assert session.get(QueueEntry, callback.entry_id).status == "scheduled"
            now += timedelta(minutes=10)
            assert callbacks.activate_due(session, now=now, calendar=CALENDAR,
                                          policy=POLICY) == [callback]
        callbacks.finish_attempt(session, attempt=attempt_for(session, callback, now),
                                 result="busy", now=now, calendar=CALENDAR, policy=POLICY)
        assert (callback.status, callback.attempts) == ("failed", 3)
        missed = session.scalar(select(MissedCall).where(MissedCall.kind == "callback-failed"))
        follow_up = session.get(FollowUp, missed.follow_up_id)
        assert follow_up.number == NUMBER and follow_up.status == "open"
        results = session.scalars(select(CallEvent.data).where(
            CallEvent.kind == "callback.attempt")).all()
        assert [r["result"] for r in results] == ["no-answer", "machine", "busy"]


def test_an_agent_who_misses_the_callback_does_not_use_up_an_attempt(db):
    with db.transaction() as session:
        call, entry = waiting_caller(session, MONDAY_10)
        callback = callbacks.keep_place(session, call=call, entry=entry, number=NUMBER,
                                        now=MONDAY_10, policy=POLICY)
        callbacks.finish_attempt(session, attempt=attempt_for(session, callback, MONDAY_10),
                                 result="agent-missed", now=MONDAY_10, calendar=CALENDAR,
                                 policy=POLICY)
        assert (callback.status, callback.attempts) == ("pending", 0)


def test_a_completed_callback_closes_the_numbers_follow_up(db):
    from callback import followups

    with db.transaction() as session:
        call, entry = waiting_caller(session, MONDAY_10)
        followups.record_missed(session, number=NUMBER, kind="abandoned", call_id=call.id,
                                now=MONDAY_10, calendar=CALENDAR, policy=POLICY)
        callback = session.scalar(select(Callback).where(Callback.kind == "follow-up"))
        callbacks.activate_due(session, now=MONDAY_10, calendar=CALENDAR, policy=POLICY)
        callbacks.finish_attempt(session, attempt=attempt_for(session, callback, MONDAY_10),
                                 result="completed", now=MONDAY_10 + timedelta(minutes=5),
                                 calendar=CALENDAR, policy=POLICY)
        assert callback.status == "completed"
        assert session.scalar(select(FollowUp.status)) == "done"


def test_slots_are_offered_inside_hours_with_room_and_said_like_a_person(db):
    with db.transaction() as session:
        for name in ("ann", "bea"):
            add_agent(session, name=name, endpoint=f"client:{name}", skills={"billing": 2},
                      now=MONDAY_10)
        offered = slots.offer(session, skills={"billing": 1}, now=MONDAY_10, calendar=CALENDAR,
                              policy=POLICY, handle_seconds=300)
    starts = [slot.start.astimezone(NY) for slot in offered]
    assert starts[0] == datetime(2026, 11, 23, 11, 0, tzinfo=NY)
    assert starts[1].date() == MONDAY_10.date() and starts[1].hour >= 13
    assert starts[2].date() == datetime(2026, 11, 24).date()
    assert all(CALENDAR.is_open(start) for start in starts)
    said = [slots.describe(s, now=MONDAY_10, calendar=CALENDAR) for s in starts]
    assert said[0] == "in about an hour"
    assert said[1].startswith("this afternoon at ")
    assert said[2] == "tomorrow morning at 8 AM"
    assert slots.describe(starts[2], now=MONDAY_10, calendar=CALENDAR, language="es-US") == (
        "mañana por la mañana, a las 8:00")


def test_a_full_slot_is_not_offered(db):
    with db.transaction() as session:
        add_agent(session, name="ann", endpoint="client:ann", skills={"billing": 2},
                  now=MONDAY_10)
        capacity = slots.slot_capacity(1, handle_seconds=300, policy=POLICY)
        first = datetime(2026, 11, 23, 11, 0, tzinfo=NY)
        for n in range(capacity):
            call, entry = waiting_caller(session, MONDAY_10 + timedelta(seconds=n), priority=n)
            callbacks.book_slot(session, call=call, entry=entry, number=NUMBER,
                                slot_start=first, now=MONDAY_10, policy=POLICY)
        offered = slots.offer(session, skills={"billing": 1}, now=MONDAY_10, calendar=CALENDAR,
                              policy=POLICY, handle_seconds=300)
    assert offered[0].start.astimezone(NY) == datetime(2026, 11, 23, 11, 30, tzinfo=NY)


def test_no_agent_with_the_skill_means_no_slots(db):
    with db.transaction() as session:
        assert slots.offer(session, skills={"billing": 1}, now=MONDAY_10, calendar=CALENDAR,
                           policy=POLICY, handle_seconds=300) == []
