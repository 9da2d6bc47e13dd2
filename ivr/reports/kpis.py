"""The KPIs of a date range, from the call events (through `facts`): the same figures for the
console, the API and `ivr report kpis`. Days are business days in the calendar's timezone;
a call belongs to the day (week, month) it started in, with everything that happened to it.

What each KPI counts (T is the policy's `service_level_seconds`, S its
`short_abandon_seconds`, N its `repeat_days`):

- offered: inbound calls started in the period (their `call.started` event; a call the
  service adopted counts once a caller was on it, see facts.load_calls). Per skill, the
  calls whose caller first queued for that skill; per agent, the calls the agent answered.
- answered: offered calls an agent answered while the caller was on the line (the first
  `call.answered` before the call ended; an answer after it is a callback being made).
- abandoned: offered calls whose caller hung up in the queue (or while an agent's phone rang)
  before any answer, after waiting at least S seconds; short_abandoned: those under S,
  counted apart (they left before anyone could have answered).
- abandon_rate: abandoned / (answered + abandoned).
- answered_within_service_level: answered calls whose wait was at most T seconds;
  service_level: that / (answered + abandoned). Short abandons are in neither.
- average_speed_of_answer: the mean wait of answered calls, from entering the queue to the
  agent's answer (per agent: to their own answer).
- handled: conversations (one agent's part of one answered call: a transferred call has
  one per agent); average_handle_time: their mean talk + hold + wrap-up, with the parts
  apart: average_talk_time (answer to the end of that agent's part, hold excluded),
  average_hold_time (0 unless the events say otherwise: the offline carrier has no hold,
  and calls are bridged with <Dial>), average_wrap_up_time (the agent's wrap-up after it).
  Conversations still going on are left out.
- longest_wait: the longest wait of an answered or abandoned call (short abandons too).
- missed: offered calls that became a missed call (`missed.call`: abandoned, hung up in the
  IVR, after hours, voicemail, a callback not reached); missed_rate: missed / offered.
- follow_ups, followed_up_same_day, not_followed_up_same_day and
  not_followed_up_same_day_rate: the same-day rule's figures of callback.reports (the
  follow-ups created on each day and how many were done by their deadline). A follow-up
  belongs to a number, not to a skill or an agent: with a filter, and per skill and per
  agent, they are null.
- callbacks_offered, callbacks_accepted, callbacks_completed: offers made to the period's
  callers, callbacks they accepted, and callbacks on their calls completed (so far).
- transfers: transfers of the period's calls (per agent: the transfers they made).
- repeat_callers: answered calls whose number phoned again within N days after;
  first_contact_resolution: 1 - repeat_callers / answered (calls with a number to compare).
- calls_by_category: offered calls by the request category of their wrap-up (the latest; per
  agent, their own), every category of the policy listed.

Times are seconds on the service's clock. Shares are fractions (0.8 is 80%); a figure with
nothing to count (no answered call, say) is null."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.reports import day_bounds, followups_report
from ivr.calls.models import CallEvent
from ivr.reports import targets as target_rules
from ivr.reports.facts import CallFacts, later_calls, load_calls
from ivr.reports.policy import ReportPolicy
from ivr.routing.models import Agent

PERIODS = ("day", "week", "month")
HISTORY_MONTHS = 12


@dataclass(frozen=True)
class Kpi:
    name: str
    label: str
    unit: str  # calls, share, seconds


KPIS: tuple[Kpi, ...] = (
    Kpi("offered", "offered", "calls"),
    Kpi("answered", "answered", "calls"),
    Kpi("abandoned", "abandoned", "calls"),
    Kpi("short_abandoned", "short abandons", "calls"),
    Kpi("abandon_rate", "abandon rate", "share"),
    Kpi("answered_within_service_level", "answered within T", "calls"),
    Kpi("service_level", "service level", "share"),
    Kpi("average_speed_of_answer", "average speed of answer", "seconds"),
    Kpi("handled", "conversations", "calls"),
    Kpi("average_handle_time", "average handle time", "seconds"),
    Kpi("average_talk_time", "average talk time", "seconds"),
    Kpi("average_hold_time", "average hold time", "seconds"),
    Kpi("average_wrap_up_time", "average wrap-up time", "seconds"),
    Kpi("longest_wait", "longest wait", "seconds"),
    Kpi("missed", "missed calls", "calls"),
    Kpi("missed_rate", "share of calls missed", "share"),
    Kpi("follow_ups", "follow-ups created", "calls"),
    Kpi("followed_up_same_day", "followed up the same day", "calls"),
    Kpi("not_followed_up_same_day", "not followed up the same day", "calls"),
    Kpi("not_followed_up_same_day_rate", "share not followed up the same day", "share"),
    Kpi("callbacks_offered", "callbacks offered", "calls"),
    Kpi("callbacks_accepted", "callbacks accepted", "calls"),
    Kpi("callbacks_completed", "callbacks completed", "calls"),
    Kpi("transfers", "transfers", "calls"),
    Kpi("repeat_callers", "repeat callers", "calls"),
    Kpi("first_contact_resolution", "first-contact resolution", "share"),
)
UNITS = {k.name: k.unit for k in KPIS}


class KpiError(ValueError):
    """A report that cannot be made as asked; `parameter` names what to change (as in the
    API: from, to, period, ...), and so does the message."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class FollowUpCount:
    created: int = 0
    done_same_day: int = 0

    def __add__(self, other: FollowUpCount) -> FollowUpCount:
        return FollowUpCount(self.created + other.created,
                             self.done_same_day + other.done_same_day)


