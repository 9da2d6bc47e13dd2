"""What the live screens show, read from the database in one transaction: the wallboard
(callers waiting per skill, agents and their calls, callbacks pending, follow-ups at risk) and
an agent's desktop (their state and their call with its screen pop). Times are sent as
instants, so the browser counts waits up and deadlines down between updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callback import followups
from callback.models import Callback, FollowUp
from ivr.api.callbacks import follow_up_view
from ivr.api.views import agent_view
from ivr.calls.models import Call
from ivr.routing import reservations
from ivr.routing.agents import list_agents
from ivr.routing.estimate import estimate
from ivr.routing.models import Agent, QueueEntry, Reservation, Skill
from ivr.routing.policy import RoutingPolicy
from ivr.routing.screenpop import caller_view, screen_pop

ENTRIES_SHOWN = 50
CALLBACKS_SHOWN = 20
WAITING_CALLBACKS = ("pending", "scheduled", "dialing")


def wallboard(session: Session, *, now: datetime, policy: RoutingPolicy) -> dict[str, Any]:
    return {
        "now": now.isoformat(),
        "skills": _skills(session, now=now, policy=policy),
        "agents": _agents(session, now=now),
        "callbacks": _callbacks(session),
        "follow_ups": [follow_up_view(f, now) for f in followups.at_risk(session, now=now)],
        "follow_ups_open": session.scalar(
            select(func.count(FollowUp.id)).where(FollowUp.status == "open")
        ) or 0,
    }


def _skills(session: Session, *, now: datetime, policy: RoutingPolicy) -> list[dict[str, Any]]:
    by_skill: dict[str, list[dict[str, Any]]] = {
        name: [] for name in session.scalars(select(Skill.name))
    }
    waiting = session.scalars(
        select(QueueEntry).where(QueueEntry.status == "waiting").order_by(QueueEntry.entered_at)
    )
    for entry in waiting:
        wait = estimate(session, entry=entry, now=now, policy=policy)
        call = session.get(Call, entry.call_id)
        item = {
            "entry_id": entry.id,
            "call_id": entry.call_id,
            "kind": entry.kind,
            "caller": caller_view(call, call.contact),
            "skills": entry.skills,
            "priority": entry.priority,
            "priority_reasons": list(entry.reasons or []),
            "entered_at": entry.entered_at.isoformat(),
            "waited_seconds": round(now.timestamp() - entry.entered_epoch),
            "position": wait.position,
            "estimated_wait_seconds": wait.seconds,
        }
        for skill in entry.skills:
            by_skill.setdefault(skill, []).append(item)
    skills = []
    for name, items in sorted(by_skill.items()):
        items.sort(key=lambda i: i["position"])
        last = items[-1] if items else None
        skills.append({
            "skill": name,
            "waiting": len(items),
            "longest_wait_seconds": max((i["waited_seconds"] for i in items), default=0),
            "oldest_entered_at": min((i["entered_at"] for i in items), default=None),
            # What the caller at the back of the line was told: the wait a new caller faces.
            "estimated_wait_seconds": last["estimated_wait_seconds"] if last else None,
            "entries": items[:ENTRIES_SHOWN],
        })
    return skills


def _agents(session: Session, *, now: datetime) -> list[dict[str, Any]]:
    active = {
        r.agent_id: r
        for r in session.scalars(
            select(Reservation).where(Reservation.status.in_(("offered", "connected")))
        )
    }
    shown = []
    for agent in list_agents(session):
        view = agent_view(agent, now)
        reservation = active.get(agent.id)
        view["call"] = _call_summary(session, reservation) if reservation else None
        shown.append(view)
    return shown


def _call_summary(session: Session, reservation: Reservation) -> dict[str, Any]:
    call = session.get(Call, reservation.call_id)
    return {
        "call_id": call.id,
        "call_sid": call.sid,
        "agent_call_sid": reservation.agent_call_sid,
        "status": reservation.status,
        "since": (reservation.answered_at or reservation.created_at).isoformat(),
        "caller": caller_view(call, call.contact),
        "skills": reservation.entry.skills,
    }


def _callbacks(session: Session) -> dict[str, Any]:
    waiting = select(Callback).where(Callback.status.in_(WAITING_CALLBACKS))
    count = session.scalar(select(func.count()).select_from(waiting.subquery())) or 0
    items = session.scalars(
        waiting.order_by(Callback.due_at.is_(None), Callback.due_at, Callback.id)
        .limit(CALLBACKS_SHOWN)
    )
    return {
        "pending": count,
        "items": [
            {"id": c.id, "number": c.number, "kind": c.kind, "status": c.status,
             "due_at": c.due_at.isoformat() if c.due_at else None, "attempts": c.attempts,
             "reason": c.reason}
            for c in items
        ],
    }


def desktop(session: Session, *, agent_id: int, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """One agent's state and current call (with its screen pop), or None for no call."""
    agent = session.get(Agent, agent_id)
    reservation = reservations.active_for_agent(session, agent_id=agent_id)
    pop = None
    if reservation is not None:
        pop = screen_pop(session, reservation=reservation, now=now, tz=tz)
    return {"now": now.isoformat(), "agent": agent_view(agent, now), "call": pop}
