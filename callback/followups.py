"""The same-day follow-up rule. Every missed call creates or joins the one open follow-up for
its number. The follow-up is due before the close of the same business day (calls missed
outside business hours: the next business day's close), is dialled as a callback, is
escalated a while before its deadline, is recorded as breached at the deadline and stays
open until done. A later answered call from the number closes it."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.models import Callback, FollowUp, MissedCall
from callback.policy import CallbackPolicy
from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.calls.service import ANONYMOUS
from ivr.db import race_guard, reading
from ivr.routing.models import QueueEntry

GENERAL = {"general": 1}


def deadline(missed_at: datetime, *, calendar: BusinessCalendar, policy: CallbackPolicy
             ) -> datetime:
    """When a call missed at `missed_at` must have been followed up."""
    due = calendar.close_of_business_day(missed_at) - policy.follow_up_cutoff
    if due <= missed_at:
        # Missed after the cutoff: there is no time left today.
        close = calendar.close_of_business_day(missed_at)
        due = calendar.close_of_business_day(close + timedelta(seconds=1)) - policy.follow_up_cutoff
    return due


# Built once: asked for every missed call.
_OPEN_FOR = select(FollowUp).where(FollowUp.number == bindparam("number"),
                                   FollowUp.status == "open")


def open_follow_up(session: Session, number: str) -> FollowUp | None:
    with reading(session, FollowUp):
        return session.scalar(_OPEN_FOR, {"number": number})


def record_missed(
    session: Session,
    *,
    number: str,
    kind: str,
    call_id: int | None,
    now: datetime,
    calendar: BusinessCalendar,
    policy: CallbackPolicy,
    skills: dict[str, int] | None = None,
    priority: int | None = None,
) -> MissedCall:
    """A missed call: kept, and joined to the number's open follow-up (created if none)."""
    if number == ANONYMOUS or number.startswith(("client:", "sip:")):
        missed = _keep(session, number=number, kind=kind, call_id=call_id, now=now,
                       follow_up_id=None)
        events.record(session, "missed.call", at=now, call_id=call_id, kind=kind,
                      missed_id=events.IdOf(missed), follow_up_id=None,
                      why="no number to call back")
        return missed
    follow_up = open_follow_up(session, number)
    if follow_up is None:
        follow_up = _create(session, number=number, now=now, calendar=calendar, policy=policy,
                            skills=skills or GENERAL, call_id=call_id, priority=priority)
    else:
        follow_up.missed_count += 1
        follow_up.last_missed_at = now
        events.record(session, "followup.joined", at=now, call_id=call_id,
                      follow_up_id=follow_up.id, missed_count=follow_up.missed_count,
                      kind=kind)
    # Kept once its follow-up is known: inserted with it, not updated after.
    missed = _keep(session, number=number, kind=kind, call_id=call_id, now=now,
                   follow_up_id=follow_up.id)
    events.record(session, "missed.call", at=now, call_id=call_id, kind=kind,
                  missed_id=events.IdOf(missed), follow_up_id=follow_up.id)
    return missed


def _keep(session: Session, *, number: str, kind: str, call_id: int | None, now: datetime,
          follow_up_id: int | None) -> MissedCall:
    missed = MissedCall(call_id=call_id, number=number, kind=kind, at=now,
                        follow_up_id=follow_up_id, detail={})
    session.add(missed)  # written with the next flush (its id, in the event, then)
    return missed


def _create(
    session: Session, *, number: str, now: datetime, calendar: BusinessCalendar,
    policy: CallbackPolicy, skills: dict[str, int], call_id: int | None, priority: int | None,
) -> FollowUp:
    from callback.service import follow_up_callback

    due = deadline(now, calendar=calendar, policy=policy)
    follow_up = FollowUp(
        number=number,
        status="open",
        created_at=now,
        due_at=due,
        escalate_at=max(now, due - policy.escalate_before),
        missed_count=1,
        last_missed_at=now,
        skills=dict(skills),
    )
    try:
        with race_guard(session):
            session.add(follow_up)
            session.flush()
    except IntegrityError:
        # Another process opened it a moment ago: join that one instead.
        existing = open_follow_up(session, number)
        if existing is None:
            raise
        existing.missed_count += 1
        existing.last_missed_at = now
        return existing
    events.record(session, "followup.created", at=now, call_id=call_id,
                  follow_up_id=follow_up.id, due_at=due.isoformat(),
                  escalate_at=follow_up.escalate_at.isoformat(), number=number)
    if call_id is not None:
        follow_up_callback(session, follow_up=follow_up, call_id=call_id, now=now,
                           policy=policy,
                           priority=policy.follow_up_priority if priority is None else priority)
    return follow_up


