"""Recordings, their transcripts (segments with word timings) and who listened to them.

A recording's audio and its transcript have lives of their own: the audio is downloaded,
stored and one day deleted by retention; the transcript is made once a speech model is there
and may outlive the audio."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, func, literal_column
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.db import Base, UTCDateTime, json_type

KINDS = ("conversation", "voicemail")
# recording: the carrier is still recording; pending: to download (again at next_attempt_at);
# downloading: claimed by a worker until lease_until; stored: the audio is ours; failed: the
# download was given up (error says why); absent: the carrier recorded nothing; deleted: by
# retention.
AUDIO_STATES = ("recording", "pending", "downloading", "stored", "failed", "absent", "deleted")
# pending: waits for stored audio; running: claimed by a worker until lease_until; done;
# no-model: waits for a speech model; failed: the audio cannot be decoded (error says why).
TRANSCRIPT_STATES = ("pending", "running", "done", "no-model", "failed")
SPEAKERS = ("agent", "customer", "mixed")


class Recording(Base):
    __tablename__ = "recordings"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)  # the carrier's RecordingSid
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    # The agent on the recorded conversation (access rule, search filter); none for voicemail.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    source_url: Mapped[str] = mapped_column(String(500))
    channels: Mapped[int] = mapped_column(default=1)
    duration_seconds: Mapped[int | None] = mapped_column()
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    audio_status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    storage_key: Mapped[str | None] = mapped_column(String(300))
    media_type: Mapped[str | None] = mapped_column(String(40))
    size_bytes: Mapped[int | None] = mapped_column()
    sha256: Mapped[str | None] = mapped_column(String(64))
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    carrier_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    audio_deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    transcript_status: Mapped[str] = mapped_column(String(16), default="pending")
    transcribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    speech_model: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(Text)  # the current problem, for a person

    segments: Mapped[list[TranscriptSegment]] = relationship(
        back_populates="recording",
        order_by="TranscriptSegment.position",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        CheckConstraint(f"kind IN {KINDS}", name="kind"),
        CheckConstraint(f"audio_status IN {AUDIO_STATES}", name="audio_status"),
        CheckConstraint(f"transcript_status IN {TRANSCRIPT_STATES}", name="transcript_status"),
        Index("ix_recordings_audio_due", "audio_status", "next_attempt_at"),
        Index("ix_recordings_transcript_status", "transcript_status"),
    )


class TranscriptSegment(Base):
    """One stretch of speech by one speaker: its place in the recording, text and words."""

    __tablename__ = "transcript_segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    position: Mapped[int] = mapped_column()  # order in the dialogue
    speaker: Mapped[str] = mapped_column(String(16))
    channel: Mapped[int] = mapped_column()  # 1-based, as in the audio file
    start_seconds: Mapped[float] = mapped_column(Float)
    end_seconds: Mapped[float] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    # [[word, start, end, confidence], ...] as the recogniser gave them
    words: Mapped[list[Any]] = mapped_column(json_type(), default=list)

    recording: Mapped[Recording] = relationship(back_populates="segments")

    __table_args__ = (
        CheckConstraint(f"speaker IN {SPEAKERS}", name="speaker"),
        # PostgreSQL full-text search: the 'simple' configuration (no stemming, no stop words)
        # works for Korean and every other language. SQLite has an FTS5 table instead,
        # created by the migration (recordings.search).
        Index(
            "ix_transcript_segments_search",
            func.to_tsvector(literal_column("'simple'"), literal_column("text")),
            postgresql_using="gin",
        ).ddl_if(dialect="postgresql"),
    )


class RecordingAccess(Base):
    """The audit log: every playback or download of a recording's audio."""

    __tablename__ = "recording_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    recording_id: Mapped[int] = mapped_column(ForeignKey("recordings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    username: Mapped[str] = mapped_column(String(64))  # as it was at the time
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(16))  # play, download
    byte_range: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (CheckConstraint("action IN ('play', 'download')", name="action"),)
