"""What the API and `ivr report kpis` both call: the request's parameters (as text, named
as in the API: from, to, period, skill, agent, date, targets) checked and turned into the KPI
report or the charts. A bad parameter raises KpiError naming it; the API answers 400, the
command names its option."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.reports.charts import day_charts
from ivr.reports.kpis import PERIODS, KpiError, kpi_report
from ivr.reports.policy import ReportPolicy
from ivr.routing.models import Agent, Skill

MAX_DAYS = 366


def parse_day(raw: str | None, parameter: str, default: date) -> date:
    if raw is None or raw == "":
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise KpiError(parameter, f"{parameter} must be a date, YYYY-MM-DD, not {raw!r}") from None


def _flag(raw: str | None, parameter: str) -> bool:
    if raw is None or raw == "":
        return True
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise KpiError(parameter, f"{parameter} must be true or false, not {raw!r}")


def agent_id_of(session: Session, raw: str | None) -> int | None:
    """An agent named by id or by name."""
    if raw is None or raw == "":
        return None
    text = raw.strip()
    query = select(Agent.id).where(Agent.id == int(text)) if text.isdigit() \
        else select(Agent.id).where(Agent.name == text)
    found = session.scalar(query)
    if found is None:
        raise KpiError("agent", f"agent: no agent {text!r} (give an id or a name)")
    return found


def skill_of(session: Session, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    name = raw.strip()
    if session.scalar(select(Skill.id).where(Skill.name == name)) is None:
        raise KpiError("skill", f"skill: no skill {name!r}")
    return name


def kpis(session: Session, *, args: Mapping[str, str | None], tz: ZoneInfo,
         policy: ReportPolicy, now: datetime) -> dict[str, Any]:
    """The KPI report for `from`..`to` (default today, in the business timezone)."""
    today = now.astimezone(tz).date()
    first = parse_day(args.get("from"), "from", today)
    last = parse_day(args.get("to"), "to", first)
    if last < first:
        raise KpiError("to", f"to ({last}) is before from ({first})")
    if (last - first).days >= MAX_DAYS:
        raise KpiError("to", f"to: a report covers at most {MAX_DAYS} days")
    period = args.get("period") or "day"
    if period not in PERIODS:
        raise KpiError("period", f"period must be one of {', '.join(PERIODS)}, not {period!r}")
    return kpi_report(
        session, tz=tz, policy=policy, first=first, last=last, period=period,
        skill=skill_of(session, args.get("skill")),
        agent_id=agent_id_of(session, args.get("agent")), now=now,
        with_targets=_flag(args.get("targets"), "targets"),
    )


def charts(session: Session, *, args: Mapping[str, str | None], tz: ZoneInfo,
           policy: ReportPolicy, now: datetime) -> dict[str, Any]:
    """The charts of `date` (default today), or of the days `from`..`to`."""
    today = now.astimezone(tz).date()
    first = parse_day(args.get("date") or args.get("from"),
                      "date" if args.get("date") else "from", today)
    last = parse_day(args.get("to"), "to", first) if not args.get("date") else first
    return day_charts(session, tz=tz, policy=policy, first=first, last=last, now=now,
                      skill=skill_of(session, args.get("skill")),
                      agent_id=agent_id_of(session, args.get("agent")))
