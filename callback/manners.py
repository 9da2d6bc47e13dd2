"""The dialler's manners: never outside business hours, never outside the customer's own
daytime (from their number's timezone), never to a number on the do-not-call list, and never
faster than the carrier's calls-per-second limit."""

from __future__ import annotations

import time as clock_time
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as number_timezones
from sqlalchemy import bindparam, select
from sqlalchemy import event as orm_events
from sqlalchemy.orm import Session

from callback.models import DoNotCall, OutboundPacing
from callback.policy import END_OF_DAY, CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.db import reading


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    reason: str | None = None
    not_before: datetime | None = None  # when to try again; None: never (do-not-call)


def customer_timezones(number: str) -> list[ZoneInfo]:
    """The timezones the number may ring in (all of them, when the number does not say)."""
    return list(_timezones(number))


@lru_cache(maxsize=4096)
def _timezones(number: str) -> tuple[ZoneInfo, ...]:
    # Parsing a number is slow and its answer never changes: every webhook of a call and
    # every round of the dialler asks about the same few numbers.
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return ()
    names = number_timezones.time_zones_for_number(parsed)
    return tuple(ZoneInfo(name) for name in names if name != "Etc/Unknown")


def _customer_day_ok(at: datetime, zone: ZoneInfo, policy: CallbackPolicy) -> bool:
    local = at.astimezone(zone).time()
    start, end = policy.customer_hours
    return start <= local and (local < end or end == END_OF_DAY)


def next_customer_daytime(at: datetime, zones: list[ZoneInfo], policy: CallbackPolicy
                          ) -> datetime:
    """The first moment (on the quarter hour) that is daytime in every one of `zones`."""
    probe = at.replace(second=0, microsecond=0)
    probe += timedelta(minutes=(15 - probe.minute % 15) % 15)
    for _ in range(4 * 24 * 8):
        if all(_customer_day_ok(probe, zone, policy) for zone in zones):
            return probe
        probe += timedelta(minutes=15)
    raise ValueError("no common daytime for the number's timezones within a week")


# Built once: asked for every text and every callback the dialler considers.
_ON_LIST = select(DoNotCall.number).where(DoNotCall.number == bindparam("number"))


_CLEARED = "manners.not_on_do_not_call"  # Session.info: (transaction, numbers found clear)


def on_do_not_call(session: Session, number: str) -> bool:
    """Asked for a call's text and then its callback in one transaction: a number found
    clear is not looked up again in that transaction, unless the list changes in it (pending
    in the session, or flushed: `_list_flushed`)."""
    transaction = session.get_transaction()
    cleared = session.info.get(_CLEARED)
    if cleared is None or cleared[0] is not transaction or _list_pending(session):
        cleared = None
    elif number in cleared[1]:
        return False
    with reading(session, DoNotCall):  # a pending change to the list is flushed first
        on_list = session.scalar(_ON_LIST, {"number": number}) is not None
    if not on_list:
        if cleared is None:
            cleared = (session.get_transaction(), set())  # begun by the lookup, if not before
            session.info[_CLEARED] = cleared
        cleared[1].add(number)
    return on_list


def _list_pending(session: Session) -> bool:
    return any(isinstance(obj, DoNotCall) for obj in (*session.new, *session.deleted))


@orm_events.listens_for(Session, "after_flush")
def _list_flushed(session: Session, _context: object) -> None:
    # The numbers found clear may be on the list now (new, dirty and deleted still hold what
    # this flush wrote).
    if _CLEARED in session.info and any(
        isinstance(obj, DoNotCall) for obj in (*session.new, *session.dirty, *session.deleted)
    ):
        session.info.pop(_CLEARED, None)


def may_dial(
    session: Session,
    *,
    number: str,
    now: datetime,
    calendar: BusinessCalendar,
    policy: CallbackPolicy,
) -> Verdict:
    """Whether the dialler may call `number` now, and if not, when it may try again."""
    if on_do_not_call(session, number):
        return Verdict(False, "number is on the do-not-call list")
    zones = customer_timezones(number)
    if not zones:
        return Verdict(False, f"{number} is not a dialable number")
    later: list[datetime] = []
    reasons: list[str] = []
    if not calendar.is_open(now):
        later.append(calendar.next_open(now))
        reasons.append("outside business hours")
    if not all(_customer_day_ok(now, zone, policy) for zone in zones):
        later.append(next_customer_daytime(now, zones, policy))
        reasons.append("outside the customer's local hours")
    if not later:
        return Verdict(True)
    # Both must hold at once: walk forward until they do.
    candidate = max(later)
    for _ in range(60):
        if calendar.is_open(candidate) and all(
            _customer_day_ok(candidate, zone, policy) for zone in zones
        ):
            return Verdict(False, " and ".join(reasons), candidate)
        opened = calendar.next_open(candidate)
        candidate = max(opened, next_customer_daytime(opened, zones, policy))
    return Verdict(False, " and ".join(reasons) + "; no common time found")


def take_dial_slot(session: Session, *, now: datetime, policy: CallbackPolicy) -> float:
    """Claim the next outbound slot; returns the seconds to wait before dialling (0 when the
    call may start now). The slot row is locked, so processes share one pace."""
    pacing = session.scalar(
        select(OutboundPacing).where(OutboundPacing.id == 1).with_for_update()
    )
    spacing = timedelta(seconds=1.0 / policy.calls_per_second)
    if pacing is None:
        session.add(OutboundPacing(id=1, next_at=now + spacing))
        session.flush()
        return 0.0
    start = max(now, pacing.next_at)
    pacing.next_at = start + spacing
    return (start - now).total_seconds()


def wait(seconds: float) -> None:
    if seconds > 0:
        clock_time.sleep(seconds)
