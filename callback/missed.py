"""Which ended calls are missed calls: the caller hung up while queued, hung up in the IVR
after choosing an option, called outside business hours, or left a voicemail."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from callback import followups
from callback.models import MissedCall
from callback.policy import CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call
from ivr.db import reading
from ivr.routing.models import QueueEntry
from ivr.routing.router import parse_skills_key


def classify(call: Call) -> str | None:
    """The kind of missed call this ended call is, or None when it is not one."""
    if call.direction != "inbound":
        return None
    events = [step.get("event", "") for step in call.path or []]
    if call.outcome == "abandoned":
        return "abandoned"
    if call.outcome == "voicemail":
        return "voicemail"
    if "closed" in events:
        return "after-hours"
    if call.outcome == "ivr_hangup" and any(e.startswith("matched") for e in events):
        return "ivr-hangup"
    return None


# Built once: asked at the end of every missed call.
_RECORDED_FOR = select(MissedCall).where(MissedCall.call_id == bindparam("call_id"),
                                         MissedCall.kind != "callback-failed")


def on_call_ended(
    session: Session, *, call: Call, entry: QueueEntry | None, now: datetime,
    calendar: BusinessCalendar, policy: CallbackPolicy,
) -> MissedCall | None:
    """Record the call as missed if it is one (once), feeding the same-day follow-up rule.
    `entry` is the queue the caller was last in (its skills go to the follow-up)."""
    kind = classify(call)
    if kind is None:
        return None
    with reading(session, MissedCall):
        already = session.scalar(_RECORDED_FOR, {"call_id": call.id})
    if already is not None:
        return already
    # The skills as the router keeps them (`skills_key`): loading the entry's required
    # skills would be a query of its own.
    return followups.record_missed(
        session, number=call.from_number, kind=kind, call_id=call.id, now=now,
        calendar=calendar, policy=policy,
        skills=parse_skills_key(entry.skills_key) if entry else None,
    )