def definitions(policy: ReportPolicy) -> list[dict[str, Any]]:
    """The KPIs in the order screens and tables show them, with their unit and direction."""
    t = f"{policy.service_level_seconds:g} s"
    labels = {"answered_within_service_level": f"answered within {t}",
              "service_level": f"service level ({t})",
              "repeat_callers": f"repeat callers within {policy.repeat_days} days"}
    return [{"name": k.name, "label": labels.get(k.name, k.label), "unit": k.unit,
             "better": target_rules.DIRECTIONS.get(k.name)} for k in KPIS]


# -- the figures of a set of calls ------------------------------------------------------------

def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 3) if values else None


def figures(
    calls: list[CallFacts],
    *,
    policy: ReportPolicy,
    agent_id: int | None = None,
    repeats: set[int] | frozenset[int] = frozenset(),
    comparable: set[int] | frozenset[int] = frozenset(),
    follow_ups: FollowUpCount | None = None,
) -> dict[str, Any]:
    """Every KPI of these calls (already chosen for the skill or agent asked). With
    `agent_id`, conversations, waits, wrap-ups and transfers are that agent's. `repeats`:
    the ids of answered calls whose number phoned again within N days; `comparable`: those
    with a number to compare."""
    answers = [(c, c.conversations_of(agent_id)) for c in calls]
    answered = [(c, talks) for c, talks in answers if talks]
    waits = [talks[0].waited for _, talks in answered]
    gave_up = [c.abandoned_wait for c in calls if not c.answered and c.abandoned_wait is not None]
    short = sum(1 for w in gave_up if w < policy.short_abandon_seconds)
    abandoned = len(gave_up) - short
    within = sum(1 for w in waits if w <= policy.service_level_seconds)
    queued = len(answered) + abandoned
    done = [t for _, talks in answers for t in talks if t.handle is not None]
    missed = sum(1 for c in calls if c.missed)
    answered_ids = {c.call_id for c, _ in answered}
    repeat = len(repeats & answered_ids)
    compared = len(comparable & answered_ids)
    transfers = sum(1 for c in calls for by in c.transfers if agent_id is None or by == agent_id)
    categories = {name: 0 for name in policy.categories}
    for c in calls:
        category = c.category(agent_id)
        if category is not None:
            categories[category] = categories.get(category, 0) + 1
    values: dict[str, Any] = {
        "offered": len(calls),
        "answered": len(answered),
        "abandoned": abandoned,
        "short_abandoned": short,
        "abandon_rate": _ratio(abandoned, queued),
        "answered_within_service_level": within,
        "service_level": _ratio(within, queued),
        "average_speed_of_answer": _mean(waits),
        "handled": len(done),
        "average_handle_time": _mean([t.handle for t in done]),
        "average_talk_time": _mean([t.talk for t in done]),
        "average_hold_time": _mean([t.hold for t in done]),
        "average_wrap_up_time": _mean([t.wrap_up or 0.0 for t in done]),
        "longest_wait": round(max(waits + gave_up), 3) if waits or gave_up else None,
        "missed": missed,
        "missed_rate": _ratio(missed, len(calls)),
        **_follow_up_figures(follow_ups),
        "callbacks_offered": sum(c.callbacks_offered for c in calls),
        "callbacks_accepted": sum(c.callbacks_accepted for c in calls),
        "callbacks_completed": sum(c.callbacks_completed for c in calls),
        "transfers": transfers,
        "repeat_callers": repeat,
        "first_contact_resolution": _ratio(compared - repeat, compared),
        "calls_by_category": categories,
    }
    return values


