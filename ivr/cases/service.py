"""Cases: opened for every call that reaches a person, leaves a voicemail or becomes a
follow-up — or joined to the caller's open case on the same subject; their status, priority
(from impact and urgency), owner, notes and outcome; escalation when a clock nears or passes
its threshold."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call
from ivr.cases import clocks
from ivr.cases.models import CASE_STATES, OPEN_STATES, Case, CaseCall, CaseNote
from ivr.cases.policy import CasePolicy
from ivr.db import reading, sole_writer
from ivr.routing.models import QueueEntry

NUMBER_DRAWS = 50  # with the table 90% full, all 50 draws taken is a 1-in-200 chance


class CaseError(ValueError):
    """The change cannot be made as asked; the message says why."""


def new_number() -> str:
    """Six digits a person can key in; never starting with 0. Not checked here: a case is
    inserted by `add_numbered`, which draws again while the number is taken."""
    return str(100000 + secrets.randbelow(900000))


def add_numbered(session: Session, case: Case) -> None:
    """Insert the case (its number from `new_number`), drawing again while the number is
    taken. As the `sole_writer` (SQLite) a number found free stays free, and the lookup is
    one statement where a savepoint is two; otherwise (PostgreSQL) another process may take
    it between a lookup and the insert, so the insert itself tells, in a savepoint."""
    for _ in range(NUMBER_DRAWS):
        if sole_writer(session):
            with reading(session, Case):
                taken = session.scalar(_NUMBERED, {"number": case.number}) is not None
            if not taken:
                session.add(case)
                session.flush()
                return
        else:
            try:
                with session.begin_nested():
                    session.add(case)
                    session.flush()
                return
            except IntegrityError:
                if by_number(session, case.number) is None:
                    raise  # another constraint failed, not the number's
        case.number = new_number()
    raise CaseError("no free case number found; the case table is nearly full")


_NUMBERED = select(Case.id).where(Case.number == bindparam("number"))


def by_number(session: Session, number: str) -> Case | None:
    return session.scalar(select(Case).where(Case.number == number))


def for_call(session: Session, call_id: int) -> Case | None:
    return session.scalar(select(Case).join(CaseCall).where(CaseCall.call_id == call_id))


# Built once: asked for every caller at the case question and whenever a case is opened.
_OPEN_OF = (select(Case)
            .where(Case.caller_number == bindparam("caller_number"),
                   Case.status.in_(OPEN_STATES))
            .order_by(Case.created_at.desc()))
_LINKED_OR_OPEN = (
    select(Case, CaseCall.call_id.is_not(None))
    .outerjoin(CaseCall, and_(CaseCall.case_id == Case.id,
                              CaseCall.call_id == bindparam("call_id")))
    .where(or_(CaseCall.call_id == bindparam("call_id"),
               and_(Case.caller_number == bindparam("caller_number"),
                    Case.status.in_(OPEN_STATES))))
    .order_by(Case.created_at.desc())
)


def open_case_of(session: Session, caller_number: str, subject: str | None = None
                 ) -> Case | None:
    """The caller's open case, the one on `subject` first, else the most recent."""
    cases = list(session.scalars(_OPEN_OF, {"caller_number": caller_number}))
    same = [c for c in cases if subject and c.subject == subject]
    return (same or cases or [None])[0]


def link_call(session: Session, *, case: Case, call: Call, now: datetime,
              unlinked: bool = False) -> bool:
    """Link the call to the case, unless it has a case already (`unlinked`: the caller has
    just seen that it has none)."""
    if not unlinked and for_call(session, call.id) is not None:
        return False
    session.add(CaseCall(case_id=case.id, call_id=call.id, at=now))
    events.record(session, "case.call_linked", at=now, call_id=call.id, case_id=case.id,
                  case_number=case.number)
    return True


def open_case(
    session: Session, *, call: Call, subject: str, skill: str, now: datetime,
    calendar: BusinessCalendar, policy: CasePolicy, owner_agent_id: int | None = None,
    vip: bool = False, language: str | None = None, unlinked: bool = False,
) -> Case:
    """A new case for the call, its clocks started. `unlinked`: the caller has just seen
    that the call has no case yet."""
    impact, urgency = policy.defaults_for(topic=subject, vip=vip)
    case = Case(
        number=new_number(), caller_number=call.from_number, contact_id=call.contact_id,
        subject=subject, impact=impact, urgency=urgency,
        priority=policy.priority(impact, urgency), status="new",
        owner_agent_id=owner_agent_id, owner_skill=skill, language=language, created_at=now,
        clocks=[],  # a new case has none yet: starting them needs no query to find out
    )
    add_numbered(session, case)
    for kind in ("response", "resolution", "courtesy"):
        clocks.start(session, case=case, kind=kind, now=now, calendar=calendar, policy=policy)
    events.record(session, "case.opened", at=now, call_id=call.id, case_id=case.id,
                  case_number=case.number, subject=subject, priority=case.priority,
                  impact=impact, urgency=urgency, owner_agent_id=owner_agent_id,
                  owner_skill=skill)
    link_call(session, case=case, call=call, now=now, unlinked=unlinked)
    return case


