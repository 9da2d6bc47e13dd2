"""The day's charts as series: calls offered and answered per half hour, service level through
the day (cumulative, at the end of each half hour), the distribution of waits, and agents by
state per half hour. One structure: the console draws it with Chart.js, `ivr report kpis
--format png` with matplotlib (ivr.reports.drawing).

Calls are counted as the KPIs count them (ivr.reports.kpis), from the same facts, in the half
hour they started in: the half hours add up to the day's figures. Over several days each
half hour adds up those days (agents: the average over them). Agents by state is the average
number of agents in each state during the half hour, weighted by time, from `agent.state`
events; half hours still to come are null."""

from __future__ import annotations

import bisect
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callback.reports import day_bounds
from ivr.calls.models import CallEvent
from ivr.reports.facts import CallFacts, load_calls
from ivr.reports.kpis import KpiError, days
from ivr.reports.policy import ReportPolicy
from ivr.routing.models import AgentSkill, Skill

SLOT_MINUTES = 30
SLOTS = 24 * 60 // SLOT_MINUTES
SHOWN_STATES = ("available", "reserved", "busy", "wrap-up", "not-ready")  # offline: not there
WAIT_STEPS = (0.5, 1, 1.5, 3, 6, 15)  # bucket edges, in multiples of the service-level time
MAX_DAYS = 92


def slot_labels() -> list[str]:
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60, SLOT_MINUTES)]


def slot_of(at: datetime, tz: ZoneInfo) -> int:
    local = at.astimezone(tz)
    return (local.hour * 60 + local.minute) // SLOT_MINUTES


def wait_edges(policy: ReportPolicy) -> list[float]:
    return [round(step * policy.service_level_seconds, 3) for step in WAIT_STEPS]


def wait_labels(edges: list[float]) -> list[str]:
    bounds = [0.0, *edges]
    return [f"{lo:g}–{hi:g} s" for lo, hi in zip(bounds, edges, strict=False)] + [
        f"over {edges[-1]:g} s"]


def day_charts(
    session: Session,
    *,
    tz: ZoneInfo,
    policy: ReportPolicy,
    first: date,
    last: date | None = None,
    now: datetime | None = None,
    skill: str | None = None,
    agent_id: int | None = None,
) -> dict[str, Any]:
    """The four charts of a day (or of each half hour over the days `first` to `last`)."""
    last = last or first
    if last < first:
        raise KpiError("to", f"to ({last}) is before from ({first})")
    if (last - first).days >= MAX_DAYS:
        raise KpiError("to", f"to: charts cover at most {MAX_DAYS} days")
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    calls = [c for c in load_calls(session, start=start, end=end, now=now)
             if (skill is None or skill in c.skills)
             and (agent_id is None or c.conversations_of(agent_id))]
    labels = slot_labels()
    current = slot_of(now, tz) if now is not None and start <= now < end and first == last \
        else None
    edges = wait_edges(policy)
    return {
        "from": first.isoformat(),
        "to": last.isoformat(),
        "days": (last - first).days + 1,
        "timezone": str(tz),
        "service_level_seconds": policy.service_level_seconds,
        "filters": {"skill": skill, "agent_id": agent_id},
        "charts": [
            _volume(calls, tz, labels, agent_id),
            _service_level(calls, tz, labels, policy, agent_id, current),
            _waits(calls, edges, policy, agent_id),
            _agents(session, tz, labels, first, last, now, skill, agent_id),
        ],
    }


def _volume(calls: list[CallFacts], tz: ZoneInfo, labels: list[str], agent_id: int | None
            ) -> dict[str, Any]:
    offered, answered = [0] * SLOTS, [0] * SLOTS
    for c in calls:
        slot = slot_of(c.started_at, tz)
        offered[slot] += 1
        answered[slot] += 1 if c.conversations_of(agent_id) else 0
    return {"name": "volume", "title": "Calls offered and answered per half hour",
            "type": "bar", "unit": "calls", "labels": labels,
            "datasets": [{"label": "offered", "data": offered},
                         {"label": "answered", "data": answered}]}


def _service_level(calls: list[CallFacts], tz: ZoneInfo, labels: list[str],
                   policy: ReportPolicy, agent_id: int | None, current: int | None
                   ) -> dict[str, Any]:
    within, queued = [0] * SLOTS, [0] * SLOTS
    for c in calls:
        slot = slot_of(c.started_at, tz)
        talks = c.conversations_of(agent_id)
        if talks:
            queued[slot] += 1
            within[slot] += 1 if talks[0].waited <= policy.service_level_seconds else 0
        elif (c.abandoned_wait is not None
              and c.abandoned_wait >= policy.short_abandon_seconds):
            queued[slot] += 1
    data: list[float | None] = []
    so_far_within = so_far_queued = 0
    for slot in range(SLOTS):
        so_far_within += within[slot]
        so_far_queued += queued[slot]
        later = current is not None and slot > current
        data.append(None if later or not so_far_queued
                     else round(so_far_within / so_far_queued, 4))
    return {"name": "service_level", "title": "Service level through the day", "type": "line",
            "unit": "share", "labels": labels,
            "datasets": [{"label": f"answered within {policy.service_level_seconds:g} s, "
                                   "cumulative", "data": data}]}


