"""recordings, transcripts and their search index, the recordings audit log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 02:00:00

The full-text index is per engine: on PostgreSQL a GIN index on to_tsvector('simple', text)
(declared in the models too); on SQLite an FTS5 table whose rowid is the segment id, kept in
step by recordings.search in the segments' own transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import ivr.db

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("source_url", sa.String(length=500), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("started_at", ivr.db.UTCDateTime(), nullable=False),
        sa.Column("created_at", ivr.db.UTCDateTime(), nullable=False),
        sa.Column("audio_status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", ivr.db.UTCDateTime(), nullable=True),
        sa.Column("lease_until", ivr.db.UTCDateTime(), nullable=True),
        sa.Column("storage_key", sa.String(length=300), nullable=True),
        sa.Column("media_type", sa.String(length=40), nullable=True),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("stored_at", ivr.db.UTCDateTime(), nullable=True),
        sa.Column("carrier_deleted_at", ivr.db.UTCDateTime(), nullable=True),
        sa.Column("audio_deleted_at", ivr.db.UTCDateTime(), nullable=True),
        sa.Column("transcript_status", sa.String(length=16), nullable=False),
        sa.Column("transcribed_at", ivr.db.UTCDateTime(), nullable=True),
        sa.Column("speech_model", sa.String(length=200), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('conversation', 'voicemail')", name=op.f("ck_recordings_kind")
        ),
        sa.CheckConstraint(
            "audio_status IN ('recording', 'pending', 'downloading', 'stored', 'failed', "
            "'absent', 'deleted')",
            name=op.f("ck_recordings_audio_status"),
        ),
        sa.CheckConstraint(
            "transcript_status IN ('pending', 'running', 'done', 'no-model', 'failed')",
            name=op.f("ck_recordings_transcript_status"),
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_recordings_agent_id_agents")
        ),
        sa.ForeignKeyConstraint(
            ["call_id"], ["calls.id"], name=op.f("fk_recordings_call_id_calls")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
        sa.UniqueConstraint("sid", name=op.f("uq_recordings_sid")),
    )
    op.create_index(op.f("ix_recordings_agent_id"), "recordings", ["agent_id"])
    op.create_index(op.f("ix_recordings_call_id"), "recordings", ["call_id"])
    op.create_index(op.f("ix_recordings_started_at"), "recordings", ["started_at"])
    op.create_index("ix_recordings_audio_due", "recordings", ["audio_status", "next_attempt_at"])
    op.create_index("ix_recordings_transcript_status", "recordings", ["transcript_status"])

    op.create_table(
        "transcript_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.Integer(), nullable=False),
        sa.Column("start_seconds", sa.Float(), nullable=False),
        sa.Column("end_seconds", sa.Float(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("words", JSON, nullable=False),
        sa.CheckConstraint(
            "speaker IN ('agent', 'customer', 'mixed')", name=op.f("ck_transcript_segments_speaker")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_transcript_segments_recording_id_recordings"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_segments")),
    )
    op.create_index(
        op.f("ix_transcript_segments_recording_id"), "transcript_segments", ["recording_id"]
    )

    op.create_table(
        "recording_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", ivr.db.UTCDateTime(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("byte_range", sa.String(length=100), nullable=True),
        sa.CheckConstraint(
            "action IN ('play', 'download')", name=op.f("ck_recording_access_action")
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_access_recording_id_recordings"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_recording_access_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_access")),
    )
    op.create_index(op.f("ix_recording_access_at"), "recording_access", ["at"])
    op.create_index(op.f("ix_recording_access_recording_id"), "recording_access", ["recording_id"])
    op.create_index(op.f("ix_recording_access_user_id"), "recording_access", ["user_id"])

    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_transcript_segments_search ON transcript_segments "
            "USING gin (to_tsvector('simple', text))"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE transcript_search USING fts5("
            "text, tokenize = 'unicode61 remove_diacritics 2')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_transcript_segments_search")
    else:
        op.execute("DROP TABLE IF EXISTS transcript_search")
    op.drop_table("recording_access")
    op.drop_table("transcript_segments")
    op.drop_table("recordings")
