"""Callback times a caller can pick: the next few slots inside business hours that still have
room, said the way a person would ("in about an hour", "this afternoon at 3 PM", "tomorrow
morning at 9 AM"). A slot's room comes from the agents who have the skill and the recent
handle time, less what is already booked in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callback.models import Callback
from callback.policy import CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.routing.models import Agent, AgentSkill, Skill

LOOKAHEAD_DAYS = 7


@dataclass(frozen=True)
class Slot:
    start: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return self.capacity - self.booked


def skilled_agents(session: Session, skills: dict[str, int]) -> int:
    """Agents (signed in or not) who have every one of the skills at any level."""
    query = select(func.count(Agent.id))
    for name in skills:
        query = query.where(
            Agent.id.in_(select(AgentSkill.agent_id).join(Skill).where(Skill.name == name))
        )
    return int(session.scalar(query) or 0)


def slot_capacity(agents: int, *, handle_seconds: float, policy: CallbackPolicy) -> int:
    calls_each = policy.slot_minutes * 60 / max(handle_seconds, 60.0)
    return int(agents * calls_each * policy.slot_utilisation)


def booked_in(session: Session, start: datetime, end: datetime) -> int:
    return int(session.scalar(
        select(func.count(Callback.id)).where(
            Callback.kind == "scheduled", Callback.status.in_(("scheduled", "pending")),
            Callback.due_at >= start, Callback.due_at < end,
        )
    ) or 0)


def _candidates(now: datetime, calendar: BusinessCalendar, policy: CallbackPolicy):
    """Slot starts on the slot grid, at least an hour away, inside business hours."""
    step = timedelta(minutes=policy.slot_minutes)
    earliest = now + timedelta(hours=1)
    for opens, closes in calendar.open_windows(now, now + timedelta(days=LOOKAHEAD_DAYS)):
        start = max(opens, earliest)
        local = start.astimezone(calendar.tz)
        minute = local.minute % policy.slot_minutes
        if minute or local.second or local.microsecond:
            start += timedelta(minutes=policy.slot_minutes - minute) - timedelta(
                seconds=local.second, microseconds=local.microsecond)
        while start + step <= closes:
            yield start
            start += step


def offer(
    session: Session, *, skills: dict[str, int], now: datetime, calendar: BusinessCalendar,
    policy: CallbackPolicy, handle_seconds: float,
) -> list[Slot]:
    """Up to `slots_offered` slots with room: the first one, then one later today (the
    afternoon), then one on the next business day (the morning)."""
    capacity = slot_capacity(skilled_agents(session, skills), handle_seconds=handle_seconds,
                             policy=policy)
    if capacity <= 0:
        return []
    step = timedelta(minutes=policy.slot_minutes)
    chosen: list[Slot] = []
    today = now.astimezone(calendar.tz).date()
    for start in _candidates(now, calendar, policy):
        slot = Slot(start, capacity, booked_in(session, start, start + step))
        if slot.free <= 0:
            continue
        local = start.astimezone(calendar.tz)
        if not chosen:
            chosen.append(slot)
        elif len(chosen) == 1 and local.date() == today and local.hour >= 13 and (
            start - chosen[0].start >= timedelta(hours=2)
        ):
            chosen.append(slot)
        elif local.date() > today and all(
            c.start.astimezone(calendar.tz).date() <= today for c in chosen
        ):
            chosen.append(slot)
        if len(chosen) >= policy.slots_offered:
            break
    return chosen


def _clock(local: datetime, language: str) -> str:
    if language.startswith("es"):
        return f"{local.hour}:{local.minute:02d}"
    hour = local.hour % 12 or 12
    suffix = "AM" if local.hour < 12 else "PM"
    return f"{hour} {suffix}" if local.minute == 0 else f"{hour}:{local.minute:02d} {suffix}"


def describe(start: datetime, *, now: datetime, calendar: BusinessCalendar,
             language: str = "en-US") -> str:
    """How a person says when the callback will come."""
    local = start.astimezone(calendar.tz)
    today = now.astimezone(calendar.tz).date()
    spanish = language.startswith("es")
    if start - now <= timedelta(minutes=90):
        return "en aproximadamente una hora" if spanish else "in about an hour"
    part = ("por la mañana" if spanish else "morning") if local.hour < 12 else (
        "por la tarde" if spanish else "afternoon")
    at = _clock(local, language)
    if local.date() == today:
        return f"hoy {part}, a las {at}" if spanish else f"this {part} at {at}"
    if local.date() == today + timedelta(days=1):
        return f"mañana {part}, a las {at}" if spanish else f"tomorrow {part} at {at}"
    day = local.strftime("%A")
    if spanish:
        days = {"Monday": "el lunes", "Tuesday": "el martes", "Wednesday": "el miércoles",
                "Thursday": "el jueves", "Friday": "el viernes", "Saturday": "el sábado",
                "Sunday": "el domingo"}
        return f"{days[day]} {part}, a las {at}"
    return f"on {day} {part} at {at}"
