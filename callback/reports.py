"""The day's callback and follow-up figures, counted from the call events (the same log the
screens read): missed calls, follow-ups created, done the same day, escalated, breached, the
same-day rate; callbacks offered, accepted, completed, with their attempts."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.calls.models import CallEvent

KINDS = (
    "missed.call", "followup.created", "followup.done", "followup.escalated",
    "followup.breached", "callback.offered", "callback.accepted", "callback.completed",
    "callback.failed", "callback.attempt", "callback.created",
)


def day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return start, end


def _events(session: Session, start: datetime, end: datetime) -> list[CallEvent]:
    return list(session.scalars(
        select(CallEvent)
        .where(CallEvent.kind.in_(KINDS), CallEvent.at >= start, CallEvent.at < end)
        .order_by(CallEvent.id)
    ))


def _done_by_deadline(session: Session, follow_up_ids: set[int]) -> set[int]:
    """Of these follow-ups, the ones done by their deadline (whenever that was recorded)."""
    if not follow_up_ids:
        return set()
    done = session.scalars(select(CallEvent).where(CallEvent.kind == "followup.done"))
    return {e.data["follow_up_id"] for e in done
            if e.data.get("follow_up_id") in follow_up_ids and e.data.get("same_day")}


def followups_report(session: Session, *, day: date, tz: ZoneInfo) -> dict[str, Any]:
    start, end = day_bounds(day, tz)
    events = _events(session, start, end)
    count = Counter(e.kind for e in events)
    created = {e.data["follow_up_id"] for e in events if e.kind == "followup.created"}
    same_day = _done_by_deadline(session, created)
    missed_by_kind = Counter(e.data.get("kind") for e in events if e.kind == "missed.call")
    attempts = Counter(e.data.get("result") for e in events if e.kind == "callback.attempt")
    accepted = Counter(e.data.get("kind") for e in events if e.kind == "callback.accepted")
    return {
        "date": day.isoformat(),
        "missed_calls": count["missed.call"],
        "missed_by_kind": dict(sorted(missed_by_kind.items())),
        "follow_ups": {
            "created": len(created),
            "done_same_day": len(same_day),
            "escalated": count["followup.escalated"],
            "breached": count["followup.breached"],
            "same_day_rate": round(len(same_day) / len(created), 4) if created else None,
        },
        "callbacks": {
            "offered": count["callback.offered"],
            "accepted": count["callback.accepted"],
            "accepted_keep_place": accepted["keep-place"],
            "accepted_scheduled": accepted["scheduled"],
            "follow_up_callbacks": count["callback.created"],
            "completed": count["callback.completed"],
            "failed": count["callback.failed"],
            "attempts": sum(attempts.values()),
            "attempts_by_result": dict(sorted(attempts.items())),
        },
    }
