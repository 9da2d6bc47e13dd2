"""Timers: APScheduler with its jobs stored in the database (they survive a restart), run by
the process that holds the leader lock. Each job is one transaction at the edge."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from ivr import call_end
from ivr.leader import LeaderLock
from ivr.runtime import Runtime

log = logging.getLogger(__name__)

# Jobs are stored by reference, so they are module functions finding the runtime here.
_runtime: Runtime | None = None
RECONCILE_EVERY = timedelta(minutes=1)
RECORDINGS_SWEEP_EVERY = timedelta(minutes=1)
RETENTION_EVERY = timedelta(hours=1)
STORED_MEMORY = 10_000  # one-off jobs remembered before the past ones are forgotten


def runtime() -> Runtime:
    if _runtime is None:
        raise RuntimeError("no runtime: jobs run only inside a started Timers")
    return _runtime


def reconcile_calls() -> None:
    """End calls whose final status callback never arrived (see ivr.call_end)."""
    call_end.reconcile_with_carrier(runtime())


def sweep_recordings() -> None:
    """Queue recordings with work left (downloads due, transcripts missing): what a stopped
    process left pending is picked up here, at start-up and every minute."""
    rt = runtime()
    if rt.recordings is None:
        return
    queued = rt.recordings.sweep()
    if queued:
        log.info("recordings: queued %d for download or transcription", len(queued))


def purge_recordings() -> None:
    """Delete audio older than IVR_RECORDING_RETENTION_DAYS (one transaction each)."""
    from recordings import retention

    rt = runtime()
    days = rt.settings.recording_retention_days
    if days <= 0 or rt.recordings is None:
        return
    now = rt.clock.now()
    with rt.db.transaction() as session:
        expired = retention.expired(session, now=now, days=days)
    deleted = 0
    for recording_id in expired:
        with rt.db.transaction() as session:
            deleted += retention.delete_audio(
                session,
                recording_id=recording_id,
                storage=rt.recordings.storage,
                now=now,
                days=days,
                keep_transcripts=rt.settings.recording_keep_transcripts,
            )
    if deleted:
        log.info("retention: deleted the audio of %d recordings older than %d days", deleted, days)


class Timers:
    """The scheduler of this process, started once the leader lock is held."""

    def __init__(self, rt: Runtime, *, standby_poll: float = 5.0) -> None:
        self.rt = rt
        self.lock = LeaderLock(rt.db.engine, var_dir=rt.settings.var_dir)
        self.scheduler = BackgroundScheduler(
            jobstores={
                "default": SQLAlchemyJobStore(engine=rt.db.engine, tablename="scheduled_jobs")
            },
            job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
            timezone="UTC",
        )
        self.standby_poll = standby_poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._leading = False
        # job id -> run date of the one-off jobs this process stored (see schedule)
        self._stored: dict[str, Any] = {}
        self._stored_lock = threading.Lock()

    def start(self) -> None:
        """Store timers from now on; run them if this process is the leader, else keep trying
        to become it in the background. A paused scheduler still writes jobs to the store."""
        global _runtime
        _runtime = self.rt
        self.scheduler.start(paused=True)
        self._thread = threading.Thread(target=self._lead, name="timers", daemon=True)
        self._thread.start()

    def _lead(self) -> None:
        while not self._stop.is_set():
            if self.lock.try_acquire():
                self.ensure_jobs()
                self.scheduler.resume()
                self._leading = True
                log.info("timers: this process is the leader")
                return
            self._stop.wait(self.standby_poll)

    def ensure_jobs(self) -> None:
        from ivr import callback_timers, case_timers

        callback_timers.ensure(self.scheduler)
        case_timers.ensure(self.scheduler)
        self.scheduler.add_job(
            reconcile_calls,
            "interval",
            seconds=RECONCILE_EVERY.total_seconds(),
            id="reconcile_calls",
            replace_existing=True,
        )
        self.scheduler.add_job(
            sweep_recordings,
            "interval",
            seconds=RECORDINGS_SWEEP_EVERY.total_seconds(),
            next_run_time=datetime.now(UTC),  # at start-up too
            id="sweep_recordings",
            replace_existing=True,
        )
        self.scheduler.add_job(
            purge_recordings,
            "interval",
            seconds=RETENTION_EVERY.total_seconds(),
            id="purge_recordings",
            replace_existing=True,
        )

    @property
    def leading(self) -> bool:
        return self._leading

    def wait_until_leading(self, timeout: float) -> bool:
        if self._thread is not None:
            self._thread.join(timeout)
        return self.leading

    def shutdown(self) -> None:
        self._stop.set()
        self._leading = False
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        self.lock.release()

    def schedule(self, func: Any, *, run_date: Any, job_id: str, args: tuple = ()) -> None:
        """A one-off timer (callbacks, deadlines): stored, so it survives a restart. A job
        this process already stored for the same time is not written again."""
        now = datetime.now(UTC)
        with self._stored_lock:
            if self._stored.get(job_id) == run_date and run_date > now:
                return
            if len(self._stored) > STORED_MEMORY:
                self._stored = {k: at for k, at in self._stored.items() if at > now}
            self._stored[job_id] = run_date
        self.scheduler.add_job(
            func, "date", run_date=run_date, id=job_id, args=args, replace_existing=True
        )
