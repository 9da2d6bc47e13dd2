"""What a supervisor does to the live queue and the follow-ups: move a waiting caller to
another skill, raise (or lower) their priority, hand an open follow-up to an agent; and an
agent's own worklist. Each change is a call event, so screens and reports see it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import Callback, CallbackAttempt, FollowUp
from ivr import events
from ivr.db import get_for_change
from ivr.routing import queue
from ivr.routing.models import Agent, QueueEntry, QueueEntrySkill

MAX_PRIORITY = 100
WAITING_CALLBACKS = ("pending", "scheduled", "dialing")


class SupervisionError(ValueError):
    """The change cannot be made now; the message says why."""


def waiting_entry(session: Session, *, entry_id: int) -> QueueEntry:
    """The entry, locked against the router (on PostgreSQL), if it is still waiting."""
    entry = get_for_change(session, QueueEntry, entry_id)
    if entry is None:
        raise LookupError(f"no queue entry {entry_id}")
    if entry.status != "waiting":
        raise SupervisionError(f"queue entry {entry_id} is {entry.status}, not waiting")
    return entry


def move_to_skill(
    session: Session, *, entry: QueueEntry, skill: str, min_level: int, now: datetime, by: str
) -> QueueEntry:
    """The caller now waits for `skill` (at `min_level`) instead of what they needed; they
    keep their priority and time of entry, so their place in time."""
    if not 1 <= min_level <= 5:
        raise SupervisionError("the level must be 1-5")
    previous = entry.skills
    if previous == {skill: min_level}:
        raise SupervisionError(f"the caller already waits for {skill}")
    entry.required.clear()
    session.flush()  # the old rows go before the new ones (same skill, other level)
    entry.required.append(
        QueueEntrySkill(skill=queue.ensure_skill(session, skill), min_level=min_level)
    )
    entry.skills_key = queue.skills_key({skill: min_level})
    entry.queue_name = skill
    entry.reasons = [*entry.reasons, f"moved to {skill} by {by}"]
    session.flush()
    events.record(session, "queue.moved", at=now, call_id=entry.call_id, entry_id=entry.id,
                  previous=previous, skills={skill: min_level}, by=by)
    return entry


def set_priority(
    session: Session, *, entry: QueueEntry, priority: int, reason: str, now: datetime, by: str
) -> QueueEntry:
    if not 0 <= priority <= MAX_PRIORITY:
        raise SupervisionError(f"priority must be 0-{MAX_PRIORITY}")
    if not reason.strip():
        raise SupervisionError("say why the priority changes (it is shown to the agent)")
    previous = entry.priority
    entry.priority = priority
    entry.reasons = [*entry.reasons, f"priority {previous} → {priority} by {by}: {reason}"]
    events.record(session, "queue.priority_changed", at=now, call_id=entry.call_id,
                  entry_id=entry.id, previous=previous, priority=priority, reason=reason, by=by)
    return entry


def assign_follow_up(
    session: Session, *, follow_up: FollowUp, agent: Agent, now: datetime, by: str
) -> FollowUp:
    """The agent owns the follow-up now: it is on their worklist until it is done."""
    if follow_up.status != "open":
        raise SupervisionError(f"follow-up {follow_up.id} is already done")
    previous = follow_up.owner_agent_id
    follow_up.owner_agent_id = agent.id
    events.record(session, "followup.assigned", at=now, agent_id=agent.id,
                  follow_up_id=follow_up.id, number=follow_up.number, previous_agent=previous,
                  by=by)
    return follow_up


def worklist(session: Session, *, agent_id: int) -> dict[str, Any]:
    """The agent's open follow-ups and the callbacks waiting for them (those of their
    follow-ups, and those they have already tried)."""
    owned = list(session.scalars(
        select(FollowUp)
        .where(FollowUp.owner_agent_id == agent_id, FollowUp.status == "open")
        .order_by(FollowUp.due_at)
    ))
    tried = select(CallbackAttempt.callback_id).where(CallbackAttempt.agent_id == agent_id)
    callbacks = list(session.scalars(
        select(Callback)
        .where(
            Callback.status.in_(WAITING_CALLBACKS),
            Callback.follow_up_id.in_([f.id for f in owned]) | Callback.id.in_(tried),
        )
        .order_by(Callback.due_at.is_(None), Callback.due_at, Callback.id)
    ))
    return {"follow_ups": owned, "callbacks": callbacks}
