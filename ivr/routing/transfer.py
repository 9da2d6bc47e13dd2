"""Escalation and transfer with context: the caller keeps their priority, their place in time
and their history; the note travels with them. A transfer to a named agent is only offered
when that agent is free (no blind transfers)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import CallNote
from ivr.routing import queue
from ivr.routing.models import Agent, QueueEntry, QueueEntrySkill, Reservation
from ivr.routing.presence import set_state
from ivr.routing.reservations import finished


class TransferError(ValueError):
    """The transfer cannot happen as asked; the message says why."""


def _handover(
    session: Session,
    *,
    reservation: Reservation,
    note: str,
    now: datetime,
    wrap_up_seconds: int,
    target: str,
) -> QueueEntry:
    """Close the first agent's part and open a new entry for the same caller, with the
    same priority and time of entry, carrying the note."""
    if reservation.status != "connected":
        raise TransferError("only a connected call can be transferred")
    if not note.strip():
        raise TransferError("a transfer needs a note, so the next person knows why")
    old = reservation.entry
    agent = reservation.agent
    session.add(CallNote(call_id=reservation.call_id, agent_id=agent.id, at=now, text=note))
    finished(session, reservation=reservation, now=now, wrap_up_seconds=wrap_up_seconds)
    entry = QueueEntry(
        call_id=old.call_id,
        queue_name=old.queue_name,
        priority=old.priority,
        reasons=[*old.reasons, f"transferred by {agent.name} to {target}"],
        entered_at=old.entered_at,
        entered_epoch=old.entered_epoch,
        skills_key="",
        status="waiting",
        note=note,
        extra={"transferred_from": agent.name, "previous_entry": old.id},
    )
    session.add(entry)
    return entry


def to_skill(
    session: Session,
    *,
    reservation: Reservation,
    skill: str,
    note: str,
    now: datetime,
    wrap_up_seconds: int,
    min_level: int = 1,
) -> QueueEntry:
    """Escalate to a skill (for example tier 2): the caller waits for the next eligible agent
    there, ahead of those who called after them."""
    entry = _handover(
        session,
        reservation=reservation,
        note=note,
        now=now,
        wrap_up_seconds=wrap_up_seconds,
        target=skill,
    )
    entry.required.append(
        QueueEntrySkill(skill=queue.ensure_skill(session, skill), min_level=min_level)
    )
    entry.skills_key = queue.skills_key({skill: min_level})
    entry.queue_name = skill
    session.flush()
    events.record(
        session,
        "routing.transferred",
        at=now,
        call_id=entry.call_id,
        agent_id=reservation.agent_id,
        entry_id=entry.id,
        to_skill=skill,
        note=note,
    )
    return entry


def to_agent(
    session: Session,
    *,
    reservation: Reservation,
    target: Agent,
    note: str,
    now: datetime,
    wrap_up_seconds: int,
) -> Reservation:
    """Transfer to a named agent who is free now: they are reserved at once for this caller."""
    if target.id == reservation.agent_id:
        raise TransferError("the call is already with this agent")
    if target.state != "available":
        raise TransferError(f"{target.name} is {target.state}; transfer only to a free agent")
    old_skills = reservation.entry.skills
    entry = _handover(
        session,
        reservation=reservation,
        note=note,
        now=now,
        wrap_up_seconds=wrap_up_seconds,
        target=target.name,
    )
    for name, level in old_skills.items():
        entry.required.append(
            QueueEntrySkill(skill=queue.ensure_skill(session, name), min_level=level)
        )
    entry.skills_key = queue.skills_key(old_skills)
    entry.status = "reserved"
    entry.agent_id = target.id
    session.flush()
    set_state(session, agent=target, state="reserved", now=now, by="transfer")
    new = Reservation(
        entry_id=entry.id,
        agent_id=target.id,
        call_id=entry.call_id,
        status="offered",
        created_at=now,
    )
    session.add(new)
    session.flush()
    events.record(
        session,
        "routing.transferred",
        at=now,
        call_id=entry.call_id,
        agent_id=reservation.agent_id,
        entry_id=entry.id,
        to_agent=target.name,
        note=note,
        reservation_id=new.id,
    )
    return new
