"""Agent presence: every change is timestamped and written as an event."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import events
from ivr.db import for_change
from ivr.routing.models import AGENT_STATES, Agent

# What an agent (or a supervisor for them) may choose; the others follow the calls.
CHOSEN_STATES = ("available", "not-ready", "offline")


class PresenceError(ValueError):
    """A state change that is not allowed now; the message says why."""


def set_state(
    session: Session,
    *,
    agent: Agent,
    state: str,
    now: datetime,
    reason: str | None = None,
    by: str | None = None,
) -> bool:
    """Move the agent to `state` (with a reason for not-ready). Returns whether it changed."""
    if state not in AGENT_STATES:
        raise PresenceError(f"unknown state {state!r}; states: {', '.join(AGENT_STATES)}")
    if state == "not-ready" and not reason:
        raise PresenceError("not-ready needs a reason (for example: break, training, missed)")
    if agent.state == state and agent.state_reason == (reason if state == "not-ready" else None):
        return False
    previous = agent.state
    since = agent.state_since
    agent.state = state
    agent.state_reason = reason if state == "not-ready" else None
    agent.state_since = now
    if state == "available":
        agent.idle_since = now
        agent.wrapup_until = None
    record_change(session, agent_id=agent.id, state=state, previous=previous, since=since,
                  now=now, reason=agent.state_reason, by=by)
    return True


def record_change(
    session: Session, *, agent_id: int, state: str, previous: str, since: datetime,
    now: datetime, reason: str | None = None, by: str | None = None,
) -> None:
    """The event of a change of state, for a change made here or in SQL (the router's)."""
    events.record(
        session,
        "agent.state",
        at=now,
        agent_id=agent_id,
        state=state,
        previous=previous,
        reason=reason,
        seconds_in_previous=round((now - since).total_seconds(), 3),
        by=by,
    )


def choose_state(
    session: Session, *, agent: Agent, state: str, now: datetime, reason: str | None, by: str
) -> bool:
    """A state an agent or supervisor picks. Calls in progress are never cut off by it:
    reserved and busy agents must finish the call first; wrap-up may end early."""
    if state not in CHOSEN_STATES:
        raise PresenceError(
            f"{state!r} is set by the calls themselves; choose one of {', '.join(CHOSEN_STATES)}"
        )
    if agent.state in ("reserved", "busy"):
        raise PresenceError(f"{agent.name} is on a call ({agent.state}); change state after it")
    return set_state(session, agent=agent, state=state, now=now, reason=reason, by=by)


def start_wrap_up(session: Session, *, agent: Agent, now: datetime, seconds: int) -> None:
    set_state(session, agent=agent, state="wrap-up", now=now)
    agent.wrapup_until = now + timedelta(seconds=seconds)


def end_finished_wrap_ups(session: Session, *, now: datetime) -> list[Agent]:
    """Agents whose wrap-up time is over become available. On PostgreSQL their rows are
    locked as they are read, and a row being changed (an agent signing out, through the
    API) is left for the next round: otherwise "available" could overwrite "offline"."""
    done = list(
        session.scalars(for_change(
            select(Agent).where(Agent.state == "wrap-up", Agent.wrapup_until <= now),
            skip_locked=True,
        ))
    )
    for agent in done:
        set_state(session, agent=agent, state="available", now=now, by="wrap-up timer")
    return done
