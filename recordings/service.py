"""Recording ingest, one transaction step at a time: a recording callback notes the recording
(once, whatever order and however often callbacks come), a worker claims its download, the
audio is stored and checked, then transcribed. Each function flushes; the caller commits.
Nothing here talks to the carrier or the storage: `recordings.worker` does, between steps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import Call
from ivr.routing.models import Reservation
from recordings import search
from recordings.models import Recording, TranscriptSegment
from recordings.transcribe import Transcript

MAX_ATTEMPTS = 6
LEASE = timedelta(minutes=10)  # a worker that dies mid-way gives its claim up after this
# The order a recording's audio moves in: a late or repeated callback never moves it back.
AUDIO_RANK = {
    "recording": 0,
    "pending": 1,
    "downloading": 2,
    "failed": 3,
    "stored": 3,
    "absent": 3,
    "deleted": 4,
}


class RecordingError(ValueError):
    """A request about a recording that cannot be done; the message says why."""


@dataclass(frozen=True)
class Download:
    """What a worker needs to fetch a claimed recording."""

    recording_id: int
    sid: str
    url: str
    started_at: datetime
    attempt: int


def note_recording(
    session: Session,
    *,
    call: Call,
    sid: str,
    url: str,
    status: str,
    now: datetime,
    kind: str | None = None,
    source: str | None = None,
    channels: int | None = None,
    duration: int | None = None,
    started_at: datetime | None = None,
) -> Recording | None:
    """Note what the carrier says of a recording. Returns the recording when its download
    should be queued now (the first `completed`), else None: a repeated or late callback
    changes nothing that has moved on."""
    if not sid.startswith("RE") or not sid.isalnum():
        raise RecordingError(f"RecordingSid {sid!r} is not a recording SID")
    kind = kind or ("voicemail" if source == "RecordVerb" else "conversation")
    recording = session.scalar(select(Recording).where(Recording.sid == sid))
    if recording is None:
        recording = Recording(
            sid=sid,
            call_id=call.id,
            agent_id=agent_of(session, call) if kind == "conversation" else None,
            kind=kind,
            source_url=url,
            channels=channels or 1,
            duration_seconds=duration,
            started_at=started_at or now,
            created_at=now,
            audio_status="recording",
            transcript_status="pending",
        )
        session.add(recording)
    else:
        recording.channels = channels or recording.channels
        recording.duration_seconds = (
            duration if duration is not None else recording.duration_seconds
        )
        if kind == "voicemail":
            recording.kind = "voicemail"  # the <Record> action knows best
            recording.agent_id = None
    target = {"completed": "pending", "absent": "absent", "failed": "failed"}.get(status)
    if target is None or AUDIO_RANK[target] <= AUDIO_RANK[recording.audio_status]:
        session.flush()
        return None
    recording.audio_status = target
    recording.next_attempt_at = now if target == "pending" else None
    if target != "pending":
        recording.error = f"the carrier reports the recording {status}"
    session.flush()
    return recording if target == "pending" else None


def agent_of(session: Session, call: Call) -> int | None:
    """The agent the call was last connected to."""
    return session.scalar(
        select(Reservation.agent_id)
        .where(Reservation.call_id == call.id, Reservation.answered_at.is_not(None))
        .order_by(Reservation.id.desc())
        .limit(1)
    )


def claim_download(session: Session, *, recording_id: int, now: datetime) -> Download | None:
    """Take the recording's download for this worker, unless someone else has it or it is
    done. One conditional UPDATE, so two workers (or processes) never both get it."""
    claimable = or_(
        Recording.audio_status == "pending",
        and_(Recording.audio_status == "downloading", Recording.lease_until < now),
    )
    claimed = session.execute(
        update(Recording)
        .where(Recording.id == recording_id, claimable)
        .values(
            audio_status="downloading",
            lease_until=now + LEASE,
            attempts=Recording.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    recording = session.get(Recording, recording_id)
    session.refresh(recording)
    return Download(
        recording_id=recording.id,
        sid=recording.sid,
        url=recording.source_url,
        started_at=recording.started_at,
        attempt=recording.attempts,
    )


def download_failed(
    session: Session, *, recording_id: int, error: str, now: datetime, retry_seconds: float
) -> datetime | None:
    """Count a failed attempt: try again later (backoff doubling from `retry_seconds`), or
    give up after MAX_ATTEMPTS. Returns when to try again, None when given up."""
    recording = session.get(Recording, recording_id)
    recording.lease_until = None
    if recording.attempts >= MAX_ATTEMPTS:
        recording.audio_status = "failed"
        recording.next_attempt_at = None
        recording.error = (
            f"download failed {recording.attempts} times, giving up: {error}; the carrier "
            "still has the recording (`ivr recordings retry` tries again)"
        )
        events.record(
            session,
            "recording.download_failed",
            at=now,
            call_id=recording.call_id,
            recording_id=recording.id,
            attempts=recording.attempts,
            error=error,
        )
        session.flush()
        return None
    delay = retry_seconds * 2 ** (recording.attempts - 1)
    recording.audio_status = "pending"
    recording.next_attempt_at = now + timedelta(seconds=delay)
    recording.error = f"download attempt {recording.attempts} of {MAX_ATTEMPTS} failed: {error}"
    session.flush()
    return recording.next_attempt_at


def retry(session: Session, *, recording: Recording, now: datetime) -> None:
    """Start over a download that was given up (`ivr recordings retry`)."""
    if recording.audio_status != "failed":
        raise RecordingError(f"recording {recording.sid} is {recording.audio_status}, not failed")
    recording.audio_status = "pending"
    recording.attempts = 0
    recording.next_attempt_at = now
    recording.error = None
    session.flush()


def audio_stored(
    session: Session,
    *,
    recording_id: int,
    key: str,
    size: int,
    checksum: str,
    media_type: str,
    now: datetime,
    problem: str | None = None,
) -> Recording:
    """The audio is in storage and has been read back whole. `problem`: what is wrong with
    the audio itself (it is kept all the same, and so is the carrier's copy)."""
    recording = session.get(Recording, recording_id)
    recording.audio_status = "stored"
    recording.storage_key = key
    recording.size_bytes = size
    recording.sha256 = checksum
    recording.media_type = media_type
    recording.stored_at = now
    recording.lease_until = None
    recording.next_attempt_at = None
    recording.error = problem
    events.record(
        session,
        "recording.stored",
        at=now,
        call_id=recording.call_id,
        recording_id=recording.id,
        sid=recording.sid,
        bytes=size,
        sha256=checksum,
    )
    session.flush()
    return recording


def carrier_copy_deleted(session: Session, *, recording_id: int, now: datetime) -> None:
    recording = session.get(Recording, recording_id)
    recording.carrier_deleted_at = now
    session.flush()


@dataclass(frozen=True)
class TranscriptionJob:
    recording_id: int
    sid: str
    storage_key: str
    kind: str
    channels: int


def claim_transcription(
    session: Session, *, recording_id: int, now: datetime
) -> TranscriptionJob | None:
    """Take the recording's transcription for this worker: stored audio, not yet transcribed
    (or waiting for a model), not claimed by a live worker."""
    claimable = or_(
        Recording.transcript_status.in_(("pending", "no-model")),
        and_(Recording.transcript_status == "running", Recording.lease_until < now),
    )
    claimed = session.execute(
        update(Recording)
        .where(Recording.id == recording_id, Recording.audio_status == "stored", claimable)
        .values(transcript_status="running", lease_until=now + LEASE)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    recording = session.get(Recording, recording_id)
    session.refresh(recording)
    return TranscriptionJob(
        recording_id=recording.id,
        sid=recording.sid,
        storage_key=recording.storage_key or "",
        kind=recording.kind,
        channels=recording.channels,
    )


def store_transcript(
    session: Session, *, recording_id: int, transcript: Transcript, now: datetime
) -> Recording:
    """The segments, and their search index entries, in this same transaction."""
    recording = session.get(Recording, recording_id)
    _drop_segments(session, recording)
    rows = [
        TranscriptSegment(
            recording_id=recording.id,
            position=position,
            speaker=segment.speaker,
            channel=segment.channel,
            start_seconds=segment.start,
            end_seconds=segment.end,
            text=segment.text,
            confidence=segment.confidence,
            words=[[w.word, w.start, w.end, w.confidence] for w in segment.words],
        )
        for position, segment in enumerate(transcript.segments)
    ]
    session.add_all(rows)
    session.flush()
    search.index_segments(session, rows)
    recording.transcript_status = "done"
    recording.transcribed_at = now
    recording.speech_model = transcript.model or None
    recording.lease_until = None
    if recording.error and recording.error.startswith("no speech model"):
        recording.error = None
    events.record(
        session,
        "recording.transcribed",
        at=now,
        call_id=recording.call_id,
        recording_id=recording.id,
        segments=len(rows),
        words=sum(len(s.words) for s in transcript.segments),
        model=transcript.model,
    )
    session.flush()
    return recording


def transcription_unavailable(
    session: Session, *, recording_id: int, status: str, reason: str, now: datetime
) -> None:
    """No transcript for now: `no-model` (made once a model is configured) or `failed`
    (the audio cannot be decoded). The audio is kept either way."""
    recording = session.get(Recording, recording_id)
    recording.transcript_status = status
    recording.lease_until = None
    recording.error = reason
    if status == "failed":
        events.record(
            session,
            "recording.transcription_failed",
            at=now,
            call_id=recording.call_id,
            recording_id=recording.id,
            error=reason,
        )
    session.flush()


def _drop_segments(session: Session, recording: Recording) -> None:
    old = list(
        session.scalars(
            select(TranscriptSegment).where(TranscriptSegment.recording_id == recording.id)
        )
    )
    if not old:
        return
    search.unindex_segments(session, [segment.id for segment in old])
    for segment in old:
        session.delete(segment)
    session.flush()


def drop_transcript(session: Session, *, recording: Recording) -> int:
    """Delete a recording's segments and their index entries; returns how many."""
    count = len(recording.segments)
    _drop_segments(session, recording)
    session.expire(recording, ["segments"])
    return count


def due_downloads(session: Session, *, now: datetime, limit: int = 100) -> list[int]:
    """Recordings to download now: pending and due, or claimed by a worker that is gone."""
    return list(
        session.scalars(
            select(Recording.id)
            .where(
                or_(
                    and_(
                        Recording.audio_status == "pending",
                        or_(Recording.next_attempt_at.is_(None), Recording.next_attempt_at <= now),
                    ),
                    and_(Recording.audio_status == "downloading", Recording.lease_until < now),
                )
            )
            .order_by(Recording.id)
            .limit(limit)
        )
    )


def waiting_transcriptions(
    session: Session, *, now: datetime, include_no_model: bool = True, limit: int = 100
) -> list[int]:
    """Stored recordings without a transcript: never tried, waiting for a model (when
    `include_no_model`), or claimed by a worker that is gone."""
    waiting = ("pending", "no-model") if include_no_model else ("pending",)
    return list(
        session.scalars(
            select(Recording.id)
            .where(
                Recording.audio_status == "stored",
                or_(
                    Recording.transcript_status.in_(waiting),
                    and_(Recording.transcript_status == "running", Recording.lease_until < now),
                ),
            )
            .order_by(Recording.id)
            .limit(limit)
        )
    )
