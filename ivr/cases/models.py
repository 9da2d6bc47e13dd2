"""Cases: one per request, with a number a person can key in, its calls, notes and timeline;
the service-level clocks that run on it; incidents (outages) that many callers share; and the
text messages that tell callers what happens next."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.db import Base, UTCDateTime

CASE_STATES = ("new", "in-progress", "waiting-on-customer", "resolved", "closed")
OPEN_STATES = ("new", "in-progress", "waiting-on-customer")
CLOCK_KINDS = ("response", "resolution", "courtesy")
CLOCK_STATES = ("running", "paused", "met", "breached", "stopped")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(6), unique=True)
    caller_number: Mapped[str] = mapped_column(String(32), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"))
    subject: Mapped[str] = mapped_column(String(64))  # the IVR topic or skill asked for
    category: Mapped[str | None] = mapped_column(String(64))
    impact: Mapped[str] = mapped_column(String(32))
    urgency: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(24), default="new")
    owner_agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    owner_skill: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(16))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(64))
    first_contact_resolution: Mapped[bool | None] = mapped_column()

    clocks: Mapped[list[CaseClock]] = relationship(
        back_populates="case", lazy="selectin", order_by="CaseClock.id"
    )

    __table_args__ = (
        CheckConstraint(f"status IN {CASE_STATES}", name="status"),
        Index("ix_cases_caller_status", "caller_number", "status"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def clock(self, kind: str) -> CaseClock | None:
        return next((c for c in self.clocks if c.kind == kind), None)


class CaseCall(Base):
    """A call that belongs to a case (a case has many; a call joins one)."""

    __tablename__ = "case_calls"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), primary_key=True, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseNote(Base):
    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)


class CaseClock(Base):
    """A service-level clock counted in business hours. While paused (waiting on the
    customer) its remaining business time is kept and the deadline moves on resume."""

    __tablename__ = "case_clocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    target_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    remaining_seconds: Mapped[float | None] = mapped_column()  # business seconds, when paused
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="clocks")

    __table_args__ = (
        CheckConstraint(f"kind IN {CLOCK_KINDS}", name="kind"),
        CheckConstraint(f"state IN {CLOCK_STATES}", name="state"),
    )


class Incident(Base):
    """An outage declared by a supervisor on a skill or a category, with the message callers
    choosing that subject hear first, until it is cleared."""

    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), index=True)
    message: Mapped[str] = mapped_column(Text)
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime())
    declared_by: Mapped[str] = mapped_column(String(64))
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    clear_message: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # One active incident per subject.
        Index("ux_incidents_active_subject", "subject", unique=True,
              sqlite_where=text("cleared_at IS NULL"),
              postgresql_where=text("cleared_at IS NULL")),
    )


class IncidentSubscriber(Base):
    """A caller who asked for a text message when the incident is fixed."""

    __tablename__ = "incident_subscribers"

    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    number: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class TextMessage(Base):
    """A text message to a caller: sent through the carrier, or held until their local
    hours allow it."""

    __tablename__ = "text_messages"
    # The sender's rounds look for held texts that are due and claims gone stale: a few rows
    # among all the texts ever sent.
    __table_args__ = (Index("ix_text_messages_status_send_after", "status", "send_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    to_number: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[str] = mapped_column(Text)
    purpose: Mapped[str] = mapped_column(String(32))  # case-opened, case-resolved, incident …
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    # held, sending (taken by a sender, the carrier not yet answered), sent, failed, dropped
    status: Mapped[str] = mapped_column(String(16), default="held")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    send_after: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When a sender took it: a text still `sending` long after was left by a sender that
    # stopped, and is looked up at the carrier (`messages.stale_claims`).
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sid: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
