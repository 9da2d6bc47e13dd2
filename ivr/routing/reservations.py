"""What happens to a reservation: the agent answers, the call ends, the agent does not answer
(they go not-ready and the caller keeps their place), or the caller leaves first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import Call
from ivr.routing.models import Reservation
from ivr.routing.presence import set_state, start_wrap_up

_ACTIVE_FOR_CALL = select(Reservation).where(
    Reservation.call_id == bindparam("call_id"), Reservation.status.in_(("offered", "connected"))
)


def active_for_call(session: Session, *, call_id: int) -> Reservation | None:
    return session.scalar(_ACTIVE_FOR_CALL, {"call_id": call_id})


def active_for_agent(session: Session, *, agent_id: int) -> Reservation | None:
    return session.scalar(
        select(Reservation).where(
            Reservation.agent_id == agent_id, Reservation.status.in_(("offered", "connected"))
        )
    )


def answered(
    session: Session, *, reservation: Reservation, now: datetime, agent_call_sid: str | None
) -> bool:
    """The agent picked up: they are busy, the caller is connected."""
    if reservation.status != "offered":
        return False
    reservation.status = "connected"
    reservation.answered_at = now
    reservation.agent_call_sid = agent_call_sid
    set_state(session, agent=reservation.agent, state="busy", now=now)
    entry = reservation.entry
    entry.status = "connected"
    call = session.get(Call, reservation.call_id)
    if entry.kind == "call":
        # A callback's entry points at the call that asked for it (or was missed), long
        # over: its outcome is what happened on it, not what the callback brings.
        call.outcome = "answered"
    events.record(
        session,
        "call.answered",
        at=now,
        call_id=call.id,
        agent_id=reservation.agent_id,
        reservation_id=reservation.id,
        entry_id=entry.id,
        entry_kind=entry.kind,
        waited=round(now.timestamp() - entry.entered_epoch, 3),
        skills=entry.skills,
    )
    return True


def finished(
    session: Session,
    *,
    reservation: Reservation,
    now: datetime,
    wrap_up_seconds: int,
    talk_seconds: int | None = None,
) -> bool:
    """The conversation ended: the agent goes to wrap-up, the entry is done."""
    if reservation.status != "connected":
        return False
    reservation.status = "completed"
    reservation.ended_at = now
    reservation.result = "completed"
    reservation.entry.status = "done"
    reservation.entry.left_at = now
    talk = talk_seconds
    if talk is None and reservation.answered_at is not None:
        talk = round((now - reservation.answered_at).total_seconds())
    events.record(
        session,
        "call.handled",
        at=now,
        call_id=reservation.call_id,
        agent_id=reservation.agent_id,
        reservation_id=reservation.id,
        talk_seconds=talk,
    )
    start_wrap_up(session, agent=reservation.agent, now=now, seconds=wrap_up_seconds)
    return True


def missed(session: Session, *, reservation: Reservation, now: datetime, result: str) -> bool:
    """The agent did not answer (or was busy, or the endpoint failed): the agent goes
    not-ready so no other caller rings an empty desk, and the caller goes back to the queue
    at their original place (their time of entry and priority are untouched)."""
    if reservation.status != "offered":
        return False
    reservation.status = "missed"
    reservation.ended_at = now
    reservation.result = result
    set_state(
        session, agent=reservation.agent, state="not-ready", now=now, reason="missed", by="router"
    )
    entry = reservation.entry
    entry.status = "waiting"
    entry.agent_id = None
    events.record(
        session,
        "routing.missed",
        at=now,
        call_id=reservation.call_id,
        agent_id=reservation.agent_id,
        reservation_id=reservation.id,
        entry_id=entry.id,
        result=result,
    )
    return True


RESULT_LENGTH = 32  # Reservation.result


def canceled(session: Session, *, reservation: Reservation, now: datetime, why: str) -> bool:
    """The caller left while the agent's phone rang (or we could not reach the caller's call):
    the agent is free again, without blame."""
    if reservation.status != "offered":
        return False
    reservation.status = "canceled"
    reservation.ended_at = now
    # The column holds a short result; the whole reason goes in the event. A carrier's
    # error message (a failed redirect) is longer, and failing here left the agent reserved.
    reservation.result = why[:RESULT_LENGTH]
    agent = reservation.agent
    idle_since = agent.idle_since  # not their fault: they keep their turn
    set_state(session, agent=agent, state="available", now=now, by="router")
    agent.idle_since = idle_since
    events.record(
        session,
        "routing.canceled",
        at=now,
        call_id=reservation.call_id,
        agent_id=reservation.agent_id,
        reservation_id=reservation.id,
        why=why,
    )
    return True


def call_ended(session: Session, *, call: Call, now: datetime, wrap_up_seconds: int) -> None:
    """The caller's call is over: a ringing agent is released; a connected one goes to
    wrap-up (when the carrier's Dial action has not already said so)."""
    reservation = active_for_call(session, call_id=call.id)
    if reservation is None or reservation.entry.kind != "call":
        # A callback the caller just asked for may already be ringing an agent: it goes on
        # without them on the line.
        return
    if reservation.status == "offered":
        caller_left(session, reservation=reservation, call=call, now=now, why="caller hung up")
    else:
        finished(session, reservation=reservation, now=now, wrap_up_seconds=wrap_up_seconds)


def caller_left(
    session: Session, *, reservation: Reservation, call: Call, now: datetime, why: str
) -> bool:
    """The caller hung up while their agent's phone rang (or before it could): the agent is
    free again and the caller abandoned."""
    if not canceled(session, reservation=reservation, now=now, why=why):
        return False
    entry = reservation.entry
    entry.status = "abandoned"
    entry.left_at = now
    call.outcome = "abandoned"
    events.record(
        session,
        "queue.abandoned",
        at=now,
        call_id=call.id,
        entry_id=entry.id,
        waited=round(now.timestamp() - entry.entered_epoch, 3),
    )
    return True