def close(session: Session, *, follow_up: FollowUp, now: datetime, by: str) -> None:
    """Done: the customer was reached. Its pending callback is no longer needed."""
    if follow_up.status != "open":
        return
    follow_up.status = "done"
    follow_up.closed_at = now
    follow_up.closed_by = by
    for callback in session.scalars(
        select(Callback).where(Callback.follow_up_id == follow_up.id,
                               Callback.status.in_(("pending", "scheduled")))
    ):
        callback.status = "canceled"
        callback.reason = f"follow-up done: {by}"
        entry = session.get(QueueEntry, callback.entry_id) if callback.entry_id else None
        if entry is not None and entry.status in ("waiting", "scheduled"):
            entry.status = "left"
            entry.left_at = now
    events.record(session, "followup.done", at=now, follow_up_id=follow_up.id, by=by,
                  same_day=now <= follow_up.due_at, missed_count=follow_up.missed_count)


def close_for_number(session: Session, *, number: str, now: datetime, by: str) -> bool:
    follow_up = open_follow_up(session, number)
    if follow_up is None:
        return False
    close(session, follow_up=follow_up, now=now, by=by)
    return True


def escalate_due(session: Session, *, now: datetime, policy: CallbackPolicy) -> list[FollowUp]:
    """Open follow-ups whose escalation time has come: their callback's priority rises and
    supervisors are alerted (the event, and the API's list of follow-ups at risk)."""
    due = list(session.scalars(
        select(FollowUp).where(FollowUp.status == "open", FollowUp.escalated_at.is_(None),
                               FollowUp.escalate_at <= now)
    ))
    for follow_up in due:
        follow_up.escalated_at = now
        raised = _raise_callback_priority(session, follow_up, policy.escalation_priority_raise)
        events.record(session, "followup.escalated", at=now, follow_up_id=follow_up.id,
                      number=follow_up.number, due_at=follow_up.due_at.isoformat(),
                      priority_raised=raised)
    return due


def _raise_callback_priority(session: Session, follow_up: FollowUp, by: int) -> bool:
    entries = session.scalars(
        select(QueueEntry)
        .join(Callback, Callback.entry_id == QueueEntry.id)
        .where(Callback.follow_up_id == follow_up.id,
               QueueEntry.status.in_(("waiting", "scheduled")))
    ).all()
    for entry in entries:
        entry.priority += by
        entry.reasons = [*entry.reasons, f"follow-up deadline near: +{by}"]
    return bool(entries)


def breach_due(session: Session, *, now: datetime) -> list[FollowUp]:
    """Open follow-ups past their deadline are recorded as breached (and stay open)."""
    late = list(session.scalars(
        select(FollowUp).where(FollowUp.status == "open", FollowUp.breached_at.is_(None),
                               FollowUp.due_at <= now)
    ))
    for follow_up in late:
        follow_up.breached_at = now
        events.record(session, "followup.breached", at=now, follow_up_id=follow_up.id,
                      number=follow_up.number, due_at=follow_up.due_at.isoformat())
    return late


def at_risk(session: Session, *, now: datetime) -> list[FollowUp]:
    """Open follow-ups that are escalated or breached, most urgent first."""
    return list(session.scalars(
        select(FollowUp)
        .where(FollowUp.status == "open",
               (FollowUp.escalate_at <= now) | FollowUp.breached_at.is_not(None))
        .order_by(FollowUp.due_at)
    ))
