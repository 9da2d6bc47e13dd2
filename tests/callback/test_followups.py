"""The same-day follow-up rule with a controllable clock: day boundaries, after-hours calls,
a holiday, daylight-saving changes, the cutoff, escalation, breach, merging repeat misses and
closing by an inbound call."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callback import followups
from callback.models import Callback, FollowUp, MissedCall
from callback.policy import CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call, CallEvent
from ivr.routing.models import QueueEntry

NY = ZoneInfo("America/New_York")
CALENDAR = BusinessCalendar.from_spec(timezone="America/New_York", hours="mon-fri 08:00-18:00",
                                      holidays_country="US")
POLICY = CallbackPolicy()
NUMBER = "+12125550123"


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def due(missed_at: datetime, policy: CallbackPolicy = POLICY) -> datetime:
    return followups.deadline(missed_at, calendar=CALENDAR, policy=policy).astimezone(NY)


@pytest.mark.parametrize(
    ("missed", "expected"),
    [
        (ny(2026, 11, 23, 10, 0), ny(2026, 11, 23, 18, 0)),  # Monday morning: same day
        (ny(2026, 11, 23, 17, 59), ny(2026, 11, 23, 18, 0)),  # a minute before close
        (ny(2026, 11, 23, 18, 0), ny(2026, 11, 24, 18, 0)),  # at the close: next day
        (ny(2026, 11, 23, 6, 30), ny(2026, 11, 23, 18, 0)),  # before opening: that day
        (ny(2026, 11, 23, 21, 0), ny(2026, 11, 24, 18, 0)),  # after hours: next day
        (ny(2026, 11, 20, 20, 0), ny(2026, 11, 23, 18, 0)),  # Friday night: Monday
        (ny(2026, 11, 21, 12, 0), ny(2026, 11, 23, 18, 0)),  # Saturday: Monday
    ],
)
def test_the_deadline_is_the_close_of_the_same_or_next_business_day(missed, expected):
    assert due(missed) == expected


def test_a_call_missed_the_evening_before_a_holiday_is_due_the_day_after_it():
    # Thursday 2026-11-26 is Thanksgiving in the US.
    assert due(ny(2026, 11, 25, 19, 0)) == ny(2026, 11, 27, 18, 0)
    assert due(ny(2026, 11, 26, 11, 0)) == ny(2026, 11, 27, 18, 0)


def test_deadlines_follow_daylight_saving_changes():
    spring = due(ny(2026, 3, 6, 20, 0))  # Friday; clocks go forward on Sunday 2026-03-08
    assert spring == ny(2026, 3, 9, 18, 0)
    assert spring.astimezone(UTC).hour == 22  # EDT, UTC-4
    autumn = due(ny(2026, 10, 30, 20, 0))  # Friday; clocks go back on Sunday 2026-11-01
    assert autumn == ny(2026, 11, 2, 18, 0)
    assert autumn.astimezone(UTC).hour == 23  # EST, UTC-5


def test_a_cutoff_moves_calls_missed_too_late_to_the_next_day():
    policy = CallbackPolicy(follow_up_cutoff=timedelta(minutes=30))
    assert due(ny(2026, 11, 23, 12, 0), policy) == ny(2026, 11, 23, 17, 30)
    assert due(ny(2026, 11, 23, 17, 45), policy) == ny(2026, 11, 24, 17, 30)


def new_call(session, at: datetime, number: str = NUMBER) -> Call:
    call = Call(sid=f"CA{int(at.timestamp() * 1000):032x}", from_number=number,
                to_number="+15005550006", started_at=at, path=[], vars={})
    session.add(call)
    session.flush()
    return call


def miss(session, at: datetime, number: str = NUMBER, kind: str = "abandoned"):
    call = new_call(session, at, number)
    return followups.record_missed(session, number=number, kind=kind, call_id=call.id, now=at,
                                   calendar=CALENDAR, policy=POLICY, skills={"billing": 1})


def test_a_missed_call_opens_one_follow_up_with_a_callback(db):
    at = ny(2026, 11, 23, 10, 0)
    with db.transaction() as session:
        missed = miss(session, at)
        follow_up = session.get(FollowUp, missed.follow_up_id)
        assert follow_up.due_at == ny(2026, 11, 23, 18, 0)
        assert follow_up.escalate_at == ny(2026, 11, 23, 17, 0)
        callback = session.scalar(select(Callback).where(Callback.follow_up_id == follow_up.id))
        assert (callback.kind, callback.status, callback.number) == (
            "follow-up", "scheduled", NUMBER)
        entry = session.get(QueueEntry, callback.entry_id)
        assert (entry.kind, entry.skills) == ("callback", {"billing": 1})
    # The events name the rows by their ids, though none was written when it was recorded.
    with db.transaction() as session:
        logged = {e.kind: e.data for e in session.scalars(select(CallEvent))}
        assert logged["missed.call"]["missed_id"] == missed.id is not None
        assert logged["callback.created"]["callback_id"] == callback.id is not None


def test_two_processes_missing_one_number_at_once_open_one_follow_up(db):
    """Sessions of their own, as two web processes would have: the second looks for the
    number's follow-up while the first has made it and not committed. On SQLite the second
    waits for the write lock before it looks; on PostgreSQL it inserts, the unique index
    holds it until the first commits, and it joins the winner's follow-up."""
    at = ny(2026, 11, 23, 10, 0)
    first = db.sessions()
    miss(first, at)
    failures: list[BaseException] = []

    def second() -> None:
        try:
            with db.sessions() as session:
                miss(session, at + timedelta(minutes=1))
                session.commit()
        except BaseException as exc:  # reported by the test, not lost in the thread
            failures.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)  # let it reach the lock or the index
    first.commit()
    first.close()
    thread.join()
    assert failures == []
    with db.transaction() as session:
        (follow_up,) = session.scalars(select(FollowUp).where(FollowUp.number == NUMBER))
        assert (follow_up.status, follow_up.missed_count) == ("open", 2)
        assert session.scalar(select(func.count(MissedCall.id))
                              .where(MissedCall.follow_up_id == follow_up.id)) == 2