def open_or_join(
    session: Session, *, call: Call, subject: str, skill: str, now: datetime,
    calendar: BusinessCalendar, policy: CasePolicy, owner_agent_id: int | None = None,
    vip: bool = False, language: str | None = None,
) -> tuple[Case, bool]:
    """The call's case: the one it already has, the caller's open case on the same subject
    (the suggestion the agent confirms or changes at wrap-up), or a new one. Returns (case,
    opened)."""
    existing, same = _linked_or_open(session, call, subject)
    if existing is not None:
        return existing, False
    if same is not None and same.subject == subject and call.from_number != "anonymous":
        link_call(session, case=same, call=call, now=now, unlinked=True)
        return same, False
    return open_case(session, call=call, subject=subject, skill=skill, now=now,
                     calendar=calendar, policy=policy, owner_agent_id=owner_agent_id, vip=vip,
                     language=language, unlinked=True), True


def _linked_or_open(session: Session, call: Call, subject: str
                    ) -> tuple[Case | None, Case | None]:
    """`for_call` and `open_case_of` in one query: (the call's case, the caller's open case
    on `subject` or else their latest)."""
    with reading(session, Case, CaseCall):
        rows = session.execute(
            _LINKED_OR_OPEN, {"call_id": call.id, "caller_number": call.from_number}
        ).all()
    linked = next((case for case, here in rows if here), None)
    open_cases = [case for case, _ in rows if case.caller_number == call.from_number
                  and case.status in OPEN_STATES]
    same = [case for case in open_cases if case.subject == subject]
    return linked, (same or open_cases or [None])[0]


def move_call(session: Session, *, call: Call, to: Case | None, now: datetime,
              calendar: BusinessCalendar, policy: CasePolicy, by: str) -> Case:
    """At wrap-up the agent decides: this call belongs to `to`, or (None) to a new case."""
    current = for_call(session, call.id)
    if current is not None:
        session.execute(CaseCall.__table__.delete().where(CaseCall.call_id == call.id))
    if to is None:
        base = current
        to = open_case(session, call=call, subject=base.subject if base else "general",
                       skill=base.owner_skill if base else "general", now=now,
                       calendar=calendar, policy=policy,
                       owner_agent_id=base.owner_agent_id if base else None)
    else:
        link_call(session, case=to, call=call, now=now)
    events.record(session, "case.call_moved", at=now, call_id=call.id, case_id=to.id,
                  case_number=to.number, by=by,
                  from_case=current.number if current else None)
    return to


def first_response(session: Session, *, case: Case, now: datetime, agent_id: int | None
                   ) -> None:
    """A person talked to the customer about the case."""
    if case.first_response_at is None:
        case.first_response_at = now
        clock = case.clock("response")
        if clock is not None:
            clocks.stop(session, clock=clock, now=now)
    if case.owner_agent_id is None and agent_id is not None:
        case.owner_agent_id = agent_id
    if case.status == "new":
        set_status(session, case=case, status="in-progress", now=now, by="first response",
                   calendar=None, policy=None)


def set_status(session: Session, *, case: Case, status: str, now: datetime, by: str,
               calendar: BusinessCalendar | None, policy: CasePolicy | None) -> None:
    if status not in CASE_STATES:
        raise CaseError(f"status must be one of {', '.join(CASE_STATES)}")
    if status == "closed":
        raise CaseError("close a case with an outcome (POST .../close)")
    if status == case.status:
        return
    if not case.is_open and status in OPEN_STATES:
        case.resolved_at = None  # reopened
    previous = case.status
    case.status = status
    running = [c for c in case.clocks if c.kind in ("resolution", "courtesy")]
    if status == "waiting-on-customer" and calendar is not None:
        for clock in running:
            clocks.pause(session, clock=clock, now=now, calendar=calendar)
    elif previous == "waiting-on-customer" and calendar is not None and policy is not None:
        for clock in running:
            clocks.resume(session, clock=clock, now=now, calendar=calendar, policy=policy)
    if status == "resolved":
        case.resolved_at = now
        for clock in case.clocks:
            if clock.state in ("running", "paused"):
                clocks.stop(session, clock=clock, now=now)
    events.record(session, "case.status", at=now, case_id=case.id, case_number=case.number,
                  status=status, previous=previous, by=by)


def close(session: Session, *, case: Case, outcome: str, first_contact: bool, now: datetime,
          by: str, policy: CasePolicy) -> None:
    if outcome not in policy.outcomes:
        raise CaseError(f"outcome must be one of: {', '.join(policy.outcomes)}")
    if case.status == "closed":
        raise CaseError(f"case {case.number} is already closed")
    if case.status != "resolved":
        set_status(session, case=case, status="resolved", now=now, by=by, calendar=None,
                   policy=None)
    case.status = "closed"
    case.closed_at = now
    case.outcome = outcome
    case.first_contact_resolution = first_contact
    events.record(session, "case.closed", at=now, case_id=case.id, case_number=case.number,
                  outcome=outcome, first_contact=first_contact, by=by,
                  within_service_level=within_service_level(case))


