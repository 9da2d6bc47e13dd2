"""Scoring calls: a supervisor fills in a scorecard for one call, and the scores are listed and
reported per agent and per period. Dates are the days of the calls, in the business timezone.
No Flask here: functions take a session and `now`; the caller commits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import Call, CallEvent
from ivr.routing.models import Agent, Reservation
from ivr.scoring.models import CallScore
from ivr.scoring.scorecards import Scorecard
from ivr.users.models import User

PERIODS = ("day", "week", "month")


class ScoringError(ValueError):
    """Input the person scoring can correct; `field` names what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class NotScorable(ValueError):
    """The call had no conversation with an agent, so there is nothing to score."""


def answering_agent(session: Session, *, call_id: int) -> int | None:
    """The agent who answered the call: the first reservation that connected, or else the
    first `call.answered` event that names an agent (calls connected outside the router)."""
    agent_id = session.scalar(
        select(Reservation.agent_id)
        .where(Reservation.call_id == call_id,
               Reservation.status.in_(("connected", "completed")))
        .order_by(Reservation.id)
        .limit(1)
    )
    if agent_id is not None:
        return agent_id
    return session.scalar(
        select(CallEvent.agent_id)
        .where(CallEvent.call_id == call_id, CallEvent.kind == "call.answered",
               CallEvent.agent_id.is_not(None))
        .order_by(CallEvent.id)
        .limit(1)
    )


def _optional_text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ScoringError(field, "must be a string")
    return value.strip() or None


def _items(scorecard: Scorecard, scores: Any, comments: Any) -> list[dict[str, Any]]:
    """The filled-in criteria in the scorecard's order; every criterion scored in its range."""
    keys = [c.key for c in scorecard.criteria]
    if not isinstance(scores, Mapping):
        raise ScoringError("scores", f"must be an object giving a score for each of "
                           f"{', '.join(keys)}")
    if comments is None:
        comments = {}
    if not isinstance(comments, Mapping):
        raise ScoringError("comments", "must be an object of criterion key to comment")
    for name, given in (("scores", scores), ("comments", comments)):
        unknown = [key for key in given if key not in keys]
        if unknown:
            raise ScoringError(f"{name}.{unknown[0]}", f"is not a criterion of "
                               f"{scorecard.name!r}; use {', '.join(keys)}")
    items = []
    for criterion in scorecard.criteria:
        field = f"scores.{criterion.key}"
        if criterion.key not in scores:
            raise ScoringError(field, "is missing: every criterion of the scorecard is scored")
        value = scores[criterion.key]
        if (isinstance(value, bool) or not isinstance(value, int)
                or not criterion.min <= value <= criterion.max):
            raise ScoringError(field, f"must be a whole number from {criterion.min} to "
                               f"{criterion.max}, not {value!r}")
        items.append({
            "key": criterion.key,
            "score": value,
            "comment": _optional_text(comments.get(criterion.key), f"comments.{criterion.key}"),
        })
    return items


def score_call(
    session: Session,
    *,
    call: Call,
    scorecard: Scorecard,
    scores: Any,
    comments: Any = None,
    comment: Any = None,
    scored_by: User,
    now: datetime,
) -> CallScore:
    """Record `scored_by`'s scores of the conversation on `call` with its answering agent, and
    the call event `call.scored`. Raises ScoringError (bad input) or NotScorable."""
    items = _items(scorecard, scores, comments)
    overall = _optional_text(comment, "comment")
    agent_id = answering_agent(session, call_id=call.id)
    if agent_id is None:
        raise NotScorable(f"call {call.id} was not answered by an agent: there is no "
                          "conversation to score")
    score = CallScore(
        call_id=call.id,
        agent_id=agent_id,
        scorecard=scorecard.name,
        items=items,
        total=float(sum(item["score"] for item in items)),
        max_total=float(scorecard.max_total),
        comment=overall,
        scored_by=scored_by.id,
        scored_at=now,
    )
    session.add(score)
    session.flush()
    events.record(
        session,
        "call.scored",
        at=now,
        call_id=call.id,
        agent_id=agent_id,
        score_id=score.id,
        scorecard=scorecard.name,
        total=score.total,
        max_total=score.max_total,
        by=scored_by.username,
    )
    return score


def percent(score: CallScore) -> float:
    return round(100 * score.total / score.max_total, 1) if score.max_total else 0.0


def day_bounds(start: date | None, end: date | None, tz: ZoneInfo
               ) -> tuple[datetime | None, datetime | None]:
    """The first instant of `start` and the first instant after `end`, local time."""
    if start is not None and end is not None and start > end:
        raise ScoringError("from", f"{start} is after to ({end})")
    first = datetime.combine(start, time(0), tz) if start is not None else None
    after = datetime.combine(end + timedelta(days=1), time(0), tz) if end is not None else None
    return first, after