def _follow_up_figures(count: FollowUpCount | None) -> dict[str, Any]:
    if count is None:
        return {"follow_ups": None, "followed_up_same_day": None,
                "not_followed_up_same_day": None, "not_followed_up_same_day_rate": None}
    late = count.created - count.done_same_day
    return {"follow_ups": count.created, "followed_up_same_day": count.done_same_day,
            "not_followed_up_same_day": late,
            "not_followed_up_same_day_rate": _ratio(late, count.created)}


# -- periods ----------------------------------------------------------------------------------

def period_of(day: date, period: str) -> tuple[str, date, date]:
    """The label and first and last day of the day's period (ISO weeks start on Monday)."""
    if period == "day":
        return day.isoformat(), day, day
    if period == "week":
        year, week, weekday = day.isocalendar()
        monday = day - timedelta(days=weekday - 1)
        return f"{year}-W{week:02d}", monday, monday + timedelta(days=6)
    if period == "month":
        first = day.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first.strftime("%Y-%m"), first, following - timedelta(days=1)
    raise KpiError("period", f"period must be one of {', '.join(PERIODS)}, not {period!r}")


def days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def month_start(day: date, months_back: int) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


# -- the report -------------------------------------------------------------------------------

@dataclass
class _Period:
    """What the figures of a range are computed from."""

    calls: list[CallFacts]
    repeats: set[int]
    comparable: set[int]
    follow_ups: dict[date, FollowUpCount] | None  # per day; None under a filter


def _load(session: Session, *, tz: ZoneInfo, policy: ReportPolicy, first: date, last: date,
          skill: str | None, agent_id: int | None, now: datetime | None,
          follow_up_days: Callable[[date, date], Iterable[date]] | None = None) -> _Period:
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    calls = [c for c in load_calls(session, start=start, end=end, now=now)
             if (skill is None or skill in c.skills)
             and (agent_id is None or c.conversations_of(agent_id))]
    repeats, comparable = _repeat_callers(session, calls, start=start, end=end,
                                          within=timedelta(days=policy.repeat_days))
    counts = None
    if skill is None and agent_id is None:
        counts = {}
        for day in (follow_up_days or days)(first, last):
            report = followups_report(session, day=day, tz=tz)["follow_ups"]
            counts[day] = FollowUpCount(report["created"], report["done_same_day"])
    return _Period(calls, repeats, comparable, counts)


def _repeat_callers(session: Session, calls: list[CallFacts], *, start: datetime,
                    end: datetime, within: timedelta) -> tuple[set[int], set[int]]:
    answered = [c for c in calls if c.answered and c.number.startswith("+")]
    if not answered:
        return set(), set()
    starts = later_calls(session, start=start, end=end + within)
    repeats = {c.call_id for c in answered
               if any(c.started_at < t <= c.started_at + within for t in starts[c.number])}
    return repeats, {c.call_id for c in answered}


def _figures_of(loaded: _Period, calls: list[CallFacts], *, policy: ReportPolicy,
                agent_id: int | None, span: tuple[date, date] | None,
                follow_ups: bool = True) -> dict[str, Any]:
    count = None
    if follow_ups and loaded.follow_ups is not None and span is not None:
        count = sum((n for d, n in loaded.follow_ups.items() if span[0] <= d <= span[1]),
                    FollowUpCount())
    return figures(calls, policy=policy, agent_id=agent_id, repeats=loaded.repeats,
                   comparable=loaded.comparable, follow_ups=count)


def _grouped(loaded: _Period, *, tz: ZoneInfo, policy: ReportPolicy, first: date, last: date,
             period: str, agent_id: int | None) -> list[dict[str, Any]]:
    by_label: dict[str, list[CallFacts]] = defaultdict(list)
    for c in loaded.calls:
        by_label[period_of(c.started_at.astimezone(tz).date(), period)[0]].append(c)
    rows: list[dict[str, Any]] = []
    for day in days(first, last):
        label, lo, hi = period_of(day, period)
        if rows and rows[-1]["period"] == label:
            continue
        lo, hi = max(lo, first), min(hi, last)
        rows.append({"period": label, "from": lo.isoformat(), "to": hi.isoformat(),
                     **_figures_of(loaded, by_label.get(label, []), policy=policy,
                                   agent_id=agent_id, span=(lo, hi))})
    return rows


