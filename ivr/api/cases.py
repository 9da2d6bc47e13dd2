"""The API for cases and incidents: agents and supervisors see and edit cases (status,
priority from impact and urgency with a reason, owner, notes, closing with an outcome), move
a call to another case at wrap-up, see escalations; supervisors declare and clear incidents;
the monthly case report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import casework
from ivr.api.auth import require, supervising, user
from ivr.api.views import body, text_field
from ivr.calls.models import Call
from ivr.cases import incidents, reports
from ivr.cases import service as cases
from ivr.cases.models import OPEN_STATES, Case, CaseCall, CaseClock, CaseNote, Incident
from ivr.routing.models import Agent
from ivr.runtime import current

bp = Blueprint("api_cases", __name__, url_prefix="/api")
SUPERVISORS = ("supervisor", "admin")


def clock_view(clock: CaseClock, now: datetime) -> dict[str, Any]:
    return {
        "kind": clock.kind, "state": clock.state, "started_at": clock.started_at.isoformat(),
        "target_at": clock.target_at.isoformat(), "warned": clock.warned_at is not None,
        "breached": clock.breached_at is not None,
        "seconds_left": round((clock.target_at - now).total_seconds())
        if clock.state == "running" else None,
    }


def case_view(session: Session, case: Case, now: datetime, *, detail: bool = False
              ) -> dict[str, Any]:
    view = {
        "number": case.number, "status": case.status, "caller": case.caller_number,
        "subject": case.subject, "category": case.category, "priority": case.priority,
        "impact": case.impact, "urgency": case.urgency,
        "owner": casework.owner_name(session, case), "owner_skill": case.owner_skill,
        "created_at": case.created_at.isoformat(),
        "first_response_at": case.first_response_at.isoformat()
        if case.first_response_at else None,
        "resolved_at": case.resolved_at.isoformat() if case.resolved_at else None,
        "outcome": case.outcome, "first_contact_resolution": case.first_contact_resolution,
        "incident_id": case.incident_id,
        "clocks": [clock_view(c, now) for c in case.clocks],
    }
    if detail:
        view["calls"] = [
            {"call_id": call.id, "started_at": call.started_at.isoformat(),
             "outcome": call.outcome}
            for call in session.scalars(select(Call).join(CaseCall, CaseCall.call_id == Call.id)
                                        .where(CaseCall.case_id == case.id)
                                        .order_by(Call.started_at))
        ]
        view["notes"] = [
            {"at": n.at.isoformat(), "author": n.author, "text": n.text}
            for n in session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)
                                     .order_by(CaseNote.id))
        ]
        view["timeline"] = cases.timeline(session, case)
    return view


def case_or_404(session: Session, number: str) -> Case:
    case = cases.by_number(session, number)
    if case is None:
        abort(404, description=f"no case {number}")
    return case


def _errors(work):
    try:
        return work()
    except (cases.CaseError, incidents.IncidentError, ValueError) as exc:
        abort(409 if isinstance(exc, cases.CaseError | incidents.IncidentError) else 400,
              description=str(exc))


@bp.get("/cases")
@require()
def list_cases() -> Response:
    rt = current()
    status = request.args.get("status", "open")
    query = select(Case).where(Case.caller_number != incidents.INCIDENT_CALLER)
    if status == "open":
        query = query.where(Case.status.in_(OPEN_STATES))
    elif status != "all":
        query = query.where(Case.status == status)
    if caller := request.args.get("caller"):
        query = query.where(Case.caller_number == caller)
    if not supervising():
        query = query.where(Case.owner_agent_id == user().agent_id)
    with rt.db.transaction() as session:
        now = rt.clock.now()
        found = session.scalars(query.order_by(Case.created_at.desc()).limit(500))
        return jsonify(cases=[case_view(session, c, now) for c in found])


@bp.get("/cases/policy")
@require()
def policy() -> Response:
    p = current().cases
    return jsonify(impacts=list(p.impacts), urgencies=list(p.urgencies), matrix=p.matrix,
                   outcomes=list(p.outcomes))


@bp.get("/cases/escalations")
@require()
def escalations() -> Response:
    """Open cases whose clocks are near or past their threshold: the agent's own (owner), or
    every one for supervisors."""
    rt = current()
    query = (select(Case).join(CaseClock).where(
        Case.status.in_(OPEN_STATES), CaseClock.state == "running",
        CaseClock.warned_at.is_not(None)).distinct())
    if not supervising():
        query = query.where(Case.owner_agent_id == user().agent_id)
    with rt.db.transaction() as session:
        now = rt.clock.now()
        return jsonify(cases=[case_view(session, c, now) for c in session.scalars(query)])


@bp.get("/cases/<number>")
@require()
def case_detail(number: str) -> Response:
    rt = current()
    with rt.db.transaction() as session:
        return jsonify(case_view(session, case_or_404(session, number), rt.clock.now(),
                                 detail=True))


@bp.patch("/cases/<number>")
@require()
def update_case(number: str) -> Response:
    data = body()
    rt = current()
    by = user().username
    with rt.db.transaction() as session:
        case = case_or_404(session, number)
        now = rt.clock.now()
        if "category" in data:
            case.category = text_field(data, "category")
        if "owner_agent" in data:
            name = text_field(data, "owner_agent")
            agent = session.scalar(select(Agent).where(Agent.name == name))
            if agent is None:
                abort(404, description=f"no agent named {name!r}")
            case.owner_agent_id = agent.id
        if "owner_skill" in data:
            case.owner_skill = text_field(data, "owner_skill")
        if "status" in data:
            status = text_field(data, "status")
            _errors(lambda: cases.set_status(session, case=case, status=status, now=now, by=by,
                                             calendar=rt.calendar, policy=rt.cases))
            if status == "resolved":
                casework.text_case(session, rt, case, template="resolved", owner_name=None)
        return jsonify(case_view(session, case, now))


@bp.post("/cases/<number>/priority")
@require()
def change_priority(number: str) -> Response:
    data = body()
    impact, urgency = text_field(data, "impact"), text_field(data, "urgency")
    reason = text_field(data, "reason")
    rt = current()
    with rt.db.transaction() as session:
        case = case_or_404(session, number)
        _errors(lambda: cases.change_priority(
            session, case=case, impact=impact, urgency=urgency, reason=reason,
            by=user().username, now=rt.clock.now(), calendar=rt.calendar, policy=rt.cases))
        return jsonify(case_view(session, case, rt.clock.now()))


@bp.post("/cases/<number>/notes")
@require()
def add_note(number: str) -> Response:
    text = text_field(body(), "text")
    rt = current()
    with rt.db.transaction() as session:
        case = case_or_404(session, number)
        note = cases.add_note(session, case=case, text=text, author=user().username,
                              now=rt.clock.now())
        return jsonify(at=note.at.isoformat(), author=note.author, text=note.text), 201


@bp.post("/cases/<number>/close")
@require()
def close_case(number: str) -> Response:
    data = body()
    outcome = text_field(data, "outcome")
    first_contact = data.get("first_contact")
    if not isinstance(first_contact, bool):
        abort(400, description="first_contact must be true or false")
    rt = current()
    with rt.db.transaction() as session:
        case = case_or_404(session, number)
        was_open = case.is_open
        _errors(lambda: cases.close(session, case=case, outcome=outcome,
                                    first_contact=first_contact, now=rt.clock.now(),
                                    by=user().username, policy=rt.cases))
        if was_open:
            casework.text_case(session, rt, case, template="resolved", owner_name=None)
        return jsonify(case_view(session, case, rt.clock.now()))


@bp.put("/calls/<int:call_id>/case")
@require()
def move_call(call_id: int) -> Response:
    """At wrap-up the agent decides: this call joins case `case`, or `"new"` opens one."""
    target = text_field(body(), "case")
    rt = current()
    with rt.db.transaction() as session:
        call = session.get(Call, call_id)
        if call is None:
            abort(404, description=f"no call {call_id}")
        to = None if target == "new" else case_or_404(session, target)
        if to is not None and not to.is_open:
            abort(409, description=f"case {target} is {to.status}; open a new one instead")
        case = cases.move_call(session, call=call, to=to, now=rt.clock.now(),
                               calendar=rt.calendar, policy=rt.cases, by=user().username)
        return jsonify(case_view(session, case, rt.clock.now()))


def incident_view(incident: Incident) -> dict[str, Any]:
    return {"id": incident.id, "subject": incident.subject, "message": incident.message,
            "declared_at": incident.declared_at.isoformat(),
            "declared_by": incident.declared_by,
            "cleared_at": incident.cleared_at.isoformat() if incident.cleared_at else None}


@bp.get("/incidents")
@require()
def list_incidents() -> Response:
    with current().db.transaction() as session:
        found = session.scalars(select(Incident).order_by(Incident.id.desc()).limit(200))
        return jsonify(incidents=[incident_view(i) for i in found])


@bp.post("/incidents")
@require(*SUPERVISORS)
def declare_incident() -> Response:
    data = body()
    subject, message = text_field(data, "subject"), text_field(data, "message")
    rt = current()
    with rt.db.transaction() as session:
        incident = _errors(lambda: incidents.declare(
            session, subject=subject, message=message, by=user().username,
            now=rt.clock.now(), calendar=rt.calendar, policy=rt.cases))
        return jsonify(incident_view(incident)), 201


@bp.post("/incidents/<int:incident_id>/clear")
@require(*SUPERVISORS)
def clear_incident(incident_id: int) -> Response:
    message = text_field(body(), "message", required=False) or ""
    rt = current()
    with rt.db.transaction() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            abort(404, description=f"no incident {incident_id}")
        texts = _errors(lambda: incidents.clear(
            session, incident=incident, message=message, by=user().username,
            now=rt.clock.now(), calendar=rt.calendar, callbacks=rt.callbacks))
        view = incident_view(incident)
    rt.poke_router()
    return jsonify({**view, "texts": len(texts)})


@bp.get("/reports/cases")
@require(*SUPERVISORS)
def case_report() -> Response:
    rt = current()
    month = request.args.get("month") or rt.clock.now().astimezone(rt.calendar.tz).strftime(
        "%Y-%m")
    with rt.db.transaction() as session:
        try:
            return jsonify(reports.cases_report(session, month=month, tz=rt.calendar.tz))
        except ValueError as exc:
            abort(400, description=str(exc))