def _filtered(query: Select, *, tz: ZoneInfo, agent_id: int | None, call_id: int | None,
              start: date | None, end: date | None, scorecard: str | None) -> Select:
    first, after = day_bounds(start, end, tz)
    if agent_id is not None:
        query = query.where(CallScore.agent_id == agent_id)
    if call_id is not None:
        query = query.where(CallScore.call_id == call_id)
    if scorecard is not None:
        query = query.where(CallScore.scorecard == scorecard)
    if first is not None:
        query = query.where(Call.started_at >= first)
    if after is not None:
        query = query.where(Call.started_at < after)
    return query


def list_scores(
    session: Session,
    *,
    tz: ZoneInfo,
    agent_id: int | None = None,
    call_id: int | None = None,
    start: date | None = None,
    end: date | None = None,
    scorecard: str | None = None,
    limit: int | None = 200,
) -> list[CallScore]:
    """Scores, the latest first; `start` and `end` are days of the calls, both included."""
    query = select(CallScore).join(Call, Call.id == CallScore.call_id)
    query = _filtered(query, tz=tz, agent_id=agent_id, call_id=call_id, start=start, end=end,
                      scorecard=scorecard)
    query = query.order_by(CallScore.scored_at.desc(), CallScore.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def period_of(day: date, period: str) -> tuple[str, date]:
    """The period `day` falls in: its label and its first day (weeks start on Monday)."""
    if period == "day":
        return day.isoformat(), day
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}", day - timedelta(days=day.weekday())
    if period == "month":
        return f"{day:%Y-%m}", day.replace(day=1)
    raise ScoringError("period", f"must be one of {', '.join(PERIODS)}, not {period!r}")


@dataclass
class _Tally:
    calls: set[int]
    percents: list[float]
    criteria: dict[str, list[int]]

    @classmethod
    def empty(cls) -> _Tally:
        return cls(set(), [], defaultdict(list))

    def add(self, score: CallScore) -> None:
        self.calls.add(score.call_id)
        self.percents.append(100 * score.total / score.max_total if score.max_total else 0.0)
        for item in score.items:
            self.criteria[item["key"]].append(item["score"])

    def figures(self, keys: list[str]) -> dict[str, Any]:
        return {
            "scored_calls": len(self.calls),
            "scores": len(self.percents),
            "mean_percent": round(sum(self.percents) / len(self.percents), 1),
            "criteria": {
                key: round(sum(values) / len(values), 2) if (values := self.criteria.get(key))
                else None
                for key in keys
            },
        }


def report(
    session: Session,
    *,
    scorecard: Scorecard,
    start: date,
    end: date,
    tz: ZoneInfo,
    period: str = "week",
    agent_id: int | None = None,
) -> dict[str, Any]:
    """Per agent and per period (day, week or month) of the calls' days: the number of scored
    calls and of scores, the mean percentage and the mean of each criterion; and the same per
    agent over the whole span. Only scores on `scorecard` count."""
    period_of(start, period)  # refuses an unknown period before any query
    query = (select(CallScore, Call.started_at, Agent.name)
             .join(Call, Call.id == CallScore.call_id)
             .join(Agent, Agent.id == CallScore.agent_id))
    query = _filtered(query, tz=tz, agent_id=agent_id, call_id=None, start=start, end=end,
                      scorecard=scorecard.name)
    keys = [c.key for c in scorecard.criteria]
    by_period: dict[tuple[date, str, str, int], _Tally] = defaultdict(_Tally.empty)
    by_agent: dict[tuple[str, int], _Tally] = defaultdict(_Tally.empty)
    for score, started_at, agent_name in session.execute(query.order_by(CallScore.id)):
        label, first_day = period_of(started_at.astimezone(tz).date(), period)
        by_period[(first_day, label, agent_name, score.agent_id)].add(score)
        by_agent[(agent_name, score.agent_id)].add(score)
    return {
        "scorecard": scorecard.name,
        "criteria": [{"key": c.key, "label": c.label, "min": c.min, "max": c.max}
                     for c in scorecard.criteria],
        "period": period,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "timezone": str(tz),
        "rows": [
            {"period": label, "starts": first_day.isoformat(), "agent_id": agent,
             "agent": name, **tally.figures(keys)}
            for (first_day, label, name, agent), tally in sorted(by_period.items())
        ],
        "agents": [
            {"agent_id": agent, "agent": name, **tally.figures(keys)}
            for (name, agent), tally in sorted(by_agent.items())
        ],
    }
