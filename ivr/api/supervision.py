"""The API for the supervisor's actions on the live queue and the follow-ups (move a waiting
caller to another skill, change their priority, hand a follow-up to an agent), and an agent's
own worklist of follow-ups and callbacks."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import FollowUp
from ivr.api.auth import may_act_for, require, user
from ivr.api.callbacks import callback_view, follow_up_view
from ivr.api.views import agent_or_404, body, text_field
from ivr.routing import supervision
from ivr.routing.models import Agent, QueueEntry
from ivr.runtime import current

bp = Blueprint("api_supervision", __name__, url_prefix="/api")
SUPERVISORS = ("supervisor", "admin")


def _int_field(data: dict, name: str, *, default: int | None = None) -> int:
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        abort(400, description=f"field {name!r} must be a whole number")
    return value


def _waiting(session: Session, entry_id: int) -> QueueEntry:
    try:
        return supervision.waiting_entry(session, entry_id=entry_id)
    except LookupError as exc:
        abort(404, description=str(exc))
    except supervision.SupervisionError as exc:
        abort(409, description=str(exc))


def _entry_view(entry: QueueEntry) -> dict:
    return {"entry_id": entry.id, "call_id": entry.call_id, "skills": entry.skills,
            "priority": entry.priority, "priority_reasons": list(entry.reasons or []),
            "status": entry.status}


@bp.post("/queue/<int:entry_id>/skill")
@require(*SUPERVISORS)
def move_entry(entry_id: int) -> Response:
    data = body()
    skill = text_field(data, "skill")
    level = _int_field(data, "level", default=1)
    rt = current()
    with rt.db.transaction() as session:
        entry = _waiting(session, entry_id)
        try:
            supervision.move_to_skill(session, entry=entry, skill=skill, min_level=level,
                                      now=rt.clock.now(), by=user().username)
        except supervision.SupervisionError as exc:
            abort(409, description=str(exc))
        view = _entry_view(entry)
    rt.poke_router()
    return jsonify(view)


@bp.post("/queue/<int:entry_id>/priority")
@require(*SUPERVISORS)
def entry_priority(entry_id: int) -> Response:
    data = body()
    priority = _int_field(data, "priority")
    reason = text_field(data, "reason")
    rt = current()
    with rt.db.transaction() as session:
        entry = _waiting(session, entry_id)
        try:
            supervision.set_priority(session, entry=entry, priority=priority, reason=reason,
                                     now=rt.clock.now(), by=user().username)
        except supervision.SupervisionError as exc:
            abort(400, description=str(exc))
        view = _entry_view(entry)
    rt.poke_router()
    return jsonify(view)


@bp.post("/followups/<int:follow_up_id>/owner")
@require(*SUPERVISORS)
def follow_up_owner(follow_up_id: int) -> Response:
    name = text_field(body(), "agent")
    rt = current()
    with rt.db.transaction() as session:
        follow_up = session.get(FollowUp, follow_up_id)
        if follow_up is None:
            abort(404, description=f"no follow-up {follow_up_id}")
        agent = session.scalar(select(Agent).where(Agent.name == name))
        if agent is None:
            abort(404, description=f"no agent named {name!r}")
        try:
            supervision.assign_follow_up(session, follow_up=follow_up, agent=agent,
                                         now=rt.clock.now(), by=user().username)
        except supervision.SupervisionError as exc:
            abort(409, description=str(exc))
        view = follow_up_view(follow_up, rt.clock.now()) | {"owner": agent.name}
    return jsonify(view)


@bp.get("/agents/<int:agent_id>/worklist")
@require()
def agent_worklist(agent_id: int) -> Response:
    rt = current()
    with rt.db.transaction() as session:
        may_act_for(agent_or_404(session, agent_id))
        found = supervision.worklist(session, agent_id=agent_id)
        now = rt.clock.now()
        return jsonify(follow_ups=[follow_up_view(f, now) for f in found["follow_ups"]],
                       callbacks=[callback_view(c) for c in found["callbacks"]])
