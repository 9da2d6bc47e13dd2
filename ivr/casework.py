"""Where cases meet the calls (the edge: used by the webhooks and timers, never by the domain):
a case opens or is joined when a call reaches a person, leaves a voicemail, books a callback
or becomes a follow-up; the caller hears its number and what happens next, and gets the same
by text; a caller who names a case goes to its owner."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ivr.calls.models import Call
from ivr.cases import incidents, messages
from ivr.cases import service as cases
from ivr.cases.models import Case, Incident
from ivr.routing import queue
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.routing.router import reserve
from ivr.telephony import TelephonyError

log = logging.getLogger(__name__)


def subject_of(call: Call, entry: QueueEntry | None) -> str:
    return (call.vars or {}).get("topic") or (entry.queue_name if entry else "general")


def language_of(call: Call) -> str | None:
    return (call.vars or {}).get("language")


def _vip(call: Call) -> bool:
    return (call.vars or {}).get("caller_vip") == "yes"


def _open(session: Session, rt: Any, call: Call, entry: QueueEntry | None, *,
          owner_agent_id: int | None) -> tuple[Case, bool]:
    return cases.open_or_join(
        session, call=call, subject=subject_of(call, entry),
        skill=entry.queue_name if entry else "general", now=rt.clock.now(),
        calendar=rt.calendar, policy=rt.cases, owner_agent_id=owner_agent_id, vip=_vip(call),
        language=language_of(call),
    )


def text_case(session: Session, rt: Any, case: Case, *, template: str,
              owner_name: str | None) -> None:
    if case.caller_number in ("anonymous", incidents.INCIDENT_CALLER):
        return
    language = case.language
    now = rt.clock.now()
    who, by_when = messages.what_next(case, owner_name=owner_name, now=now,
                                      calendar=rt.calendar, language=language)
    body = messages.words(template, language, number=case.number, who=who,
                          by=messages.words("by_when", language, when=by_when), when=by_when)
    messages.queue_text(session, to=case.caller_number, body=body, purpose=f"case-{template}",
                        now=now, calendar=rt.calendar, policy=rt.callbacks, case_id=case.id)


def spoken(case: Case) -> str:
    digits = messages.spoken_digits(case.number)
    return messages.words("spoken_number", case.language, digits=digits)


def on_connect(session: Session, rt: Any, reservation: Reservation, call: Call) -> str | None:
    """The caller is about to reach an agent: their case (opened now, or theirs already).
    Returns what to say before connecting: the case number, the first time only."""
    case, _ = _open(session, rt, call, reservation.entry, owner_agent_id=reservation.agent_id)
    if case.owner_agent_id is None:
        case.owner_agent_id = reservation.agent_id
    if (call.vars or {}).get("case_announced") == case.number:
        return None
    call.vars = {**call.vars, "case_announced": case.number}
    text_case(session, rt, case, template="opened", owner_name=reservation.agent.name)
    return spoken(case)


def on_answered(session: Session, rt: Any, reservation: Reservation) -> None:
    case = cases.for_call(session, reservation.call_id)
    if case is not None:
        cases.first_response(session, case=case, now=rt.clock.now(),
                             agent_id=reservation.agent_id)


def on_voicemail(session: Session, rt: Any, call: Call) -> str:
    # A caller who left the queue for voicemail asked the queue's skill for help.
    entry = queue.last_call_entry(session, call=call)
    case, _ = _open(session, rt, call, entry, owner_agent_id=None)
    call.vars = {**call.vars, "case_announced": case.number}
    text_case(session, rt, case, template="opened", owner_name=None)
    who, by_when = messages.what_next(case, owner_name=None, now=rt.clock.now(),
                                      calendar=rt.calendar, language=case.language)
    return f"{spoken(case)} {who.capitalize()} " + messages.words(
        "by_when", case.language, when=by_when) + "."


def on_missed(session: Session, rt: Any, call: Call, entry: QueueEntry | None) -> None:
    """A missed call that became (or joined) a follow-up: its case, for the queue the caller
    was last in (`entry`, left by now), and a text saying when we will call back — unless
    the caller already heard their case number."""
    case, _ = _open(session, rt, call, entry, owner_agent_id=None)
    if (call.vars or {}).get("case_announced") == case.number:
        return
    text_case(session, rt, case, template="missed", owner_name=None)


def on_callback_booked(session: Session, rt: Any, call: Call, entry: QueueEntry) -> str:
    case, _ = _open(session, rt, call, entry, owner_agent_id=None)
    call.vars = {**call.vars, "case_announced": case.number}
    text_case(session, rt, case, template="opened", owner_name=None)
    return spoken(case)


def route_to_case(session: Session, rt: Any, call: Call, case: Case
                  ) -> tuple[Reservation | None, QueueEntry]:
    """The caller named their case: to its owner if free now, else to the owner's skill with
    the case's priority. Nobody asks them to start over."""
    cases.link_call(session, case=case, call=call, now=rt.clock.now())
    call.vars = {**call.vars, "case_announced": case.number, "topic": case.subject}
    now = rt.clock.now()
    entry = queue.enqueue(session, call=call, skills={case.owner_skill: 1},
                          priority=rt.cases.router_priority[case.priority],
                          reasons=[f"case {case.number} {case.priority}"], now=now)
    reservation = None
    if case.owner_agent_id is not None:
        reservation = reserve(session, entry_id=entry.id, agent_id=case.owner_agent_id, now=now)
    return reservation, entry


