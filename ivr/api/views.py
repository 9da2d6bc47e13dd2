"""The JSON API for agents and supervisors: agents and their state, the live queue, the
agent's current call with its screen pop, calls with their IVR path, notes and transfers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import events
from ivr.api.auth import may_act_for, require, supervising, user
from ivr.calls.models import Call, CallEvent, CallNote, CallWrapUp
from ivr.db import for_change, get_for_change
from ivr.routing import reservations, transfer
from ivr.routing.agents import list_agents
from ivr.routing.estimate import estimate
from ivr.routing.models import Agent, QueueEntry
from ivr.routing.presence import PresenceError, choose_state
from ivr.routing.screenpop import caller_view, ivr_path, notes_for, screen_pop
from ivr.runtime import current
from ivr.telephony import TelephonyError

bp = Blueprint("api", __name__, url_prefix="/api")


def body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, description="send a JSON object (Content-Type: application/json)")
    return data


def text_field(data: dict[str, Any], name: str, *, required: bool = True) -> str | None:
    value = data.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        abort(400, description=f"field {name!r} must be a non-empty string")
    return value.strip()


def agent_or_404(session: Session, agent_id: int, *, lock: bool = False) -> Agent:
    """`lock`: the row is locked until the transaction ends (PostgreSQL), so a router
    cannot reserve the agent between this read and the change; it passes them over."""
    agent = (get_for_change(session, Agent, agent_id) if lock
             else session.get(Agent, agent_id))
    if agent is None:
        abort(404, description=f"no agent {agent_id}")
    return agent


def agent_view(agent: Agent, now: datetime) -> dict[str, Any]:
    return {
        "id": agent.id,
        "name": agent.name,
        "endpoint": agent.endpoint,
        "state": agent.state,
        "reason": agent.state_reason,
        "state_since": agent.state_since.isoformat(),
        "seconds_in_state": round((now - agent.state_since).total_seconds()),
        "wrap_up_until": agent.wrapup_until.isoformat() if agent.wrapup_until else None,
        "skills": {s.skill.name: s.level for s in agent.skills},
    }


@bp.get("/me")
@require()
def me() -> Response:
    current_user = user()
    return jsonify(
        id=current_user.id,
        username=current_user.username,
        role=current_user.role,
        agent_id=current_user.agent_id,
    )


@bp.get("/agents")
@require()
def agents() -> Response:
    rt = current()
    with rt.db.transaction() as session:
        now = rt.clock.now()
        return jsonify(agents=[agent_view(a, now) for a in list_agents(session)])


@bp.get("/agents/<int:agent_id>")
@require()
def agent(agent_id: int) -> Response:
    rt = current()
    with rt.db.transaction() as session:
        return jsonify(agent_view(agent_or_404(session, agent_id), rt.clock.now()))


@bp.put("/agents/<int:agent_id>/state")
@require()
def set_agent_state(agent_id: int) -> Response:
    data = body()
    state = text_field(data, "state")
    reason = text_field(data, "reason", required=False)
    rt = current()
    with rt.db.transaction() as session:
        target = agent_or_404(session, agent_id, lock=True)
        may_act_for(target)
        try:
            choose_state(
                session,
                agent=target,
                state=state,
                now=rt.clock.now(),
                reason=reason,
                by=user().username,
            )
        except PresenceError as exc:
            abort(409, description=str(exc))
        view = agent_view(target, rt.clock.now())
    rt.poke_router()
    return jsonify(view)


@bp.get("/agents/<int:agent_id>/call")
@require()
def agent_call(agent_id: int) -> Response:
    """The agent's current call (ringing or connected) with its screen pop; 204 when none."""
    rt = current()
    with rt.db.transaction() as session:
        target = agent_or_404(session, agent_id)
        may_act_for(target)
        reservation = reservations.active_for_agent(session, agent_id=target.id)
        if reservation is None:
            return Response(status=204)
        return jsonify(
            screen_pop(session, reservation=reservation, now=rt.clock.now(), tz=rt.calendar.tz)
        )


