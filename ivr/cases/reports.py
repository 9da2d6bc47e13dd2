"""The monthly case report: cases opened, and cases closed by category and outcome, with the
share resolved at first contact and the share resolved within their service level."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.cases.models import Case
from ivr.cases.service import within_service_level


def month_bounds(month: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """'2026-11' -> the month's first and the next month's first instant, local time."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        raise ValueError(f"month must be YYYY-MM, not {month!r}") from None
    following = date(year + number // 12, number % 12 + 1, 1)
    return datetime.combine(first, time(0), tz), datetime.combine(following, time(0), tz)


def category_of(case: Case) -> str:
    return case.category or case.subject


def cases_report(session: Session, *, month: str, tz: ZoneInfo) -> dict[str, Any]:
    start, end = month_bounds(month, tz)
    opened = list(session.scalars(select(Case).where(
        Case.created_at >= start, Case.created_at < end, Case.caller_number != "incident")))
    closed = list(session.scalars(select(Case).where(
        Case.closed_at >= start, Case.closed_at < end, Case.caller_number != "incident")))
    by_category: dict[str, Counter[str]] = defaultdict(Counter)
    for case in closed:
        by_category[category_of(case)][case.outcome or "none"] += 1
    fcr = sum(1 for case in closed if case.first_contact_resolution)
    judged = [within_service_level(case) for case in closed]
    in_level = sum(1 for value in judged if value)
    with_level = sum(1 for value in judged if value is not None)
    return {
        "month": month,
        "opened": len(opened),
        "opened_by_category": dict(sorted(Counter(category_of(c) for c in opened).items())),
        "closed": len(closed),
        "closed_by_category_and_outcome": {
            category: dict(sorted(outcomes.items()))
            for category, outcomes in sorted(by_category.items())
        },
        "closed_by_outcome": dict(sorted(Counter(c.outcome or "none" for c in closed).items())),
        "first_contact_resolution_rate": round(fcr / len(closed), 4) if closed else None,
        "within_service_level_rate": round(in_level / with_level, 4) if with_level else None,
        "still_open": sum(1 for case in opened if case.is_open),
    }
