"""Agents, their skills and levels, and the queue entries waiting for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, Text, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ivr.calls.models import Call
from ivr.db import Base, UTCDateTime, json_type
from ivr.routing.policy import RoutingPolicy

# The session.info key of the routing policy the order keys are made with (the service's;
# `ivr.app` sets it on every session). Without it, the default policy.
ROUTING_POLICY = "ivr.routing_policy"

AGENT_STATES = ("offline", "available", "reserved", "busy", "wrap-up", "not-ready")
# scheduled: a callback waiting for its time, not yet in the router.
ENTRY_STATES = ("waiting", "reserved", "connected", "abandoned", "left", "done", "scheduled")
# call: a caller on the line; callback: a customer to call back (nobody is on the line).
ENTRY_KINDS = ("call", "callback")
# A reservation is active while offered (the agent's phone rings) or connected.
RESERVATION_STATES = ("offered", "connected", "completed", "missed", "canceled")
ACTIVE_RESERVATION = "status IN ('offered', 'connected')"


class Skill(Base):
    __tablename__ = "skills"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(200))


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # client:NAME (browser softphone), sip:user@host, or an E.164 number (a mobile)
    endpoint: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16), default="offline")
    state_reason: Mapped[str | None] = mapped_column(String(64))
    state_since: Mapped[datetime] = mapped_column(UTCDateTime())
    # Since when the agent has been free: the longest-idle strategy serves the oldest first.
    idle_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    wrapup_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    skills: Mapped[list[AgentSkill]] = relationship(
        back_populates="agent", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (
        CheckConstraint(f"state IN {AGENT_STATES}", name="state"),
        Index("ix_agents_state", "state"),
    )

    def level(self, skill_name: str) -> int:
        """The agent's level in a skill, 0 when the agent does not have it."""
        for agent_skill in self.skills:
            if agent_skill.skill.name == skill_name:
                return agent_skill.level
        return 0


class AgentSkill(Base):
    __tablename__ = "agent_skills"

    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    level: Mapped[int] = mapped_column()

    agent: Mapped[Agent] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="level"),)


class QueueEntry(Base):
    """A caller waiting for a person: the skills they need, their priority and since when."""

    __tablename__ = "queue_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    queue_name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="call", server_default="call")
    priority: Mapped[int] = mapped_column(default=0)
    reasons: Mapped[list[str]] = mapped_column(json_type(), default=list)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # entered_at as seconds since the epoch: aging and skill expansion are arithmetic on it,
    # in SQL that is the same on SQLite and PostgreSQL.
    entered_epoch: Mapped[float] = mapped_column(Float)
    # The required skills as text ("billing:2,general:1"): callers with the same needs form
    # one group, so a routing sweep looks at groups, not at every caller.
    skills_key: Mapped[str] = mapped_column(String(200), default="")
    # The router's order without the clock: a caller's rank, priority plus aging since
    # entry, sorts the same as this ascending (`RoutingPolicy.order_key`). It is kept by a
    # flush hook (`ivr.routing.queue`), so one index walk per group finds the best callers.
    order_key: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="waiting")
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    note: Mapped[str | None] = mapped_column(Text)
    extra: Mapped[dict[str, Any]] = mapped_column(json_type(), default=dict)
    # Bumped by every ORM update, which only applies to the version it read: a webhook that
    # read the entry as waiting cannot then overwrite the router's reservation made
    # meanwhile (on PostgreSQL both run at once); `Database.run` does its work again.
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    required: Mapped[list[QueueEntrySkill]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", lazy="selectin"
    )
    call: Mapped[Call] = relationship()

    __table_args__ = (
        CheckConstraint(f"status IN {ENTRY_STATES}", name="status"),
        CheckConstraint(f"kind IN {ENTRY_KINDS}", name="kind"),
        Index("ix_queue_entries_status_entered", "status", "entered_at"),
        Index("ix_queue_entries_status_group", "status", "skills_key", "entered_epoch"),
        Index(
            "ix_queue_entries_status_group_order",
            "status", "skills_key", "order_key", "entered_epoch", "id",
        ),
    )

    __mapper_args__ = {"version_id_col": version}

    @property
    def skills(self) -> dict[str, int]:
        """Required skills with their minimum levels."""
        return {req.skill.name: req.min_level for req in self.required}


class QueueEntrySkill(Base):
    __tablename__ = "queue_entry_skills"

    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id"), primary_key=True)
    skill_id: Mapped[int] = mapped_column(ForeignKey("skills.id"), primary_key=True)
    min_level: Mapped[int] = mapped_column(default=1)

    entry: Mapped[QueueEntry] = relationship(back_populates="required")
    skill: Mapped[Skill] = relationship(lazy="joined")

    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 5", name="min_level"),)


class Reservation(Base):
    """An agent and a queue entry held for each other: made in one transaction, so that no
    agent gets two calls and no call two agents (unique while active, as a last line)."""

    __tablename__ = "reservations"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("queue_entries.id"))
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="offered")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    agent_call_sid: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(String(32))

    entry: Mapped[QueueEntry] = relationship()
    agent: Mapped[Agent] = relationship()

    __table_args__ = (
        CheckConstraint(f"status IN {RESERVATION_STATES}", name="status"),
        Index(
            "ux_reservations_active_agent",
            "agent_id",
            unique=True,
            sqlite_where=text(ACTIVE_RESERVATION),
            postgresql_where=text(ACTIVE_RESERVATION),
        ),
        Index(
            "ux_reservations_active_entry",
            "entry_id",
            unique=True,
            sqlite_where=text(ACTIVE_RESERVATION),
            postgresql_where=text(ACTIVE_RESERVATION),
        ),
    )

    @property
    def active(self) -> bool:
        return self.status in ("offered", "connected")


@event.listens_for(Session, "before_flush")
def _keep_order_keys(session: Session, _context: Any, _instances: Any) -> None:
    """Every new or changed queue entry gets the order key of its priority and time of entry,
    whichever code path made or changed it (enqueue, transfer, callbacks, case priority)."""
    policy = session.info.get(ROUTING_POLICY) or _DEFAULT_POLICY
    for obj in (*session.new, *session.dirty):
        if isinstance(obj, QueueEntry) and obj.entered_epoch is not None:
            key = policy.order_key(obj.priority or 0, obj.entered_epoch)
            if obj.order_key != key:
                obj.order_key = key


_DEFAULT_POLICY = RoutingPolicy()
