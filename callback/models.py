"""Callbacks (keeping a caller's place, or at a time they pick), their attempts, the missed
calls and the same-day follow-ups they create, and the do-not-call list."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.db import Base, UTCDateTime, json_type

if TYPE_CHECKING:
    from ivr.routing.models import QueueEntry

# courtesy: a call to tell a customer where their case stands (ivr.cases).
CALLBACK_KINDS = ("keep-place", "scheduled", "follow-up", "courtesy")
# pending: waiting for its turn in the router; scheduled: waiting for its time (or for the
# dialler's manners to allow a call); dialing: an attempt is under way.
CALLBACK_STATES = ("pending", "scheduled", "dialing", "completed", "failed", "canceled")
FOLLOW_UP_STATES = ("open", "done")
MISSED_KINDS = ("abandoned", "ivr-hangup", "after-hours", "voicemail", "callback-failed")


class Callback(Base):
    __tablename__ = "callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    number: Mapped[str] = mapped_column(String(32), index=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    # The queue entry that holds the callback's place (its time of entry and priority).
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("queue_entries.id"))
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=3)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(200))

    attempt_log: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="callback", order_by="CallbackAttempt.id", lazy="selectin"
    )
    # A callback made with a new entry names it here: both are written in one flush.
    entry: Mapped[QueueEntry | None] = relationship()

    __table_args__ = (
        CheckConstraint(f"kind IN {CALLBACK_KINDS}", name="kind"),
        CheckConstraint(f"status IN {CALLBACK_STATES}", name="status"),
        Index("ix_callbacks_status_due", "status", "due_at"),
    )


class CallbackAttempt(Base):
    """One try at reaching the customer: the agent's leg, the customer's leg, the result."""

    __tablename__ = "callback_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(ForeignKey("callbacks.id"), index=True)
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    agent_call_sid: Mapped[str | None] = mapped_column(String(64), index=True)
    customer_call_sid: Mapped[str | None] = mapped_column(String(64))
    answered_by: Mapped[str | None] = mapped_column(String(24))  # answering machine detection
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # completed, no-answer, busy, failed, machine, agent-missed, canceled
    result: Mapped[str | None] = mapped_column(String(20))

    callback: Mapped[Callback] = relationship(back_populates="attempt_log")


class FollowUp(Base):
    """The one open follow-up for a number: every missed call from it joins it. Due before the
    close of the business day (the next one for calls missed outside hours)."""

    __tablename__ = "follow_ups"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalate_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missed_count: Mapped[int] = mapped_column(default=1)
    last_missed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(64))
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    skills: Mapped[dict[str, int]] = mapped_column(json_type(), default=dict)

    __table_args__ = (
        CheckConstraint(f"status IN {FOLLOW_UP_STATES}", name="status"),
        # One open follow-up per number, even with two processes recording misses at once.
        Index(
            "ux_follow_ups_open_number",
            "number",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )


class MissedCall(Base):
    __tablename__ = "missed_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), index=True)
    number: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)

    __table_args__ = (CheckConstraint(f"kind IN {MISSED_KINDS}", name="kind"),)


class DoNotCall(Base):
    __tablename__ = "do_not_call"

    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)


class OutboundPacing(Base):
    """One row: when the next outbound call may start, shared by every process, so the
    dialler keeps to the carrier's calls-per-second limit across the whole service."""

    __tablename__ = "outbound_pacing"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())