def kpi_report(
    session: Session,
    *,
    tz: ZoneInfo,
    policy: ReportPolicy,
    first: date,
    last: date,
    period: str = "day",
    skill: str | None = None,
    agent_id: int | None = None,
    now: datetime | None = None,
    with_targets: bool = True,
) -> dict[str, Any]:
    """The KPIs from `first` to `last` (business days, both included): the totals, one row
    per day, week or month, one per skill and one per agent, each with the KPIs off their
    target. `skill` and `agent_id` narrow every figure to that skill's or agent's calls."""
    period_of(first, period)  # checks the period
    if last < first:
        raise KpiError("to", f"to ({last}) is before from ({first})")
    loaded = _load(session, tz=tz, policy=policy, first=first, last=last, skill=skill,
                   agent_id=agent_id, now=now)
    targets = (history_targets(session, tz=tz, policy=policy, before=first, skill=skill,
                               agent_id=agent_id) if with_targets else {})

    def flagged(row: dict[str, Any]) -> dict[str, Any]:
        row["off_target"] = target_rules.off_target(row, targets)
        return row

    totals = flagged(_figures_of(loaded, loaded.calls, policy=policy, agent_id=agent_id,
                                 span=(first, last)))
    rows = [flagged(r) for r in _grouped(loaded, tz=tz, policy=policy, first=first, last=last,
                                         period=period, agent_id=agent_id)]
    skills = sorted({s for c in loaded.calls for s in c.skills})
    if skill is not None:
        skills = [skill]
    per_skill = [flagged({"skill": name, **_figures_of(
        loaded, [c for c in loaded.calls if name in c.skills], policy=policy,
        agent_id=agent_id, span=None)}) for name in skills]
    names = _agent_names(session, {t.agent_id for c in loaded.calls for t in c.conversations})
    agent_ids = [agent_id] if agent_id is not None else sorted(names, key=lambda i: names[i])
    per_agent = [flagged({"agent": names.get(a), "agent_id": a, **_figures_of(
        loaded, [c for c in loaded.calls if c.conversations_of(a)], policy=policy,
        agent_id=a, span=None)}) for a in agent_ids if a in names]
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "period": period,
        "timezone": str(tz),
        "filters": {"skill": skill, "agent": _agent_names(session, {agent_id}).get(agent_id)
                    if agent_id is not None else None, "agent_id": agent_id},
        "rules": {"service_level_seconds": policy.service_level_seconds,
                  "short_abandon_seconds": policy.short_abandon_seconds,
                  "repeat_days": policy.repeat_days, "target_easing": policy.target_easing,
                  "categories": list(policy.categories)},
        "kpis": definitions(policy),
        "targets": {name: t.to_json() for name, t in targets.items()},
        "totals": totals,
        "periods": rows,
        "skills": per_skill,
        "agents": per_agent,
    }


def _agent_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    return dict(session.execute(select(Agent.id, Agent.name).where(Agent.id.in_(ids))).all())


def history_targets(session: Session, *, tz: ZoneInfo, policy: ReportPolicy, before: date,
                    skill: str | None, agent_id: int | None
                    ) -> dict[str, target_rules.Target]:
    """The targets for a period starting on `before`: the policy's fixed ones, the others
    from the best of the twelve months before its month (with the same filter)."""
    first = month_start(before, HISTORY_MONTHS)
    last = month_start(before, 0) - timedelta(days=1)
    loaded = _load(session, tz=tz, policy=policy, first=first, last=last, skill=skill,
                   agent_id=agent_id, now=None,
                   follow_up_days=lambda lo, hi: _follow_up_days(session, tz, lo, hi))
    months = _grouped(loaded, tz=tz, policy=policy, first=first, last=last, period="month",
                      agent_id=agent_id)
    history = [(m["period"], m) for m in months if m["offered"]]
    return target_rules.targets(history, policy=policy, units=UNITS)


def _follow_up_days(session: Session, tz: ZoneInfo, first: date, last: date) -> list[date]:
    """The days on which follow-ups were created: the only days with same-day figures (so a
    year of history asks callback.reports about those days, not about every day)."""
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    moments = session.scalars(select(CallEvent.at).where(
        CallEvent.kind == "followup.created", CallEvent.at >= start, CallEvent.at < end))
    return sorted({at.astimezone(tz).date() for at in moments})
