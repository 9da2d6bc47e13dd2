"""The callbacks' and follow-ups' timers: a stored one-off job at each time that matters (a
scheduled slot, the next attempt; follow-ups' escalations and deadlines, one job for all
that fall in the same minute), and a sweep every few seconds that also wakes the leader for
jobs other processes stored."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from callback import followups
from callback import service as callbacks
from ivr import jobs
from ivr.runtime import Runtime

log = logging.getLogger(__name__)
SWEEP_EVERY = timedelta(seconds=15)
# Jobs that run a whole sweep (every follow-up due, every case clock due) serve all the
# items due in the same minute: one stored job, not one per item (a busy hour makes
# hundreds of follow-ups with the same deadline).
SHARED_JOB_STEP = timedelta(minutes=1)


def activate_callbacks(by: str = "sweep") -> None:
    """Scheduled callbacks (and retries) whose time has come enter the router."""
    rt = jobs.runtime()
    # run, not transaction: a callback the router reserved meanwhile (its entry's version
    # moved on) is looked at again rather than failing the sweep.
    activated = rt.db.run(lambda session: callbacks.activate_due(
        session, now=rt.clock.now(), calendar=rt.calendar, policy=rt.callbacks, by=by))
    if activated:
        log.info("callbacks: %d entered the router (%s)", len(activated), by)
        rt.poke_router()


def escalate_follow_ups(by: str = "sweep") -> None:
    rt = jobs.runtime()
    escalated = rt.db.run(lambda session: followups.escalate_due(
        session, now=rt.clock.now(), policy=rt.callbacks))
    if escalated:
        log.warning("follow-ups at risk: %s (%s)", ", ".join(f.number for f in escalated), by)
        rt.poke_router()


def breach_follow_ups(by: str = "sweep") -> None:
    rt = jobs.runtime()
    breached = rt.db.run(lambda session: followups.breach_due(session, now=rt.clock.now()))
    if breached:
        log.warning("follow-ups past their deadline: %s (%s)",
                    ", ".join(f.number for f in breached), by)


def sweep() -> None:
    activate_callbacks()
    escalate_follow_ups()
    breach_follow_ups()


def ensure(scheduler: Any) -> None:
    scheduler.add_job(sweep, "interval", seconds=SWEEP_EVERY.total_seconds(),
                      id="callback_sweep", replace_existing=True)


def schedule(rt: Runtime, *, job_id: str, func: Any, at: datetime) -> None:
    """Store a one-off timer if this process keeps timers (any `ivr serve` or `ivr worker`);
    the sweep covers processes that do not."""
    timers = getattr(rt, "timers", None)
    if timers is None:
        return
    timers.schedule(func, run_date=at, job_id=job_id, args=(job_id,))


def schedule_callback(rt: Runtime, callback_id: int, at: datetime) -> None:
    schedule(rt, job_id=f"callback-{callback_id}", func=activate_callbacks, at=at)


def schedule_shared(rt: Runtime, *, kind: str, func: Any, at: datetime) -> None:
    """A run of `func`, a sweep of everything due, at `at` rounded up to the minute: the job
    is shared by every item due in that minute."""
    epoch = datetime(2000, 1, 1, tzinfo=UTC)
    steps = -(-(at - epoch) // SHARED_JOB_STEP)  # ceiling division
    run_at = epoch + steps * SHARED_JOB_STEP
    schedule(rt, job_id=f"{kind}-{run_at:%Y%m%dT%H%M}", func=func, at=run_at)


def schedule_follow_up(rt: Runtime, *, escalate_at: datetime, due_at: datetime) -> None:
    schedule_shared(rt, kind="followups-escalate", func=escalate_follow_ups, at=escalate_at)
    schedule_shared(rt, kind="followups-breach", func=breach_follow_ups, at=due_at)


def on_event(rt: Runtime, message: dict[str, Any]) -> None:
    """Committed events that start a timer."""
    kind, data = message["kind"], message.get("data") or {}
    if kind == "followup.created":
        schedule_follow_up(rt, escalate_at=datetime.fromisoformat(data["escalate_at"]),
                           due_at=datetime.fromisoformat(data["due_at"]))
    elif kind == "callback.accepted" and data.get("due_at"):
        schedule_callback(rt, data["callback_id"], datetime.fromisoformat(data["due_at"]))
    elif kind in ("callback.deferred", "callback.retry", "callback.held"):
        schedule_callback(rt, data["callback_id"], datetime.fromisoformat(data["until"]))
