"""The API for call scoring: the scorecards, a call's scores and scoring it (supervisors and
admins), the scores of an agent or of everyone, and the report per agent and per period.
Agents see only their own scores."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy.orm import Session

from ivr.api.auth import require, supervising, user
from ivr.api.views import body, may_see_call
from ivr.calls.models import Call
from ivr.routing.models import Agent
from ivr.runtime import current
from ivr.scoring import service
from ivr.scoring.models import CallScore
from ivr.scoring.scorecards import Scorecard, Scorecards
from ivr.users.models import User

bp = Blueprint("api_scoring", __name__, url_prefix="/api")
SUPERVISORS = ("supervisor", "admin")
MAX_LIMIT = 500


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def scorecard_view(card: Scorecard) -> dict[str, Any]:
    return {
        "name": card.name,
        "description": card.description,
        "max_total": card.max_total,
        "criteria": [
            {
                "key": c.key,
                "label": c.label,
                "description": c.description,
                "min": c.min,
                "max": c.max,
                "anchors": [{"score": s, "meaning": m} for s, m in sorted(c.anchors.items())],
            }
            for c in card.criteria
        ],
    }


def score_view(session: Session, score: CallScore, scorecards: Scorecards) -> dict[str, Any]:
    card = scorecards.get(score.scorecard)
    agent = session.get(Agent, score.agent_id) if score.agent_id is not None else None
    call = session.get(Call, score.call_id)
    items = []
    for item in score.items:
        criterion = card.criterion(item["key"]) if card else None
        items.append({
            "key": item["key"],
            "label": criterion.label if criterion else item["key"],
            "score": item["score"],
            "min": criterion.min if criterion else None,
            "max": criterion.max if criterion else None,
            "comment": item.get("comment"),
        })
    return {
        "id": score.id,
        "call_id": score.call_id,
        "call_started_at": call.started_at.isoformat(),
        "agent_id": score.agent_id,
        "agent": agent.name if agent else None,
        "scorecard": score.scorecard,
        "items": items,
        "total": _number(score.total),
        "max_total": _number(score.max_total),
        "percent": service.percent(score),
        "comment": score.comment,
        "scored_by": session.get(User, score.scored_by).username,
        "scored_at": score.scored_at.isoformat(),
    }


def _call_or_404(session: Session, call_id: int) -> Call:
    call = session.get(Call, call_id)
    if call is None:
        abort(404, description=f"no call {call_id}")
    return call


def _date_arg(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be a date, YYYY-MM-DD, not {raw!r}")


def _int_arg(name: str, what: str) -> int | None:
    raw = request.args.get(name)
    if not raw:
        return None
    if not raw.isdigit():
        abort(400, description=f"{name} must be {what} (a whole number), not {raw!r}")
    return int(raw)


def _agent_filter(session: Session) -> int | None:
    """The agent whose scores are asked for: anyone's (or everyone's) for supervisors and
    admins; an agent gets their own, and 403 for anyone else's."""
    agent_id = _int_arg("agent", "an agent's id")
    if supervising():
        if agent_id is not None and session.get(Agent, agent_id) is None:
            abort(404, description=f"no agent {agent_id}")
        return agent_id
    own = user().agent_id
    if own is None:
        abort(403, description="this user is not an agent, so it has no scores")
    if agent_id is not None and agent_id != own:
        abort(403, description="agents see only their own scores")
    return own


def _scorecard(scorecards: Scorecards, name: Any, field: str) -> Scorecard:
    if name is None or name == "":
        return scorecards.get(scorecards.default)
    card = scorecards.get(name) if isinstance(name, str) else None
    if card is None:
        abort(400, description=f"{field}: {name!r} is not a scorecard; use "
                               f"{', '.join(scorecards.names)}")
    return card


@bp.get("/scorecards")
@require()
def scorecards() -> Response:
    cards = current().scorecards
    return jsonify(default=cards.default, scorecards=[scorecard_view(c) for c in cards.cards])


@bp.get("/calls/<int:call_id>/score")
@require()
def call_scores(call_id: int) -> Response:
    """The call's scores, the latest first (agents: of a call they took, their own)."""
    rt = current()
    with rt.db.transaction() as session:
        call = _call_or_404(session, call_id)
        may_see_call(session, call)
        agent_id = service.answering_agent(session, call_id=call.id)
        agent = session.get(Agent, agent_id) if agent_id is not None else None
        found = service.list_scores(session, tz=rt.calendar.tz, call_id=call.id, limit=None)
        if not supervising():
            found = [s for s in found if s.agent_id == user().agent_id]
        return jsonify(
            call_id=call.id,
            agent_id=agent_id,
            agent=agent.name if agent else None,
            scores=[score_view(session, s, rt.scorecards) for s in found],
        )


@bp.post("/calls/<int:call_id>/score")
@require(*SUPERVISORS)
def score_call(call_id: int) -> Response:
    data = body()
    rt = current()
    with rt.db.transaction() as session:
        call = _call_or_404(session, call_id)
        card = _scorecard(rt.scorecards, data.get("scorecard"), "scorecard")
        try:
            score = service.score_call(
                session,
                call=call,
                scorecard=card,
                scores=data.get("scores"),
                comments=data.get("comments"),
                comment=data.get("comment"),
                scored_by=session.get(User, user().id),
                now=rt.clock.now(),
            )
        except service.ScoringError as exc:
            abort(400, description=str(exc))
        except service.NotScorable as exc:
            abort(409, description=str(exc))
        return jsonify(score_view(session, score, rt.scorecards)), 201


@bp.get("/scores")
@require()
def scores() -> Response:
    """Scores, the latest first, by the days of the calls (business timezone)."""
    rt = current()
    limit = _int_arg("limit", "how many scores")
    limit = 100 if limit is None else limit
    if not 1 <= limit <= MAX_LIMIT:
        abort(400, description=f"limit must be from 1 to {MAX_LIMIT}")
    with rt.db.transaction() as session:
        agent_id = _agent_filter(session)
        try:
            found = service.list_scores(
                session, tz=rt.calendar.tz, agent_id=agent_id,
                call_id=_int_arg("call", "a call's id"),
                start=_date_arg("from"), end=_date_arg("to"), limit=limit,
            )
        except service.ScoringError as exc:
            abort(400, description=str(exc))
        return jsonify(scores=[score_view(session, s, rt.scorecards) for s in found])


@bp.get("/reports/scores")
@require()
def scores_report() -> Response:
    """Per agent and per period; `from` defaults to the first of this month, `to` to today."""
    rt = current()
    today = rt.clock.now().astimezone(rt.calendar.tz).date()
    end = _date_arg("to") or today
    start = _date_arg("from") or end.replace(day=1)
    card = _scorecard(rt.scorecards, request.args.get("scorecard"), "scorecard")
    with rt.db.transaction() as session:
        agent_id = _agent_filter(session)
        try:
            figures = service.report(
                session, scorecard=card, start=start, end=end, tz=rt.calendar.tz,
                period=request.args.get("period") or "week", agent_id=agent_id,
            )
        except service.ScoringError as exc:
            abort(400, description=str(exc))
        return jsonify(figures)