@bp.get("/queue")
@require()
def live_queue() -> Response:
    """Waiting callers per skill, in the router's order, with positions and estimated waits."""
    rt = current()
    with rt.db.transaction() as session:
        now = rt.clock.now()
        waiting = session.scalars(select(QueueEntry).where(QueueEntry.status == "waiting"))
        by_skill: dict[str, list[dict[str, Any]]] = {}
        for entry in waiting:
            wait = estimate(session, entry=entry, now=now, policy=rt.policy)
            call = session.get(Call, entry.call_id)
            item = {
                "entry_id": entry.id,
                "call_id": entry.call_id,
                "caller": caller_view(call, call.contact),
                "skills": entry.skills,
                "priority": entry.priority,
                "priority_reasons": list(entry.reasons or []),
                "effective_priority": round(
                    rt.policy.effective_priority(
                        entry.priority, now.timestamp() - entry.entered_epoch
                    ),
                    2,
                ),
                "waited_seconds": round(now.timestamp() - entry.entered_epoch),
                "position": wait.position,
                "estimated_wait_seconds": wait.seconds,
                "eligible_agents": wait.eligible_agents,
            }
            for skill in entry.skills:
                by_skill.setdefault(skill, []).append(item)
    skills = []
    for name, items in sorted(by_skill.items()):
        items.sort(key=lambda i: i["position"])
        skills.append(
            {
                "skill": name,
                "waiting": len(items),
                "longest_wait_seconds": max(i["waited_seconds"] for i in items),
                "entries": items,
            }
        )
    return jsonify(skills=skills)


def _day_bounds(raw: str | None, tz: Any) -> tuple[datetime, datetime]:
    try:
        day = date.fromisoformat(raw) if raw else datetime.now(tz).date()
    except ValueError:
        abort(400, description=f"date must be YYYY-MM-DD, not {raw!r}")
    start = datetime.combine(day, time(0), tz)
    return start, start + timedelta(days=1)


def call_view(session: Session, call: Call, *, detail: bool) -> dict[str, Any]:
    view = {
        "id": call.id,
        "sid": call.sid,
        "direction": call.direction,
        "from": call.from_number,
        "to": call.to_number,
        "status": call.status,
        "outcome": call.outcome,
        "started_at": call.started_at.isoformat(),
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "duration_seconds": call.duration_seconds,
        "caller": caller_view(call, call.contact),
        "ivr_path": ivr_path(call),
    }
    if detail:
        view["events"] = [
            {"at": e.at.isoformat(), "kind": e.kind, "agent_id": e.agent_id, "data": e.data}
            for e in session.scalars(
                select(CallEvent).where(CallEvent.call_id == call.id).order_by(CallEvent.id)
            )
        ]
        view["notes"] = notes_for(session, call=call)
        view["wrap_ups"] = [
            wrap_up_view(w) for w in session.scalars(
                select(CallWrapUp).where(CallWrapUp.call_id == call.id).order_by(CallWrapUp.id)
            )
        ]
    return view


def wrap_up_view(wrap_up: CallWrapUp) -> dict[str, Any]:
    return {
        "call_id": wrap_up.call_id,
        "agent_id": wrap_up.agent_id,
        "category": wrap_up.category,
        "resolved": wrap_up.resolved,
        "notes": wrap_up.notes,
        "at": wrap_up.at.isoformat(),
    }


def may_see_call(session: Session, call: Call) -> None:
    if supervising():
        return
    handled = session.scalar(
        select(CallEvent.id)
        .where(CallEvent.call_id == call.id, CallEvent.agent_id == user().agent_id)
        .limit(1)
    )
    if user().agent_id is None or handled is None:
        abort(403, description="agents see only the calls they took")


