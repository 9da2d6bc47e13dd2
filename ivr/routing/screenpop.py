"""What the agent sees before answering: who is calling and why, how they got here and how
long they waited, earlier contacts today and notes left by earlier agents. The customer never
has to repeat themselves."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.calls.models import Call, CallNote, Contact
from ivr.routing.models import Agent, QueueEntry, Reservation

NOTES_SHOWN = 10


def caller_view(call: Call, contact: Contact | None) -> dict[str, Any]:
    values = call.vars or {}
    return {
        "number": call.from_number,
        "name": (contact.name if contact else None) or values.get("caller_name") or None,
        "vip": bool(contact and contact.vip) or values.get("caller_vip") == "yes",
        "language": values.get("language") or (contact.language if contact else None),
        "repeat_today": values.get("caller_repeat") == "yes",
    }


def ivr_path(call: Call) -> list[dict[str, Any]]:
    return [
        {k: step.get(k) for k in ("node", "node_kind", "event", "input", "at") if step.get(k)}
        for step in call.path or []
    ]


def earlier_today(session: Session, *, call: Call, tz: ZoneInfo) -> list[dict[str, Any]]:
    if call.from_number == "anonymous":
        return []
    midnight = datetime.combine(call.started_at.astimezone(tz).date(), time(0), tz)
    calls = session.scalars(
        select(Call)
        .where(
            Call.from_number == call.from_number,
            Call.id != call.id,
            Call.started_at >= midnight,
            Call.started_at < call.started_at,
        )
        .order_by(Call.started_at)
    )
    return [
        {"call_id": c.id, "started_at": c.started_at.isoformat(), "outcome": c.outcome}
        for c in calls
    ]


def notes_for(session: Session, *, call: Call) -> list[dict[str, Any]]:
    """Notes on this call and on earlier calls from the same number, newest first."""
    same_caller = select(Call.id).where(Call.from_number == call.from_number)
    if call.from_number == "anonymous":
        same_caller = select(Call.id).where(Call.id == call.id)
    rows = session.execute(
        select(CallNote, Agent.name)
        .outerjoin(Agent, Agent.id == CallNote.agent_id)
        .where(CallNote.call_id.in_(same_caller))
        .order_by(CallNote.at.desc(), CallNote.id.desc())
        .limit(NOTES_SHOWN)
    )
    return [
        {"call_id": note.call_id, "at": note.at.isoformat(), "agent": name, "text": note.text}
        for note, name in rows
    ]


def screen_pop(
    session: Session, *, reservation: Reservation, now: datetime, tz: ZoneInfo
) -> dict[str, Any]:
    entry: QueueEntry = reservation.entry
    call = session.get(Call, reservation.call_id)
    contact = session.get(Contact, call.contact_id) if call.contact_id else None
    return {
        "reservation_id": reservation.id,
        "status": reservation.status,
        "call_id": call.id,
        "call_sid": call.sid,
        "caller": caller_view(call, contact),
        "ivr_path": ivr_path(call),
        "skills": entry.skills,
        "priority": entry.priority,
        "priority_reasons": list(entry.reasons or []),
        "waited_seconds": round(
            ((reservation.answered_at or now) - entry.entered_at).total_seconds()
        ),
        "transfer_note": entry.note,
        "earlier_today": earlier_today(session, call=call, tz=tz),
        "notes": notes_for(session, call=call),
        "case": case_summary(session, call=call, now=now),
        "open_follow_ups": open_follow_ups(session, number=call.from_number, now=now),
    }


def case_summary(session: Session, *, call: Call, now: datetime) -> dict[str, Any] | None:
    """The call's case, whole: who should not have to repeat themselves."""
    from ivr.cases import service as cases
    from ivr.cases.models import CaseNote

    case = cases.for_call(session, call.id)
    if case is None:
        return None
    notes = session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                            .order_by(CaseNote.id.desc()).limit(NOTES_SHOWN))
    return {
        "number": case.number, "status": case.status, "subject": case.subject,
        "category": case.category, "priority": case.priority, "owner_skill": case.owner_skill,
        "opened_at": case.created_at.isoformat(),
        "calls": len(cases.timeline_calls(session, case)),
        "notes": [{"at": n.at.isoformat(), "author": n.author, "text": n.text} for n in notes],
        "clocks": [{"kind": c.kind, "state": c.state, "target_at": c.target_at.isoformat()}
                   for c in case.clocks],
    }


def open_follow_ups(session: Session, *, number: str, now: datetime) -> list[dict[str, Any]]:
    from callback.models import FollowUp

    rows = session.scalars(select(FollowUp).where(FollowUp.number == number,
                                                  FollowUp.status == "open"))
    return [{"id": f.id, "due_at": f.due_at.isoformat(), "missed_count": f.missed_count,
             "escalated": f.escalated_at is not None} for f in rows]
