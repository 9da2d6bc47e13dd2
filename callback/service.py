"""Callbacks: a caller who would rather be called back keeps their place (virtual hold) or
picks a time; follow-ups are dialled the same way. A callback holds a queue entry of kind
`callback`: the router serves it like a caller on the line, and the dispatcher then calls the
agent first and the customer second."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

import phonenumbers
from sqlalchemy import select, text
from sqlalchemy.orm import Session, lazyload

from callback import followups, manners
from callback.models import Callback, CallbackAttempt, FollowUp
from callback.policy import CallbackPolicy
from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call
from ivr.routing import queue
from ivr.routing.models import ACTIVE_RESERVATION, QueueEntry, QueueEntrySkill, Reservation

CUSTOMER_FAILURES = ("no-answer", "busy", "failed", "machine", "canceled")
CREATED = "callback.created"  # Session.info: the callbacks made in the session


class CallbackError(ValueError):
    """A callback cannot be made as asked; the message says why."""


def customer_number(raw: str | None, *, region: str = "US") -> str | None:
    """E.164 for a number a person keyed in or their caller ID; None if it cannot be called."""
    if not raw:
        return None
    return _customer_number(raw, region)


@lru_cache(maxsize=4096)
def _customer_number(raw: str, region: str) -> str | None:
    # Parsing is slow and its answer never changes: each wait poll asks about the caller.
    try:
        parsed = phonenumbers.parse(raw.strip().rstrip("#"), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def for_call(session: Session, *, call_id: int) -> Callback | None:
    """The open callback a caller asked for on this call."""
    return session.scalar(
        select(Callback).where(Callback.call_id == call_id,
                               Callback.kind.in_(("keep-place", "scheduled")),
                               Callback.status.in_(("pending", "scheduled", "dialing")))
    )


def keep_place(
    session: Session, *, call: Call, entry: QueueEntry, number: str, now: datetime,
    policy: CallbackPolicy,
) -> Callback:
    """Press 1: called back when it is their turn. The entry stays in the router with its
    original time and priority; nobody holds the line any more."""
    if entry.status != "waiting":
        raise CallbackError("the caller is no longer waiting in the queue")
    entry.kind = "callback"
    callback = Callback(kind="keep-place", status="pending", number=number, call_id=call.id,
                        entry_id=entry.id, created_at=now, max_attempts=policy.max_attempts)
    session.add(callback)
    session.flush()
    events.record(session, "callback.accepted", at=now, call_id=call.id,
                  callback_id=callback.id, kind="keep-place", number=number,
                  entry_id=entry.id)
    return callback


def _callback_entry(
    session: Session, *, call_id: int, skills: dict[str, int], priority: int,
    reasons: list[str], entered_at: datetime, status: str,
) -> QueueEntry:
    entry = QueueEntry(
        call_id=call_id, queue_name=min(skills), kind="callback", priority=priority,
        reasons=reasons, entered_at=entered_at, entered_epoch=entered_at.timestamp(),
        skills_key=queue.skills_key(skills), status=status, extra={},
    )
    for name, level in sorted(skills.items()):
        entry.required.append(QueueEntrySkill(skill=queue.ensure_skill(session, name),
                                              min_level=level))
    session.add(entry)  # written with its callback (`Callback.entry`)
    return entry


def book_slot(
    session: Session, *, call: Call, entry: QueueEntry, number: str, slot_start: datetime,
    now: datetime, policy: CallbackPolicy,
) -> Callback:
    """Press 2: called back in a slot the caller chose. They leave the queue now; at the
    slot a new entry enters the router with their priority raised."""
    skills = entry.skills
    if entry.status == "waiting":
        entry.status = "left"
        entry.left_at = now
    raise_by = policy.scheduled_priority_raise
    booked = _callback_entry(
        session, call_id=call.id, skills=skills, priority=entry.priority + raise_by,
        reasons=[*entry.reasons, f"scheduled callback: +{raise_by}"], entered_at=slot_start,
        status="scheduled",
    )
    callback = Callback(kind="scheduled", status="scheduled", number=number, call_id=call.id,
                        entry=booked, due_at=slot_start, created_at=now,
                        max_attempts=policy.max_attempts)
    session.add(callback)
    session.flush()
    events.record(session, "callback.accepted", at=now, call_id=call.id,
                  callback_id=callback.id, kind="scheduled", number=number,
                  due_at=slot_start.isoformat())
    return callback


def follow_up_callback(
    session: Session, *, follow_up: FollowUp, call_id: int, now: datetime,
    policy: CallbackPolicy, priority: int,
) -> Callback:
    """The callback that works a follow-up off; it waits for the dialler's manners."""
    entry = _callback_entry(
        session, call_id=call_id, skills=follow_up.skills or followups.GENERAL,
        priority=priority, reasons=["same-day follow-up of a missed call"], entered_at=now,
        status="scheduled",
    )
    callback = Callback(kind="follow-up", status="scheduled", number=follow_up.number,
                        call_id=call_id, entry=entry, follow_up_id=follow_up.id,
                        due_at=now, created_at=now, max_attempts=policy.max_attempts)
    session.add(callback)  # written with the next flush: nothing here needs its id
    session.info.setdefault(CREATED, []).append(callback)
    events.record(session, "callback.created", at=now, call_id=call_id,
                  callback_id=events.IdOf(callback), kind="follow-up",
                  follow_up_id=follow_up.id)
    return callback


