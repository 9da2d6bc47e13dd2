"""Calls, the contacts who make them, and the append-only log of every step of every call."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ivr.db import Base, UTCDateTime, json_type

# Carrier call statuses in the order a call can pass through them; the last five are final.
STATUS_ORDER = {
    "queued": 0,
    "initiated": 1,
    "ringing": 2,
    "in-progress": 3,
    "completed": 4,
    "busy": 4,
    "no-answer": 4,
    "failed": 4,
    "canceled": 4,
}
FINAL_STATUSES = frozenset(s for s, rank in STATUS_ORDER.items() if rank == 4)
LIVE_STATUSES = tuple(s for s in STATUS_ORDER if s not in FINAL_STATUSES)
# The calls not over yet: a few among all ever made, looked for by reconciliation each minute.
LIVE_CALL = "status IN ({})".format(", ".join(f"'{s}'" for s in LIVE_STATUSES))


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(120))
    vip: Mapped[bool] = mapped_column(default=False)
    language: Mapped[str | None] = mapped_column(String(16))
    notes: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Call(Base):
    """One call leg as the carrier knows it, with the caller's path through the IVR."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    direction: Mapped[str] = mapped_column(String(16), default="inbound")
    from_number: Mapped[str] = mapped_column(String(32))
    to_number: Mapped[str] = mapped_column(String(32))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="in-progress")
    node: Mapped[str | None] = mapped_column(String(64))
    path: Mapped[list[dict[str, Any]]] = mapped_column(json_type(), default=list)
    vars: Mapped[dict[str, str]] = mapped_column(json_type(), default=dict)
    outcome: Mapped[str | None] = mapped_column(String(32), index=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    duration_seconds: Mapped[int | None] = mapped_column()

    contact: Mapped[Contact | None] = relationship()

    __table_args__ = (
        Index("ix_calls_from_started", "from_number", "started_at"),
        Index("ix_calls_live", "id", sqlite_where=text(LIVE_CALL),
              postgresql_where=text(LIVE_CALL)),
    )

    @property
    def is_over(self) -> bool:
        return self.status in FINAL_STATUSES


class CallEvent(Base):
    """One step of one call (or of one agent): append-only, reports are computed from it."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)


@event.listens_for(Session, "before_flush")
def _events_are_append_only(session: Session, _context: Any, _instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, CallEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise ValueError("call events are append-only: they cannot be changed or deleted")


class CallNote(Base):
    """A note an agent leaves on a call, for the next person who talks to the caller."""

    __tablename__ = "call_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)


class CallWrapUp(Base):
    """What the agent recorded after the call: the request category (from the configured
    list; the monthly report counts calls by it), whether it was resolved, and notes."""

    __tablename__ = "call_wrapups"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    resolved: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("call_id", "agent_id", name="call_agent"),)
