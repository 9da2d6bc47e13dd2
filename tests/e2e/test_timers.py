"""Timers are APScheduler jobs stored in the database: a callback booked before a restart
fires on time after it, run by the new leader."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from callback import service as callbacks
from callback.models import Callback
from ivr.calls.models import Call, CallEvent
from ivr.clock import ManualClock
from ivr.jobs import Timers
from ivr.routing import queue

from support import wait_for


def book(live, due_in: float) -> tuple[int, object]:
    rt = live.runtime
    now = rt.clock.now()
    with rt.db.transaction() as session:
        call = Call(sid="CA" + "7" * 32, from_number="+12125550199", to_number="+15005550006",
                    started_at=now, path=[], vars={})
        session.add(call)
        session.flush()
        entry = queue.enqueue(session, call=call, skills={"billing": 1}, priority=1,
                              reasons=[], now=now)
        callback = callbacks.book_slot(session, call=call, entry=entry, number=call.from_number,
                                       slot_start=now + timedelta(seconds=due_in), now=now,
                                       policy=rt.callbacks)
        return callback.id, callback.due_at


def stored_jobs(live) -> list[str]:
    with live.db.transaction() as session:
        return list(session.scalars(text("SELECT id FROM scheduled_jobs ORDER BY id")))


def test_a_scheduled_callback_survives_a_restart_and_fires_on_time(live_factory):
    first = live_factory(customer_hours="00:00-24:00")
    timers = Timers(first.runtime)
    first.runtime.timers = timers
    timers.start()
    assert timers.wait_until_leading(10)
    callback_id, due_at = book(first, due_in=6)
    assert f"callback-{callback_id}" in stored_jobs(first)
    timers.shutdown()  # the service stops before the callback is due

    second = live_factory(customer_hours="00:00-24:00")
    assert f"callback-{callback_id}" in stored_jobs(second), "the timer is in the database"
    restarted = Timers(second.runtime)
    second.runtime.timers = restarted
    restarted.start()
    try:
        assert restarted.wait_until_leading(10)

        def activated():
            with second.db.transaction() as session:
                return session.scalar(select(CallEvent).where(
                    CallEvent.kind == "callback.activated",
                    CallEvent.data["callback_id"].as_integer() == callback_id))

        event = wait_for(activated, timeout=30, what="the stored timer to fire")
    finally:
        restarted.shutdown()
    assert event.data["by"] == f"callback-{callback_id}", "fired by its own stored job"
    assert due_at <= event.at <= due_at + timedelta(seconds=3), "on time"
    with second.db.transaction() as session:
        assert session.get(Callback, callback_id).status in ("pending", "dialing", "completed")
    assert f"callback-{callback_id}" not in stored_jobs(second)


def test_follow_ups_due_in_the_same_minute_share_one_stored_job_of_each_kind(live_factory):
    from callback import followups
    from callback.models import FollowUp

    # Mid-morning tomorrow, whatever the hour the suite runs: late in the day the escalation
    # time of a same-day follow-up is 'now', which differs from one follow-up to the next.
    ten_today = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    live = live_factory(clock=ManualClock(ten_today + timedelta(days=1)),
                        customer_hours="00:00-24:00")
    timers = Timers(live.runtime)
    live.runtime.timers = timers
    timers.start()
    try:
        assert timers.wait_until_leading(10)
        rt = live.runtime
        for number in ("+12125550131", "+12125550132", "+13125550133"):
            with rt.db.transaction() as session:
                followups.record_missed(session, number=number, kind="abandoned", call_id=None,
                                        now=rt.clock.now(), calendar=rt.calendar,
                                        policy=rt.callbacks)
        with rt.db.transaction() as session:
            made = session.scalars(select(FollowUp)).all()
            deadlines = {(f.escalate_at, f.due_at) for f in made}
        assert len(made) == 3 and len(deadlines) == 1, "one business day, one deadline"
        jobs = stored_jobs(live)
        escalate = [job for job in jobs if job.startswith("followups-escalate-")]
        breach = [job for job in jobs if job.startswith("followups-breach-")]
        assert len(escalate) == 1 and len(breach) == 1, jobs
        ((escalate_at, due_at),) = deadlines
        assert escalate[0] == f"followups-escalate-{escalate_at:%Y%m%dT%H%M}"
        assert breach[0] == f"followups-breach-{due_at:%Y%m%dT%H%M}"
    finally:
        timers.shutdown()