def activate_due(
    session: Session, *, now: datetime, calendar: BusinessCalendar, policy: CallbackPolicy,
    by: str = "sweep",
) -> list[Callback]:
    """Scheduled callbacks whose time has come enter the router, if the dialler's manners
    allow a call now; otherwise they wait until they do (or, on the do-not-call list, end)."""
    due = session.scalars(
        select(Callback).where(Callback.status == "scheduled", Callback.due_at <= now)
        .options(lazyload(Callback.attempt_log))  # not needed to activate one
    ).all()
    return [callback for callback in due
            if _activate(session, callback, now=now, calendar=calendar, policy=policy, by=by)]


def activate_created(
    session: Session, *, now: datetime, calendar: BusinessCalendar, policy: CallbackPolicy,
    by: str,
) -> list[Callback]:
    """`activate_due` for the callbacks made in this session only (`follow_up_callback`,
    `courtesy_callback`): a webhook dials the follow-up its call opened at once, without
    sweeping the whole table (the callback timer sweeps the rest)."""
    made = session.info.pop(CREATED, [])
    return [callback for callback in made
            if callback.status == "scheduled" and callback.due_at <= now
            and _activate(session, callback, now=now, calendar=calendar, policy=policy, by=by)]


def _activate(session: Session, callback: Callback, *, now: datetime,
              calendar: BusinessCalendar, policy: CallbackPolicy, by: str) -> bool:
    verdict = manners.may_dial(session, number=callback.number, now=now, calendar=calendar,
                               policy=policy)
    entry = callback.entry  # the new one in memory, else from the identity map or loaded
    if verdict.allowed:
        callback.status = "pending"
        entry.status = "waiting"
        events.record(session, "callback.activated", at=now, call_id=callback.call_id,
                      callback_id=events.IdOf(callback), entry_id=events.IdOf(entry), by=by,
                      due_at=callback.due_at.isoformat())
        return True
    if verdict.not_before is None:
        _end(session, callback, entry, now, status="canceled", reason=verdict.reason)
    elif callback.due_at < verdict.not_before:
        callback.due_at = verdict.not_before
        events.record(session, "callback.deferred", at=now, call_id=callback.call_id,
                      callback_id=events.IdOf(callback), until=verdict.not_before.isoformat(),
                      reason=verdict.reason)
    return False


def _end(session: Session, callback: Callback, entry: QueueEntry | None, now: datetime, *,
         status: str, reason: str | None) -> None:
    callback.status = status
    callback.reason = reason
    callback.completed_at = now
    if entry is not None and entry.status in ("waiting", "scheduled", "reserved"):
        entry.status = "done" if status == "completed" else "left"
        entry.left_at = now
    events.record(session, f"callback.{status}", at=now, call_id=callback.call_id,
                  callback_id=events.IdOf(callback), reason=reason, attempts=callback.attempts)


def hold_back(session: Session, *, callback: Callback, now: datetime,
              policy: CallbackPolicy) -> None:
    """The agent hung up before the customer answered: the callback keeps its place (its
    entry's time and priority) but is not offered again for `agent_hang_up_hold`. Available
    at once, the agent would be the free agent it rang again, and again."""
    entry = session.get(QueueEntry, callback.entry_id)
    callback.status = "scheduled"
    callback.next_attempt_at = callback.due_at = now + policy.agent_hang_up_hold
    if entry is not None:
        wait_for_next_attempt(entry)
    events.record(session, "callback.held", at=now, call_id=callback.call_id,
                  callback_id=callback.id, until=callback.due_at.isoformat())


def wait_for_next_attempt(entry: QueueEntry) -> None:
    """The callback's entry waits at its place (its time and priority) for the next attempt,
    back in play after the reservation that ended it."""
    entry.status, entry.agent_id, entry.left_at = "scheduled", None, None


