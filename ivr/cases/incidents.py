"""Outages: a supervisor declares an incident on a skill or category with a message. Until it
is cleared, callers choosing that subject hear the message first, may ask for a text when it
is fixed, and their calls join the incident's case. Clearing it sends the texts."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callback.policy import CallbackPolicy
from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call
from ivr.cases import messages, service
from ivr.cases.models import Case, Incident, IncidentSubscriber
from ivr.cases.policy import CasePolicy

INCIDENT_CALLER = "incident"


class IncidentError(ValueError):
    """The incident cannot be declared or cleared as asked; the message says why."""


def declare(session: Session, *, subject: str, message: str, by: str, now: datetime,
            calendar: BusinessCalendar, policy: CasePolicy) -> Incident:
    if not subject.strip() or not message.strip():
        raise IncidentError("an incident needs a subject (skill or category) and a message")
    incident = Incident(subject=subject.strip(), message=message.strip(), declared_at=now,
                        declared_by=by)
    try:
        with session.begin_nested():
            session.add(incident)
            session.flush()
    except IntegrityError:
        raise IncidentError(f"an incident on {subject!r} is already active") from None
    impact, urgency = policy.impacts[-1], policy.urgencies[-1]
    case = Case(number=service.new_number(), caller_number=INCIDENT_CALLER,
                subject=incident.subject, impact=impact, urgency=urgency,
                priority=policy.priority(impact, urgency), status="in-progress",
                owner_skill=incident.subject, incident_id=incident.id, created_at=now,
                first_response_at=now)
    service.add_numbered(session, case)
    from ivr.cases import clocks

    clocks.start(session, case=case, kind="resolution", now=now, calendar=calendar,
                 policy=policy)
    events.record(session, "incident.declared", at=now, incident_id=incident.id,
                  subject=incident.subject, message=incident.message, by=by,
                  case_id=case.id, case_number=case.number)
    return incident


def active(session: Session, subjects: Iterable[str]) -> Incident | None:
    names = [s for s in subjects if s]
    if not names:
        return None
    return session.scalar(_ACTIVE_ON, {"names": names})


# Built once: asked for every caller who joins a queue.
_ACTIVE_ON = (select(Incident)
              .where(Incident.subject.in_(bindparam("names", expanding=True)),
                     Incident.cleared_at.is_(None))
              .order_by(Incident.id))


def case_of(session: Session, incident: Incident) -> Case:
    return session.scalar(select(Case).where(Case.incident_id == incident.id,
                                             Case.caller_number == INCIDENT_CALLER))


def link_call(session: Session, *, incident: Incident, call: Call, now: datetime) -> Case:
    case = case_of(session, incident)
    service.link_call(session, case=case, call=call, now=now)
    return case


def subscribe(session: Session, *, incident: Incident, number: str, language: str | None,
              now: datetime) -> bool:
    if session.get(IncidentSubscriber, (incident.id, number)) is not None:
        return False
    session.add(IncidentSubscriber(incident_id=incident.id, number=number, language=language,
                                   at=now))
    session.flush()
    events.record(session, "incident.subscribed", at=now, incident_id=incident.id,
                  number=number)
    return True


def clear(session: Session, *, incident: Incident, message: str, by: str, now: datetime,
          calendar: BusinessCalendar, callbacks: CallbackPolicy) -> list[int]:
    """Clear the incident and text every subscriber; returns the queued message ids."""
    if incident.cleared_at is not None:
        raise IncidentError(f"incident {incident.id} was already cleared")
    incident.cleared_at = now
    incident.clear_message = message.strip() or None
    queued = []
    subscribers = session.scalars(select(IncidentSubscriber).where(
        IncidentSubscriber.incident_id == incident.id, IncidentSubscriber.notified_at.is_(None)))
    for subscriber in subscribers:
        body = messages.words("incident_fixed", subscriber.language,
                              subject=incident.subject, message=incident.clear_message or "")
        text = messages.queue_text(session, to=subscriber.number, body=body.strip(),
                                   purpose="incident-fixed", now=now, calendar=calendar,
                                   policy=callbacks, incident_id=incident.id)
        subscriber.notified_at = now
        queued.append(text)
    case = case_of(session, incident)
    if case is not None and case.is_open:
        service.set_status(session, case=case, status="resolved", now=now, by=by,
                           calendar=calendar, policy=None)
    events.record(session, "incident.cleared", at=now, incident_id=incident.id, by=by,
                  texts=len(queued))
    session.flush()  # the texts' ids
    return [text.id for text in queued]