@bp.get("/calls")
@require("supervisor", "admin")
def calls() -> Response:
    rt = current()
    start, end = _day_bounds(request.args.get("date"), rt.calendar.tz)
    outcome = request.args.get("outcome")
    query = select(Call).where(Call.started_at >= start, Call.started_at < end)
    if outcome:
        query = query.where(Call.outcome == outcome)
    with rt.db.transaction() as session:
        found = session.scalars(query.order_by(Call.started_at).limit(1000))
        return jsonify(calls=[call_view(session, c, detail=False) for c in found])


@bp.get("/calls/<int:call_id>")
@require()
def call_detail(call_id: int) -> Response:
    rt = current()
    with rt.db.transaction() as session:
        call = session.get(Call, call_id)
        if call is None:
            abort(404, description=f"no call {call_id}")
        may_see_call(session, call)
        return jsonify(call_view(session, call, detail=True))


def _my_active(session: Session, call_id: int):
    reservation = reservations.active_for_call(session, call_id=call_id)
    if reservation is None:
        abort(409, description=f"call {call_id} is not with an agent now")
    if not supervising() and reservation.agent_id != user().agent_id:
        abort(403, description="only the agent on the call (or a supervisor) may do this")
    return reservation


@bp.post("/calls/<int:call_id>/notes")
@require()
def add_note(call_id: int) -> Response:
    text = text_field(body(), "text")
    rt = current()
    with rt.db.transaction() as session:
        call = session.get(Call, call_id)
        if call is None:
            abort(404, description=f"no call {call_id}")
        may_see_call(session, call)
        note = CallNote(call_id=call.id, agent_id=user().agent_id, at=rt.clock.now(), text=text)
        session.add(note)
        session.flush()
        events.record(
            session,
            "call.note",
            at=note.at,
            call_id=call.id,
            agent_id=user().agent_id,
            note_id=note.id,
        )
        return jsonify(id=note.id, at=note.at.isoformat(), text=note.text), 201


@bp.post("/calls/<int:call_id>/transfer")
@require()
def transfer_call(call_id: int) -> Response:
    """Send the caller to a skill, or to a named agent who is free, with a note."""
    data = body()
    note = text_field(data, "note")
    skill = text_field(data, "skill", required=False)
    agent_name = text_field(data, "agent", required=False)
    if bool(skill) == bool(agent_name):
        abort(400, description="give either 'skill' or 'agent'")
    rt = current()
    now = rt.clock.now()
    with rt.db.transaction() as session:
        reservation = _my_active(session, call_id)
        call_sid = session.get(Call, call_id).sid
        try:
            if skill:
                transfer.to_skill(
                    session,
                    reservation=reservation,
                    skill=skill,
                    note=note,
                    now=now,
                    wrap_up_seconds=rt.policy.wrap_up_seconds,
                )
                url = f"{rt.settings.public_url}/voice/queue/rejoin"
                result = {"to_skill": skill}
            else:
                # Locked, as a state change locks it: the router cannot reserve the target
                # between the check that they are free and the transfer's reservation.
                target = session.scalar(
                    for_change(select(Agent).where(Agent.name == agent_name)))
                if target is None:
                    abort(404, description=f"no agent named {agent_name!r}")
                new = transfer.to_agent(
                    session,
                    reservation=reservation,
                    target=target,
                    note=note,
                    now=now,
                    wrap_up_seconds=rt.policy.wrap_up_seconds,
                )
                url = f"{rt.settings.public_url}/voice/connect/{new.id}"
                result = {"to_agent": target.name, "reservation_id": new.id}
        except transfer.TransferError as exc:
            abort(409, description=str(exc))
    try:
        rt.telephony.redirect(call_sid, url)
    except TelephonyError as exc:
        abort(502, description=f"the carrier refused the transfer: {exc}")
    rt.poke_router()
    return jsonify(result)


@bp.get("/openapi.json")
def openapi() -> Response:
    from ivr.api.openapi import document

    return jsonify(document())
