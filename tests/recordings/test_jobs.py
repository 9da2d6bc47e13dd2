"""The timers run the recordings' jobs: the sweep (work left by a stopped process) at start-up
and every minute, and retention every hour."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ivr import jobs
from ivr.calls.models import Call, CallEvent
from recordings import service
from recordings.models import Recording

from .conftest import new_call

SID = "RE" + "d" * 32


def test_the_timers_sweep_and_apply_retention(make_app, clock, carrier_double, dialogue):
    app = make_app(recording_retention_days=2, vosk_model="none")
    rt = app.extensions["ivr"]
    old_call = new_call(rt.db, clock.now() - timedelta(days=3))
    url = carrier_double.add(SID, dialogue)
    with rt.db.transaction() as session:
        recording = service.note_recording(
            session,
            call=session.get(Call, old_call),
            sid=SID,
            url=url,
            status="completed",
            now=clock.now(),
            channels=2,
            started_at=clock.now() - timedelta(days=3),
        )
        rid = recording.id
    timers = jobs.Timers(rt, standby_poll=0.05)
    timers.start()
    try:
        assert timers.wait_until_leading(10)
        ids = {job.id for job in timers.scheduler.get_jobs()}
        assert {"sweep_recordings", "purge_recordings"} <= ids
        jobs.sweep_recordings()  # what a restart finds pending is downloaded
        rt.recordings.shutdown(wait=True)
        with rt.db.transaction() as session:
            stored = session.get(Recording, rid)
            assert stored.audio_status == "stored"
            key = stored.storage_key
        jobs.purge_recordings()  # three days old, retention two: the audio goes
    finally:
        timers.shutdown()
    with rt.db.transaction() as session:
        assert session.get(Recording, rid).audio_status == "deleted"
        kinds = list(session.scalars(select(CallEvent.kind).where(CallEvent.call_id == old_call)))
    assert "recording.audio_deleted" in kinds
    assert rt.recordings.storage.local_path(key) is None
