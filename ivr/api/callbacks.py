"""The API for callbacks and follow-ups: the lists supervisors watch (follow-ups at risk
first), closing a follow-up by hand, the do-not-call list, and the day's figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy import select

from callback import followups, reports
from callback.models import Callback, DoNotCall, FollowUp
from callback.service import customer_number
from ivr import events
from ivr.api.auth import require, user
from ivr.api.views import body, text_field
from ivr.runtime import current

bp = Blueprint("api_callbacks", __name__, url_prefix="/api")
SUPERVISORS = ("supervisor", "admin")


def follow_up_view(follow_up: FollowUp, now: datetime) -> dict[str, Any]:
    return {
        "id": follow_up.id,
        "number": follow_up.number,
        "status": follow_up.status,
        "created_at": follow_up.created_at.isoformat(),
        "due_at": follow_up.due_at.isoformat(),
        "seconds_left": round((follow_up.due_at - now).total_seconds()),
        "escalate_at": follow_up.escalate_at.isoformat(),
        "escalated": follow_up.escalated_at is not None,
        "breached": follow_up.breached_at is not None,
        "missed_count": follow_up.missed_count,
        "closed_at": follow_up.closed_at.isoformat() if follow_up.closed_at else None,
        "closed_by": follow_up.closed_by,
    }


def callback_view(callback: Callback) -> dict[str, Any]:
    return {
        "id": callback.id,
        "kind": callback.kind,
        "status": callback.status,
        "number": callback.number,
        "call_id": callback.call_id,
        "follow_up_id": callback.follow_up_id,
        "due_at": callback.due_at.isoformat() if callback.due_at else None,
        "attempts": [
            {"at": a.started_at.isoformat(), "result": a.result, "agent_id": a.agent_id}
            for a in callback.attempt_log
        ],
        "max_attempts": callback.max_attempts,
        "reason": callback.reason,
    }


@bp.get("/followups")
@require(*SUPERVISORS)
def list_follow_ups() -> Response:
    status = request.args.get("status", "open")
    if status not in ("open", "done", "all"):
        abort(400, description="status must be open, done or all")
    rt = current()
    query = select(FollowUp).order_by(FollowUp.due_at)
    if status != "all":
        query = query.where(FollowUp.status == status)
    with rt.db.transaction() as session:
        now = rt.clock.now()
        return jsonify(follow_ups=[follow_up_view(f, now)
                                   for f in session.scalars(query.limit(1000))])


@bp.get("/followups/at-risk")
@require(*SUPERVISORS)
def at_risk() -> Response:
    """Open follow-ups that are escalated or past their deadline, most urgent first."""
    rt = current()
    with rt.db.transaction() as session:
        now = rt.clock.now()
        return jsonify(follow_ups=[follow_up_view(f, now)
                                   for f in followups.at_risk(session, now=now)])


@bp.post("/followups/<int:follow_up_id>/done")
@require(*SUPERVISORS)
def close_follow_up(follow_up_id: int) -> Response:
    note = text_field(body(), "note")
    rt = current()
    with rt.db.transaction() as session:
        follow_up = session.get(FollowUp, follow_up_id)
        if follow_up is None:
            abort(404, description=f"no follow-up {follow_up_id}")
        if follow_up.status != "open":
            abort(409, description=f"follow-up {follow_up_id} is already done")
        now = rt.clock.now()
        followups.close(session, follow_up=follow_up, now=now, by=f"{user().username}: {note}")
        return jsonify(follow_up_view(follow_up, now))


@bp.get("/callbacks")
@require(*SUPERVISORS)
def list_callbacks() -> Response:
    status = request.args.get("status")
    query = select(Callback).order_by(Callback.id.desc())
    if status:
        query = query.where(Callback.status == status)
    with current().db.transaction() as session:
        return jsonify(callbacks=[callback_view(c) for c in session.scalars(query.limit(1000))])


@bp.get("/reports/followups")
@require(*SUPERVISORS)
def follow_up_report() -> Response:
    rt = current()
    raw = request.args.get("date")
    try:
        day = date.fromisoformat(raw) if raw else rt.clock.now().astimezone(rt.calendar.tz).date()
    except ValueError:
        abort(400, description=f"date must be YYYY-MM-DD, not {raw!r}")
    with rt.db.transaction() as session:
        return jsonify(reports.followups_report(session, day=day, tz=rt.calendar.tz))


@bp.get("/do-not-call")
@require(*SUPERVISORS)
def list_do_not_call() -> Response:
    with current().db.transaction() as session:
        rows = session.scalars(select(DoNotCall).order_by(DoNotCall.number))
        return jsonify(numbers=[{"number": r.number, "added_at": r.added_at.isoformat(),
                                 "reason": r.reason} for r in rows])


@bp.post("/do-not-call")
@require(*SUPERVISORS)
def add_do_not_call() -> Response:
    data = body()
    number = customer_number(text_field(data, "number"))
    if number is None:
        abort(400, description="number is not a valid phone number")
    reason = text_field(data, "reason", required=False)
    rt = current()
    with rt.db.transaction() as session:
        if session.get(DoNotCall, number) is None:
            session.add(DoNotCall(number=number, added_at=rt.clock.now(), reason=reason))
            events.record(session, "dnc.added", at=rt.clock.now(), number=number,
                          by=user().username)
    return jsonify(number=number), 201


@bp.delete("/do-not-call/<number>")
@require(*SUPERVISORS)
def remove_do_not_call(number: str) -> Response:
    rt = current()
    with rt.db.transaction() as session:
        row = session.get(DoNotCall, customer_number(number) or number)
        if row is None:
            abort(404, description=f"{number} is not on the do-not-call list")
        session.delete(row)
        events.record(session, "dnc.removed", at=rt.clock.now(), number=row.number,
                      by=user().username)
    return Response(status=204)