def within_service_level(case: Case) -> bool | None:
    clock = case.clock("resolution")
    if clock is None or clock.state not in ("met", "breached"):
        return None
    return clock.state == "met"


def change_priority(session: Session, *, case: Case, impact: str, urgency: str, reason: str,
                    by: str, now: datetime, calendar: BusinessCalendar,
                    policy: CasePolicy) -> None:
    """An agent re-judges impact and urgency; the reason is kept."""
    if not reason.strip():
        raise CaseError("changing a case's priority needs a reason")
    previous = case.priority
    case.priority = policy.priority(impact, urgency)
    case.impact, case.urgency = impact, urgency
    clocks.retarget(session, case=case, now=now, calendar=calendar, policy=policy)
    _raise_in_router(session, case, policy)
    events.record(session, "case.priority_changed", at=now, case_id=case.id,
                  case_number=case.number, previous=previous, priority=case.priority,
                  impact=impact, urgency=urgency, reason=reason, by=by)


def add_note(session: Session, *, case: Case, text: str, author: str, now: datetime
             ) -> CaseNote:
    if not text.strip():
        raise CaseError("a note needs some text")
    note = CaseNote(case_id=case.id, at=now, author=author, text=text.strip())
    session.add(note)
    session.flush()
    events.record(session, "case.note", at=now, case_id=case.id, note_id=note.id,
                  author=author)
    return note


def _raise_in_router(session: Session, case: Case, policy: CasePolicy,
                     extra: int = 0) -> int:
    """Waiting entries of the case's calls get at least the case's router priority."""
    wanted = policy.router_priority[case.priority] + extra
    entries = session.scalars(
        select(QueueEntry).join(CaseCall, CaseCall.call_id == QueueEntry.call_id)
        .where(CaseCall.case_id == case.id,
               QueueEntry.status.in_(("waiting", "scheduled")))
    ).all()
    raised = 0
    for entry in entries:
        if entry.priority < wanted:
            entry.reasons = [*entry.reasons, f"case {case.number} {case.priority}: {wanted}"]
            entry.priority = wanted
            raised += 1
    return raised


def escalate_due(session: Session, *, now: datetime, policy: CasePolicy
                 ) -> list[dict[str, Any]]:
    """Clocks nearing their threshold notify the owner; clocks past it notify the owner's
    supervisor and raise the case in the router. Returns what was escalated."""
    from ivr.cases.models import CaseClock

    escalated = []
    running = session.scalars(
        select(CaseClock).where(CaseClock.state == "running", CaseClock.kind != "courtesy",
                                CaseClock.warn_at <= now)
    ).all()
    for clock in running:
        case = clock.case
        if clock.warned_at is None:
            clock.warned_at = now
            escalated.append(_escalation(session, case, clock, level=1, now=now))
        if clock.breached_at is None and clock.target_at <= now:
            clock.breached_at = now
            _raise_in_router(session, case, policy, extra=1)
            escalated.append(_escalation(session, case, clock, level=2, now=now))
    return escalated


def _escalation(session: Session, case: Case, clock, *, level: int, now: datetime
                ) -> dict[str, Any]:
    notify = "owner" if level == 1 else "supervisor"
    events.record(session, "case.escalated", at=now, case_id=case.id, case_number=case.number,
                  clock=clock.kind, level=level, notify=notify,
                  owner_agent_id=case.owner_agent_id, owner_skill=case.owner_skill,
                  target_at=clock.target_at.isoformat())
    return {"case": case.number, "clock": clock.kind, "level": level, "notify": notify}


def courtesy_due(session: Session, *, now: datetime) -> list[Case]:
    """Open cases whose courtesy clock ran out: the customer gets a call to hear where their
    case stands. The clock is stopped so it happens once."""
    from ivr.cases.models import CaseClock

    due = session.scalars(
        select(CaseClock).where(CaseClock.kind == "courtesy", CaseClock.state == "running",
                                CaseClock.target_at <= now)
    ).all()
    cases = []
    for clock in due:
        clock.state = "stopped"
        clock.stopped_at = now
        if clock.case.is_open:
            cases.append(clock.case)
            events.record(session, "case.courtesy_call", at=now, case_id=clock.case_id,
                          case_number=clock.case.number)
    return cases


def timeline(session: Session, case: Case) -> list[dict[str, Any]]:
    from ivr.calls.models import CallEvent

    call_ids = select(CaseCall.call_id).where(CaseCall.case_id == case.id)
    rows = session.scalars(
        select(CallEvent).where(
            (CallEvent.kind.like("case.%") & (CallEvent.data["case_id"].as_integer() == case.id))
            | CallEvent.call_id.in_(call_ids) & CallEvent.kind.in_(
                ("call.started", "call.answered", "call.ended", "call.wrapped_up",
                 "routing.transferred", "voicemail.left", "callback.attempt"))
        ).order_by(CallEvent.id)
    )
    return [{"at": e.at.isoformat(), "kind": e.kind, "call_id": e.call_id,
             "agent_id": e.agent_id, "data": e.data} for e in rows]


def timeline_calls(session: Session, case: Case) -> list[int]:
    return list(session.scalars(select(CaseCall.call_id).where(CaseCall.case_id == case.id)))