def owner_name(session: Session, case: Case) -> str | None:
    if case.owner_agent_id is None:
        return None
    agent = session.get(Agent, case.owner_agent_id)
    return agent.name if agent else None


def incident_for(session: Session, call: Call, skills: dict[str, int]) -> Incident | None:
    """An active incident on the subject the caller chose (their topic or a queue's skill)."""
    subjects = [*skills, (call.vars or {}).get("topic") or ""]
    return incidents.active(session, subjects)


def send_due_texts(rt: Any, *, now: datetime | None = None) -> int:
    """Send the held texts whose time has come, one transaction each; first, the texts a
    stopped sender left `sending` are looked up at the carrier (`recover_stale_texts`)."""
    recover_stale_texts(rt, now=now)
    with rt.db.transaction() as session:
        ids = messages.due_texts(session, now=now or rt.clock.now())
    return send_texts(rt, ids)


def send_texts(rt: Any, ids: list[int]) -> int:
    """Send these held texts (found due by `messages.due_texts`). Each is claimed in one short
    transaction and its result written in another; the carrier is called in between, with
    no transaction open, so a slow carrier holds up no one (on SQLite a transaction holds
    the one write lock)."""
    sent = 0
    for message_id in ids:
        with rt.db.transaction() as session:
            outgoing = messages.claim(session, message_id=message_id, now=rt.clock.now())
        if outgoing is None:
            continue
        sid, error = messages.transmit(rt.telephony, outgoing, from_=rt.settings.support_number)
        with rt.db.transaction() as session:
            sent += messages.settle(session, message_id=message_id, sid=sid, error=error,
                                    now=rt.clock.now())
    return sent


def recover_stale_texts(rt: Any, *, now: datetime | None = None) -> dict[str, int]:
    """Texts a sender took and never settled (the process stopped while the carrier was
    called): the carrier is asked for each, with no transaction open. One it holds is
    recorded as sent, with its sid; one it never got goes back to held and out with the
    next due texts. No text is lost, and none is sent twice that the carrier shows it took.
    A carrier that does not answer is asked again at the next round."""
    with rt.db.transaction() as session:
        stale = messages.stale_claims(session, now=now or rt.clock.now())
    outcome = {"sent": 0, "held": 0}
    for claimed in stale:
        try:
            texts = rt.telephony.texts_to(claimed.to_number)
        except TelephonyError as exc:
            log.warning("text %s: cannot ask the carrier about it yet: %s",
                        claimed.message_id, exc)
            continue
        sid = messages.carrier_sid(claimed, texts)
        with rt.db.transaction() as session:
            status = messages.resolve_stale(session, claimed=claimed, sid=sid,
                                            now=rt.clock.now())
        if status is not None:
            outcome[status] += 1
            log.warning("text %s was left sending by a stopped sender: %s", claimed.message_id,
                        f"the carrier has it ({sid})" if sid else "the carrier never got it; "
                        "it goes out again")
    return outcome
