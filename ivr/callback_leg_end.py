"""What the end of a callback's agent leg sets off, however we learn of it: from the leg's
status callback (`/voice/callback/<rid>/agent-status`) or, when that was lost, by asking the
carrier (`ivr.call_end.reconcile_with_carrier`); and what the end of the customer's leg
does (`customer_leg_ended`). The agent is called first; until the customer's leg is reached,
an agent who does not answer goes not-ready and one who hangs up is freed, and either way the
callback keeps its place."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from callback import service as callbacks
from callback.models import CallbackAttempt
from ivr.cases import service as cases
from ivr.routing import reservations
from ivr.routing.models import Reservation
from ivr.telephony import answered_by_machine

AGENT_NOT_REACHED = ("no-answer", "busy", "failed", "canceled")
LEG_ENDED = (*AGENT_NOT_REACHED, "completed")


def loaded(session: Session, rid: int) -> tuple[Reservation | None, CallbackAttempt | None]:
    """The callback's reservation `rid` and its latest attempt."""
    reservation = session.get(Reservation, rid)
    attempt = callbacks.current_attempt(session, reservation_id=rid) if reservation else None
    return reservation, attempt


def apply_agent_leg_status(session: Session, rt: Any, rid: int, *, status: str) -> bool:
    """The carrier's final `status` of the agent's leg of reservation `rid`. Returns whether
    anything changed: a repeat, or a leg whose customer's leg already said how it went,
    changes nothing."""
    reservation, attempt = loaded(session, rid)
    if reservation is None or status not in LEG_ENDED:
        return False
    now = rt.clock.now()
    if reservation.status == "connected":
        if attempt is None or attempt.result is not None:
            return False
        if attempt.customer_call_sid:
            # The customer's leg was answered (its screen ran) and the end of the Dial that
            # bridged it never came: the attempt ends as that end would have ended it.
            customer_leg_ended(session, rt, reservation, attempt,
                               result=customer_result(attempt, "completed"), now=now)
            return True
        agent_left(session, rt, reservation, attempt, now=now)
        return True
    if reservation.status != "offered":
        return False
    agent_not_reached(session, rt, reservation, attempt,
                      result=status if status in AGENT_NOT_REACHED else "no-answer")
    return True


def customer_result(attempt: CallbackAttempt, dial_status: str) -> str:
    """How the attempt at the customer went, from the status of the Dial to them and what
    answered their leg: completed (a person talked), agent-missed (the agent hung up while it
    rang), machine, or the carrier's status (no-answer, busy, failed)."""
    machine = answered_by_machine(attempt.answered_by or "")
    if dial_status == "completed" and not machine:
        return "completed"
    if dial_status == "canceled":
        return "agent-missed"
    return "machine" if machine else (dial_status or "failed")


def customer_leg_ended(session: Session, rt: Any, reservation: Reservation,
                       attempt: CallbackAttempt, *, result: str, now: datetime) -> None:
    """The customer's leg ended with `result` (completed: a person was reached and talked):
    the attempt's outcome, the case's first response when they talked, the agent to wrap-up
    (none after an attempt that reached no one), and the callback's entry waiting for the next
    attempt if there is one."""
    callbacks.finish_attempt(session, attempt=attempt, result=result, now=now,
                             calendar=rt.calendar, policy=rt.callbacks)
    if result == "completed":
        case = cases.for_call(session, attempt.callback.call_id)
        if case is not None:
            cases.first_response(session, case=case, now=now, agent_id=reservation.agent_id)
    wrap_up = rt.policy.wrap_up_seconds if result == "completed" else 0
    reservations.finished(session, reservation=reservation, now=now, wrap_up_seconds=wrap_up)
    if attempt.callback.status == "scheduled":  # to be tried again later
        callbacks.wait_for_next_attempt(reservation.entry)


def agent_left(session: Session, rt: Any, reservation: Reservation, attempt: CallbackAttempt,
               *, now: datetime) -> None:
    """The agent hung up before the customer was reached (during the whisper or the ringing):
    no attempt at the customer is counted and the callback keeps its place, held back a
    moment (`callbacks.hold_back`) so it does not ring the same agent again at once; the
    agent, who was there to answer, is free for the next caller. Whichever of the carrier's
    two callbacks comes second changes nothing: by then the entry may be another agent's."""
    if attempt.result is not None:
        return
    callbacks.finish_attempt(session, attempt=attempt, result="agent-missed", now=now,
                             calendar=rt.calendar, policy=rt.callbacks)
    reservations.finished(session, reservation=reservation, now=now, wrap_up_seconds=0)
    callbacks.hold_back(session, callback=attempt.callback, now=now, policy=rt.callbacks)


def agent_not_reached(session: Session, rt: Any, reservation: Reservation,
                      attempt: CallbackAttempt | None, *, result: str) -> None:
    """The agent's leg was not answered by the agent (no answer, busy, their voicemail): they
    go not-ready and the customer keeps their place for the next agent, with no attempt at
    the customer counted."""
    now = rt.clock.now()
    reservations.missed(session, reservation=reservation, now=now, result=result)
    if attempt is not None:
        callbacks.finish_attempt(session, attempt=attempt, result="agent-missed", now=now,
                                 calendar=rt.calendar, policy=rt.callbacks)