def test_repeat_misses_from_a_number_merge_into_its_open_follow_up(db):
    with db.transaction() as session:
        first = miss(session, ny(2026, 11, 23, 10, 0))
        second = miss(session, ny(2026, 11, 23, 11, 0), kind="ivr-hangup")
        other = miss(session, ny(2026, 11, 23, 11, 5), number="+14155550123")
        assert first.follow_up_id == second.follow_up_id != other.follow_up_id
        follow_up = session.get(FollowUp, first.follow_up_id)
        assert follow_up.missed_count == 2
        assert follow_up.due_at == ny(2026, 11, 23, 18, 0), "the first miss sets the deadline"
        assert session.scalar(select(func.count(FollowUp.id))) == 2
        assert session.scalar(select(func.count(MissedCall.id))) == 3
        callbacks = session.scalar(select(func.count(Callback.id))
                                   .where(Callback.follow_up_id == follow_up.id))
        assert callbacks == 1


def test_an_anonymous_missed_call_is_kept_but_cannot_be_followed_up(db):
    with db.transaction() as session:
        missed = miss(session, ny(2026, 11, 23, 10, 0), number="anonymous")
        assert missed.follow_up_id is None
        assert session.scalar(select(func.count(FollowUp.id))) == 0


def test_escalation_raises_the_callback_and_alerts_supervisors_before_the_deadline(db):
    with db.transaction() as session:
        missed = miss(session, ny(2026, 11, 23, 10, 0))
        follow_up = session.get(FollowUp, missed.follow_up_id)
        entry = session.get(QueueEntry, session.scalar(
            select(Callback.entry_id).where(Callback.follow_up_id == follow_up.id)))
        before = entry.priority
        assert followups.escalate_due(session, now=ny(2026, 11, 23, 16, 59), policy=POLICY) == []
        assert followups.at_risk(session, now=ny(2026, 11, 23, 16, 59)) == []
        escalated = followups.escalate_due(session, now=ny(2026, 11, 23, 17, 0), policy=POLICY)
        assert escalated == [follow_up]
        assert entry.priority == before + POLICY.escalation_priority_raise
        assert followups.at_risk(session, now=ny(2026, 11, 23, 17, 0)) == [follow_up]
        assert followups.escalate_due(session, now=ny(2026, 11, 23, 17, 30), policy=POLICY) == []
        kinds = session.scalars(select(CallEvent.kind)).all()
        assert kinds.count("followup.escalated") == 1


def test_at_the_deadline_an_open_follow_up_is_breached_and_stays_open(db):
    with db.transaction() as session:
        missed = miss(session, ny(2026, 11, 23, 10, 0))
        follow_up = session.get(FollowUp, missed.follow_up_id)
        assert followups.breach_due(session, now=ny(2026, 11, 23, 17, 59)) == []
        assert followups.breach_due(session, now=ny(2026, 11, 23, 18, 0)) == [follow_up]
        assert follow_up.status == "open"
        assert follow_up.breached_at == ny(2026, 11, 23, 18, 0)
        assert followups.breach_due(session, now=ny(2026, 11, 23, 19, 0)) == []


def test_an_answered_inbound_call_closes_the_follow_up_and_its_callback(db):
    with db.transaction() as session:
        missed = miss(session, ny(2026, 11, 23, 10, 0))
        assert followups.close_for_number(session, number=NUMBER, now=ny(2026, 11, 23, 12, 0),
                                          by="answered inbound call")
        follow_up = session.get(FollowUp, missed.follow_up_id)
        assert (follow_up.status, follow_up.closed_by) == ("done", "answered inbound call")
        callback = session.scalar(select(Callback).where(Callback.follow_up_id == follow_up.id))
        assert callback.status == "canceled"
        assert session.get(QueueEntry, callback.entry_id).status == "left"
        done = session.scalar(select(CallEvent).where(CallEvent.kind == "followup.done"))
        assert done.data["same_day"] is True
        # A new miss after that opens a new follow-up.
        again = miss(session, ny(2026, 11, 23, 13, 0))
        assert again.follow_up_id != missed.follow_up_id


def test_a_follow_up_done_after_its_deadline_is_not_same_day(db):
    with db.transaction() as session:
        miss(session, ny(2026, 11, 23, 10, 0))
        followups.breach_due(session, now=ny(2026, 11, 23, 18, 0))
        followups.close_for_number(session, number=NUMBER, now=ny(2026, 11, 24, 9, 0),
                                   by="callback completed")
        done = session.scalar(select(CallEvent).where(CallEvent.kind == "followup.done"))
        assert done.data["same_day"] is False
