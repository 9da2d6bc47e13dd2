"""Retention: audio older than the configured number of days is deleted (transcripts stay
unless configured otherwise); every deletion is a call event."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import events
from recordings import service
from recordings.models import Recording
from recordings.storage import Storage

log = logging.getLogger(__name__)


def expired(session: Session, *, now: datetime, days: int, limit: int = 500) -> list[int]:
    """Recordings whose audio has been kept `days` days (counted from the recording's start)."""
    if days <= 0:
        return []
    cutoff = now - timedelta(days=days)
    return list(
        session.scalars(
            select(Recording.id)
            .where(Recording.audio_status == "stored", Recording.started_at < cutoff)
            .order_by(Recording.id)
            .limit(limit)
        )
    )


def delete_audio(
    session: Session,
    *,
    recording_id: int,
    storage: Storage,
    now: datetime,
    days: int,
    keep_transcripts: bool = True,
) -> bool:
    """Delete one recording's audio (and its transcript when not kept). The file goes first:
    should the transaction then fail, the next run finds the file gone and finishes the job."""
    recording = session.get(Recording, recording_id)
    if recording is None or recording.audio_status != "stored" or not recording.storage_key:
        return False
    storage.delete(recording.storage_key)
    recording.audio_status = "deleted"
    recording.audio_deleted_at = now
    dropped = 0
    if not keep_transcripts:
        dropped = service.drop_transcript(session, recording=recording)
    events.record(
        session,
        "recording.audio_deleted",
        at=now,
        call_id=recording.call_id,
        recording_id=recording.id,
        sid=recording.sid,
        storage_key=recording.storage_key,
        retention_days=days,
        transcript_deleted=not keep_transcripts,
        segments_deleted=dropped,
    )
    session.flush()
    return True
