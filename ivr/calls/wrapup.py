"""Wrap-up: after a conversation the agent records what the call was about (a request
category from the report policy's list), whether it was resolved, and notes. Saving it ends
the agent's wrap-up time: they are free for the next caller."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import Call, CallWrapUp
from ivr.routing.models import Agent, Reservation
from ivr.routing.presence import set_state

NOTES_LIMIT = 4000


class WrapUpError(ValueError):
    """A wrap-up that cannot be saved; the message says which field and why."""


class NotTheirCall(WrapUpError):
    """The agent did not talk to the caller on this call."""


def handled_by(session: Session, *, call: Call, agent_id: int) -> bool:
    """Whether the agent talked to the caller on this call (a connected or completed
    reservation: a transferred call has one per agent)."""
    return session.scalar(
        select(Reservation.id).where(
            Reservation.call_id == call.id,
            Reservation.agent_id == agent_id,
            Reservation.status.in_(("connected", "completed")),
        ).limit(1)
    ) is not None


def save_wrap_up(
    session: Session,
    *,
    call: Call,
    agent: Agent,
    category: str,
    resolved: bool,
    notes: str | None,
    categories: tuple[str, ...],
    now: datetime,
) -> CallWrapUp:
    """Record (or correct) the agent's wrap-up of the call. An agent still in wrap-up becomes
    available: finishing the form is finishing wrap-up."""
    if category not in categories:
        raise WrapUpError(f"category {category!r} is not in the list: {', '.join(categories)}")
    if notes is not None and len(notes) > NOTES_LIMIT:
        raise WrapUpError(f"notes are limited to {NOTES_LIMIT} characters")
    if not handled_by(session, call=call, agent_id=agent.id):
        raise NotTheirCall(f"{agent.name} did not talk to the caller on call {call.id}")
    wrap_up = session.scalar(
        select(CallWrapUp).where(CallWrapUp.call_id == call.id, CallWrapUp.agent_id == agent.id)
    )
    corrected = wrap_up is not None
    if wrap_up is None:
        wrap_up = CallWrapUp(call_id=call.id, agent_id=agent.id)
        session.add(wrap_up)
    wrap_up.category, wrap_up.resolved, wrap_up.notes, wrap_up.at = category, resolved, notes, now
    session.flush()
    events.record(
        session,
        "call.wrapped_up",
        at=now,
        call_id=call.id,
        agent_id=agent.id,
        category=category,
        resolved=resolved,
        corrected=corrected,
    )
    if agent.state == "wrap-up":
        set_state(session, agent=agent, state="available", now=now, by="wrap-up done")
    return wrap_up