def _waits(calls: list[CallFacts], edges: list[float], policy: ReportPolicy,
           agent_id: int | None) -> dict[str, Any]:
    """Buckets (lo, hi]: those up to the service-level time add up to the calls answered
    within it."""
    answered, abandoned = [0] * (len(edges) + 1), [0] * (len(edges) + 1)
    for c in calls:
        talks = c.conversations_of(agent_id)
        if talks:
            answered[bisect.bisect_left(edges, talks[0].waited)] += 1
        elif c.abandoned_wait is not None:
            abandoned[bisect.bisect_left(edges, c.abandoned_wait)] += 1
    return {"name": "waits", "title": "Distribution of waits", "type": "bar", "stacked": True,
            "unit": "calls", "labels": wait_labels(edges),
            "datasets": [{"label": "answered", "data": answered},
                         {"label": "abandoned (short abandons too)", "data": abandoned}]}


def _agents(session: Session, tz: ZoneInfo, labels: list[str], first: date, last: date,
            now: datetime | None, skill: str | None, agent_id: int | None) -> dict[str, Any]:
    start, _ = day_bounds(first, tz)
    _, end = day_bounds(last, tz)
    until = min(end, now) if now is not None else end
    agents = _agents_shown(session, skill, agent_id)
    timelines = _timelines(session, start, until, agents)
    # The slots of every day, as (start, end, slot index), in time order.
    slots = []
    for day in days(first, last):
        for index in range(SLOTS):
            minutes = index * SLOT_MINUTES
            lo = datetime.combine(day, time(minutes // 60, minutes % 60), tz)
            hi = (datetime.combine(day, time((minutes + SLOT_MINUTES) // 60 % 24,
                                             (minutes + SLOT_MINUTES) % 60), tz)
                  if index + 1 < SLOTS else datetime.combine(day + timedelta(days=1), time(0), tz))
            slots.append((lo, hi, index))
    starts = [lo for lo, _, _ in slots]
    seconds: dict[str, list[float]] = {state: [0.0] * SLOTS for state in SHOWN_STATES}
    for state, t0, t1 in (span for line in timelines.values() for span in line):
        if state not in seconds:
            continue
        position = max(0, bisect.bisect_right(starts, t0) - 1)
        while position < len(slots) and slots[position][0] < t1:
            lo, hi, index = slots[position]
            overlap = (min(hi, t1) - max(lo, t0)).total_seconds()
            if overlap > 0:
                seconds[state][index] += overlap
            position += 1
    elapsed = [0.0] * SLOTS
    for lo, hi, index in slots:
        elapsed[index] += max(0.0, (min(hi, until) - lo).total_seconds())
    datasets = [{"label": state,
                 "data": [round(seconds[state][i] / elapsed[i], 3) if elapsed[i] else None
                          for i in range(SLOTS)]} for state in SHOWN_STATES]
    return {"name": "agents", "title": "Agents by state", "type": "bar", "stacked": True,
            "unit": "agents", "labels": labels, "datasets": datasets}


def _agents_shown(session: Session, skill: str | None, agent_id: int | None) -> set[int] | None:
    """The agents the chart is about: one, those with the skill, or (None) every agent."""
    if agent_id is not None:
        return {agent_id}
    if skill is None:
        return None
    return set(session.scalars(select(AgentSkill.agent_id).join(Skill).where(Skill.name == skill)))


def _timelines(session: Session, start: datetime, until: datetime, agents: set[int] | None
               ) -> dict[int, list[tuple[str, datetime, datetime]]]:
    """(state, from, to) spans of each agent between start and until."""
    if until <= start:
        return {}
    latest = (select(func.max(CallEvent.id))
              .where(CallEvent.kind == "agent.state", CallEvent.at < start)
              .group_by(CallEvent.agent_id))
    before = session.execute(select(CallEvent.agent_id, CallEvent.data)
                             .where(CallEvent.id.in_(latest)))
    state: dict[int, tuple[str, datetime]] = {
        a: ((data or {}).get("state", "offline"), start) for a, data in before
        if agents is None or a in agents}
    changes = session.execute(
        select(CallEvent.agent_id, CallEvent.at, CallEvent.data)
        .where(CallEvent.kind == "agent.state", CallEvent.at >= start, CallEvent.at < until)
        .order_by(CallEvent.id))
    spans: dict[int, list[tuple[str, datetime, datetime]]] = defaultdict(list)
    for agent, at, data in changes:
        if agent is None or (agents is not None and agent not in agents):
            continue
        if agent in state:
            was, since = state[agent]
            spans[agent].append((was, since, at))
        state[agent] = ((data or {}).get("state", "offline"), at)
    for agent, (was, since) in state.items():
        spans[agent].append((was, since, until))
    return spans
