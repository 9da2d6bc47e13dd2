"""Full-text search over transcripts: each hit is a segment, with its call, recording, speaker
and time offset in the recording.

SQLite: an FTS5 table (`transcript_search`, rowid = segment id, unicode61 tokens) that the
migration creates and `index_segments` keeps in step, in the segments' own transaction.
PostgreSQL: `to_tsvector('simple', text)` with a GIN expression index; 'simple' neither stems
nor drops stop words, so Korean and every other language are searched word for word."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, column, exists, func, literal_column, select, text
from sqlalchemy.orm import Session

from ivr.calls.models import Call
from ivr.routing.models import Agent, QueueEntry, QueueEntrySkill, Skill
from recordings.models import Recording, TranscriptSegment

FTS_TABLE = "transcript_search"
# The FTS5 table and the shadow tables SQLite keeps for it: owned by the migration, not the
# models (Alembic's comparison must leave them alone).
FTS_TABLES = frozenset(
    {
        FTS_TABLE,
        *(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config")),
    }
)
MAX_TERMS = 12
TERM = re.compile(r"[\w]+\*?", re.UNICODE)


class SearchError(ValueError):
    """The query cannot be searched; the message says why."""


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None  # calls started at or after
    until: datetime | None = None  # calls started before
    agent_id: int | None = None
    skill: str | None = None
    outcome: str | None = None
    agent_only: int | None = None  # an agent's own calls only (access rule)


@dataclass(frozen=True)
class Hit:
    call_id: int
    call_sid: str
    call_started_at: datetime
    outcome: str | None
    recording_id: int
    recording_sid: str
    agent: str | None
    segment_id: int
    speaker: str
    start_seconds: float
    end_seconds: float
    text: str
    confidence: float

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "call_sid": self.call_sid,
            "call_started_at": self.call_started_at.isoformat(),
            "outcome": self.outcome,
            "recording_id": self.recording_id,
            "recording_sid": self.recording_sid,
            "agent": self.agent,
            "segment": {
                "id": self.segment_id,
                "speaker": self.speaker,
                "start_seconds": self.start_seconds,
                "end_seconds": self.end_seconds,
                "text": self.text,
                "confidence": self.confidence,
            },
        }


def terms_of(query: str) -> list[str]:
    """The words of a query; `word*` matches words that start with `word`."""
    terms = TERM.findall(query or "")
    if not terms:
        raise SearchError("give at least one word to search for")
    if len(terms) > MAX_TERMS:
        raise SearchError(f"at most {MAX_TERMS} words in one search")
    return terms


def _fts5_query(terms: list[str]) -> str:
    # Each word quoted, so nothing a user types is read as FTS5 syntax.
    return " ".join(f'"{term[:-1]}"*' if term.endswith("*") else f'"{term}"' for term in terms)


def _tsquery(terms: list[str]) -> str:
    return " & ".join(f"{term[:-1]}:*" if term.endswith("*") else term for term in terms)


def search(
    session: Session, *, query: str, filters: Filters = Filters(), limit: int = 50
) -> list[Hit]:
    """Segments containing every word of `query`, newest calls first, then in the order they
    were said."""
    terms = terms_of(query)
    statement = (
        select(TranscriptSegment, Recording, Call, Agent.name)
        .join(Recording, Recording.id == TranscriptSegment.recording_id)
        .join(Call, Call.id == Recording.call_id)
        .outerjoin(Agent, Agent.id == Recording.agent_id)
    )
    if session.get_bind().dialect.name == "sqlite":
        matching = (
            text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts")
            .bindparams(fts=_fts5_query(terms))
            .columns(column("rowid", Integer))
        )
        statement = statement.where(TranscriptSegment.id.in_(matching))
    else:
        vector = func.to_tsvector(literal_column("'simple'"), TranscriptSegment.text)
        wanted = func.to_tsquery(literal_column("'simple'"), _tsquery(terms))
        statement = statement.where(vector.op("@@")(wanted))
    statement = _filtered(statement, filters)
    statement = statement.order_by(
        Call.started_at.desc(), Recording.id, TranscriptSegment.position
    ).limit(max(1, min(limit, 500)))
    return [
        Hit(
            call_id=call.id,
            call_sid=call.sid,
            call_started_at=call.started_at,
            outcome=call.outcome,
            recording_id=recording.id,
            recording_sid=recording.sid,
            agent=agent_name,
            segment_id=segment.id,
            speaker=segment.speaker,
            start_seconds=segment.start_seconds,
            end_seconds=segment.end_seconds,
            text=segment.text,
            confidence=segment.confidence,
        )
        for segment, recording, call, agent_name in session.execute(statement)
    ]


def _filtered(statement: Any, filters: Filters) -> Any:
    if filters.since is not None:
        statement = statement.where(Call.started_at >= filters.since)
    if filters.until is not None:
        statement = statement.where(Call.started_at < filters.until)
    if filters.agent_id is not None:
        statement = statement.where(Recording.agent_id == filters.agent_id)
    if filters.agent_only is not None:
        statement = statement.where(Recording.agent_id == filters.agent_only)
    if filters.outcome:
        statement = statement.where(Call.outcome == filters.outcome)
    if filters.skill:
        needed = (
            select(QueueEntry.id)
            .join(QueueEntrySkill, QueueEntrySkill.entry_id == QueueEntry.id)
            .join(Skill, Skill.id == QueueEntrySkill.skill_id)
            .where(QueueEntry.call_id == Call.id, Skill.name == filters.skill)
        )
        statement = statement.where(exists(needed))
    return statement


def index_segments(session: Session, segments: list[TranscriptSegment]) -> None:
    """Add flushed segments to the SQLite index (PostgreSQL's index follows the table)."""
    if not segments or session.get_bind().dialect.name != "sqlite":
        return
    session.execute(
        text(f"INSERT INTO {FTS_TABLE} (rowid, text) VALUES (:id, :text)"),
        [{"id": segment.id, "text": segment.text} for segment in segments],
    )


def unindex_segments(session: Session, segment_ids: list[int]) -> None:
    if not segment_ids or session.get_bind().dialect.name != "sqlite":
        return
    session.execute(
        text(f"DELETE FROM {FTS_TABLE} WHERE rowid = :id"), [{"id": i} for i in segment_ids]
    )