def by_entry(session: Session, entry_id: int) -> Callback | None:
    return session.scalar(select(Callback).where(Callback.entry_id == entry_id))


def start_attempt(
    session: Session, *, callback: Callback, reservation: Reservation, agent_call_sid: str,
    now: datetime,
) -> CallbackAttempt:
    callback.status = "dialing"
    attempt = CallbackAttempt(callback_id=callback.id, reservation_id=reservation.id,
                              agent_id=reservation.agent_id, agent_call_sid=agent_call_sid,
                              started_at=now)
    session.add(attempt)
    session.flush()
    events.record(session, "callback.attempt.started", at=now, call_id=callback.call_id,
                  callback_id=callback.id, attempt_id=attempt.id,
                  agent_id=reservation.agent_id)
    return attempt


def current_attempt(session: Session, *, reservation_id: int) -> CallbackAttempt | None:
    return session.scalar(
        select(CallbackAttempt).where(CallbackAttempt.reservation_id == reservation_id)
        .order_by(CallbackAttempt.id.desc())
    )


def unfinished_attempts(session: Session, *, started_before: datetime) -> list[tuple[int, str]]:
    """(reservation id, agent's leg sid) of the attempts under way that started before
    `started_before`, oldest first: their reservation is active and nothing has said how they
    went. At most one an agent (an agent has one active reservation)."""
    active = select(Reservation.id).where(text(ACTIVE_RESERVATION))  # its partial index
    rows = session.execute(
        select(CallbackAttempt.reservation_id, CallbackAttempt.agent_call_sid)
        .where(CallbackAttempt.reservation_id.in_(active), CallbackAttempt.result.is_(None),
               CallbackAttempt.agent_call_sid.is_not(None),
               CallbackAttempt.started_at < started_before)
        .order_by(CallbackAttempt.id)
    )
    return [(rid, sid) for rid, sid in rows]


def finish_attempt(
    session: Session, *, attempt: CallbackAttempt, result: str, now: datetime,
    calendar: BusinessCalendar, policy: CallbackPolicy,
) -> None:
    """Record how the attempt went and what happens next: done; the agent did not pick up
    (the customer keeps their place); or the customer was not reached (try again later, up
    to the policy's attempts, then a missed call for the follow-up rule)."""
    if attempt.result is not None:
        return
    attempt.result = result
    attempt.ended_at = now
    callback = attempt.callback
    entry = session.get(QueueEntry, callback.entry_id)
    events.record(session, "callback.attempt", at=now, call_id=callback.call_id,
                  callback_id=callback.id, attempt_id=attempt.id, result=result,
                  agent_id=attempt.agent_id)
    if result == "completed":
        _end(session, callback, entry, now, status="completed", reason=None)
        followups.close_for_number(session, number=callback.number, now=now,
                                   by="callback completed")
        return
    if result == "agent-missed":
        callback.status = "pending"  # back in the router at its place
        return
    callback.attempts += 1
    if callback.attempts < callback.max_attempts:
        callback.status = "scheduled"
        callback.next_attempt_at = callback.due_at = now + policy.attempt_spacing
        wait_for_next_attempt(entry)
        events.record(session, "callback.retry", at=now, call_id=callback.call_id,
                      callback_id=callback.id, attempt=callback.attempts + 1,
                      until=callback.due_at.isoformat())
        return
    _end(session, callback, entry, now, status="failed",
         reason=f"not reached after {callback.attempts} attempts")
    followups.record_missed(session, number=callback.number, kind="callback-failed",
                            call_id=callback.call_id, now=now, calendar=calendar,
                            policy=policy, skills=entry.skills if entry else None)


def courtesy_callback(
    session: Session, *, call_id: int, number: str, skills: dict[str, int], priority: int,
    reason: str, now: datetime, policy: CallbackPolicy,
) -> Callback:
    """A call to tell a customer where their open request stands (the case's courtesy
    call); dialled like any callback, once the manners allow."""
    entry = _callback_entry(session, call_id=call_id, skills=skills, priority=priority,
                            reasons=[reason], entered_at=now, status="scheduled")
    callback = Callback(kind="courtesy", status="scheduled", number=number, call_id=call_id,
                        entry=entry, due_at=now, created_at=now,
                        max_attempts=policy.max_attempts, reason=reason)
    session.add(callback)
    session.flush()
    session.info.setdefault(CREATED, []).append(callback)
    events.record(session, "callback.created", at=now, call_id=call_id,
                  callback_id=callback.id, kind="courtesy")
    return callback
