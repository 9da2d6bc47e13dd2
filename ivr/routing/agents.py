"""Agents: adding them with an endpoint and skills at levels 1-5, listing them."""

from __future__ import annotations

import re
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import events
from ivr.routing.models import Agent, AgentSkill
from ivr.routing.queue import ensure_skill

_CLIENT = re.compile(r"^client:[A-Za-z0-9_.-]{1,100}$")
_SIP = re.compile(r"^sip:[^@\s]+@[^@\s]+$")


class AgentError(ValueError):
    """An agent cannot be added or changed as asked; the message says why."""


def check_endpoint(endpoint: str) -> str:
    """A browser softphone (client:NAME), a SIP address (sip:user@host) or an E.164 number."""
    if _CLIENT.match(endpoint) or _SIP.match(endpoint):
        return endpoint
    try:
        number = phonenumbers.parse(endpoint, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise AgentError(
            f"endpoint {endpoint!r}: use client:NAME, sip:user@host or a number like +15551234567"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_phone(endpoint: str) -> bool:
    """A phone number (a mobile, away from the desk), which voicemail can answer; a softphone
    or a SIP address rings only the agent."""
    return not endpoint.startswith(("client:", "sip:"))


def parse_skills(text: str) -> dict[str, int]:
    """`billing:3,technical:2` -> {"billing": 3, "technical": 2}; a skill without a level is 1."""
    skills: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, level = part.partition(":")
        try:
            value = int(level) if level else 1
        except ValueError:
            raise AgentError(f"skill {part!r}: the level must be a number 1-5") from None
        if not 1 <= value <= 5:
            raise AgentError(f"skill {part!r}: the level must be 1-5")
        skills[name.strip()] = value
    return skills


def add_agent(
    session: Session, *, name: str, endpoint: str, skills: dict[str, int], now: datetime
) -> Agent:
    if session.scalar(select(Agent).where(Agent.name == name)) is not None:
        raise AgentError(f"agent {name!r} already exists")
    agent = Agent(
        name=name,
        endpoint=check_endpoint(endpoint),
        state="offline",
        state_since=now,
        created_at=now,
    )
    session.add(agent)
    session.flush()
    set_skills(session, agent=agent, skills=skills)
    events.record(session, "agent.added", at=now, agent_id=agent.id, skills=skills)
    return agent


def set_skills(session: Session, *, agent: Agent, skills: dict[str, int]) -> None:
    """Give the agent these skills at these levels (others they have stay as they are)."""
    for skill_name, level in skills.items():
        if not 1 <= level <= 5:
            raise AgentError(f"skill {skill_name!r}: the level must be 1-5, not {level}")
        current = next((s for s in agent.skills if s.skill.name == skill_name), None)
        if current is None:
            agent.skills.append(AgentSkill(skill=ensure_skill(session, skill_name), level=level))
        else:
            current.level = level
    session.flush()


def list_agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).order_by(Agent.name)))


def by_name(session: Session, name: str) -> Agent | None:
    return session.scalar(select(Agent).where(Agent.name == name))
