"""Service-level clocks counted in business hours: time to first response, time to
resolution, and the courtesy call. Waiting on the customer pauses them; the deadline moves by
the business time that was left."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.cases.models import Case, CaseClock
from ivr.cases.policy import CasePolicy

RUNNING = ("running",)


def threshold(case: Case, kind: str, policy: CasePolicy) -> timedelta:
    level = policy.level(case.priority)
    return {"response": level.respond, "resolution": level.resolve,
            "courtesy": level.courtesy}[kind]


def start(
    session: Session, *, case: Case, kind: str, now: datetime, calendar: BusinessCalendar,
    policy: CasePolicy,
) -> CaseClock:
    budget = threshold(case, kind, policy)
    clock = CaseClock(
        case_id=case.id, kind=kind, state="running", started_at=now,
        target_at=calendar.add_business_time(now, budget),
        warn_at=calendar.add_business_time(now, budget * policy.warn_at),
    )
    # Written with the next flush: nothing here needs the clock's id.
    session.add(clock)
    case.clocks.append(clock)
    events.record(session, "case.clock", at=now, case_id=case.id, case_number=case.number,
                  clock=kind, change="started", target_at=clock.target_at.isoformat())
    return clock


def pause(session: Session, *, clock: CaseClock, now: datetime,
          calendar: BusinessCalendar) -> None:
    if clock.state != "running":
        return
    clock.remaining_seconds = max(
        calendar.business_time_between(now, clock.target_at).total_seconds(), 0.0)
    clock.state = "paused"
    events.record(session, "case.clock", at=now, case_id=clock.case_id, clock=clock.kind,
                  change="paused", remaining_seconds=clock.remaining_seconds)


def resume(session: Session, *, clock: CaseClock, now: datetime, calendar: BusinessCalendar,
           policy: CasePolicy) -> None:
    if clock.state != "paused":
        return
    remaining = timedelta(seconds=clock.remaining_seconds or 0.0)
    budget = threshold(clock.case, clock.kind, policy)
    clock.target_at = calendar.add_business_time(now, remaining)
    until_warn = remaining - budget * (1 - policy.warn_at)
    clock.warn_at = calendar.add_business_time(now, max(until_warn, timedelta(0)))
    clock.remaining_seconds = None
    clock.state = "running"
    events.record(session, "case.clock", at=now, case_id=clock.case_id, clock=clock.kind,
                  change="resumed", target_at=clock.target_at.isoformat())


def stop(session: Session, *, clock: CaseClock, now: datetime) -> str:
    """Stop a clock: met when in time, breached when late. Returns the result."""
    if clock.state in ("met", "stopped"):
        return clock.state
    late = clock.breached_at is not None or (clock.state == "running" and now > clock.target_at)
    clock.state = "breached" if late else "met"
    clock.stopped_at = now
    events.record(session, "case.clock", at=now, case_id=clock.case_id, clock=clock.kind,
                  change=clock.state, target_at=clock.target_at.isoformat())
    return clock.state


def retarget(session: Session, *, case: Case, now: datetime, calendar: BusinessCalendar,
             policy: CasePolicy) -> None:
    """After a priority change: running clocks keep their start, with the new thresholds."""
    for clock in case.clocks:
        if clock.state != "running":
            continue
        budget = threshold(case, clock.kind, policy)
        clock.target_at = calendar.add_business_time(clock.started_at, budget)
        clock.warn_at = calendar.add_business_time(clock.started_at, budget * policy.warn_at)
        events.record(session, "case.clock", at=now, case_id=case.id, clock=clock.kind,
                      change="retargeted", target_at=clock.target_at.isoformat())
