"""Calls: who is calling, opening a call once per CallSid, applying carrier statuses once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import FINAL_STATUSES, STATUS_ORDER, Call, Contact
from ivr.routing import queue
from ivr.routing.models import QueueEntry

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class CallerInfo:
    """What the service knows about a caller before the first prompt."""

    number: str
    name: str | None
    vip: bool
    repeat_today: bool
    language: str | None
    contact_id: int | None


def normalize_number(raw: str | None, *, region: str = "US") -> str:
    """E.164 for a dialable number; `anonymous` for a withheld or unreadable caller ID, so a
    caller is never refused because of what their carrier sent."""
    if not raw:
        return ANONYMOUS
    return _normalized(raw, region)


@lru_cache(maxsize=4096)
def _normalized(raw: str, region: str) -> str:
    # Parsing is slow and its answer never changes; a call's webhooks repeat the same numbers.
    text = raw.strip()
    if text.startswith("client:") or text.startswith("sip:"):
        return text
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return ANONYMOUS
    if not phonenumbers.is_possible_number(parsed):
        return ANONYMOUS
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


# Built once: asked for every incoming call.
_CONTACT = select(Contact).where(Contact.phone == bindparam("number"))
_CALLS_BETWEEN = select(func.count(Call.id)).where(
    Call.from_number == bindparam("number"),
    Call.direction == "inbound",
    Call.started_at >= bindparam("since"),
    Call.started_at < bindparam("until"),
)


def identify_caller(session: Session, *, number: str, now: datetime, tz: ZoneInfo) -> CallerInfo:
    """Look the number up in contacts and in today's calls (today in the business timezone)."""
    if number == ANONYMOUS:
        return CallerInfo(number, None, False, False, None, None)
    contact = session.scalar(_CONTACT, {"number": number})
    local_midnight = datetime.combine(now.astimezone(tz).date(), time(0), tz)
    earlier_today = session.scalar(
        _CALLS_BETWEEN, {"number": number, "since": local_midnight, "until": now}
    )
    return CallerInfo(
        number=number,
        name=contact.name if contact else None,
        vip=bool(contact and contact.vip),
        repeat_today=bool(earlier_today),
        language=contact.language if contact else None,
        contact_id=contact.id if contact else None,
    )


# Built once: every webhook looks its call up by CallSid.
_BY_SID = select(Call).where(Call.sid == bindparam("sid"))


def find_call(session: Session, sid: str) -> Call | None:
    return session.scalar(_BY_SID, {"sid": sid})


def open_inbound_call(
    session: Session, *, sid: str, from_number: str, to_number: str, now: datetime
) -> tuple[Call, bool]:
    """The call for `sid`, created on first sight. Returns (call, created)."""
    call = find_call(session, sid)
    if call is not None:
        return call, False
    call = Call(
        sid=sid,
        direction="inbound",
        from_number=from_number,
        to_number=to_number,
        status="in-progress",
        started_at=now,
        path=[],
        vars={},
    )
    session.add(call)
    session.flush()
    events.record(
        session, "call.started", at=now, call_id=call.id, sid=sid, **{"from": from_number}
    )
    return call, True


def extend_path(call: Call, entries: list[dict[str, Any]]) -> None:
    # A new list, so the JSON column is seen as changed.
    call.path = [*call.path, *entries]


def apply_status(
    session: Session,
    *,
    call: Call,
    status: str,
    now: datetime,
    duration: int | None = None,
    wrap_up_seconds: int = 30,
    entries: list[QueueEntry] | None = None,
) -> bool:
    """Apply a carrier status once: a duplicate or one arriving out of order changes nothing.
    Returns whether anything changed. `entries`: the call's queue entries, if the caller has
    loaded them (`queue.call_entries`) for its own use."""
    if status not in STATUS_ORDER:
        raise ValueError(f"unknown CallStatus {status!r}")
    if call.is_over or STATUS_ORDER[status] <= STATUS_ORDER.get(call.status, 0):
        return False
    call.status = status
    events.record(session, "call.status", at=now, call_id=call.id, status=status)
    if status == "in-progress" and call.answered_at is None:
        call.answered_at = now
    if status in FINAL_STATUSES:
        _end_call(session, call=call, now=now, duration=duration,
                  wrap_up_seconds=wrap_up_seconds,
                  entries=queue.call_entries(session, call=call) if entries is None else entries)
    return True


def _end_call(
    session: Session, *, call: Call, now: datetime, duration: int | None, wrap_up_seconds: int,
    entries: list[QueueEntry],
) -> None:
    from ivr.routing.reservations import call_ended

    call.ended_at = now
    call.duration_seconds = duration
    # An agent is reserved for the call, or talking to the caller, only while one of its
    # entries is reserved or connected: with none, there is no reservation to look up. The
    # entries may have been read before a router (another process) reserved one: abandoning
    # it below then fails its version check, and `Database.run` does the work again on fresh
    # rows, this time ending the reservation. A callback's entry is not written here, and
    # needs no such care: the caller's hanging up leaves it in play.
    if any(entry.status in ("reserved", "connected") for entry in entries):
        call_ended(session, call=call, now=now, wrap_up_seconds=wrap_up_seconds)
    entry = queue.in_play(entries)
    if entry is not None and entry.kind == "callback":
        # The caller hung up after asking for a callback: their entry keeps its place (it
        # may be ringing an agent already).
        call.outcome = "callback"
    elif entry is not None and entry.status == "waiting":
        queue.abandon(session, entry=entry, now=now)
        call.outcome = "abandoned"
    elif call.outcome in (None, "queued"):
        call.outcome = "ivr_hangup"
    events.record(session, "call.ended", at=now, call_id=call.id, outcome=call.outcome)
