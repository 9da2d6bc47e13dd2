"""Demo data for `make run`: the skills the flow uses, three agents and their sign-ins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callflows.schema import Flow
from ivr.routing import agents
from ivr.routing.presence import set_state
from ivr.routing.queue import ensure_skill
from ivr.users.models import User
from ivr.users.service import add_user

DEMO_PASSWORD = "demo"


@dataclass(frozen=True)
class DemoAgent:
    name: str
    skills: dict[str, int]


DEMO_AGENTS = (
    DemoAgent("alice", {"billing": 4, "general": 3}),
    DemoAgent("bob", {"technical": 4, "outage": 3, "general": 2}),
    DemoAgent("carol", {"billing": 2, "technical": 2, "outage": 4, "general": 4}),
)
DEMO_SUPERVISOR = "sam"


def flow_skills(flow: Flow) -> set[str]:
    return {skill for node in flow.nodes.values() for skill in getattr(node, "skills", {}) or {}}


def load(
    session: Session, *, flow: Flow, now: datetime, available: bool = False
) -> list[str]:
    """Create what is missing (idempotent); returns lines saying what was created. With
    `available`, the demo agents are signed in (the offline carrier answers for them)."""
    created: list[str] = []
    for skill in sorted(flow_skills(flow)):
        ensure_skill(session, skill)
    for demo in DEMO_AGENTS:
        agent = agents.by_name(session, demo.name)
        if agent is None:
            agent = agents.add_agent(
                session, name=demo.name, endpoint=f"client:{demo.name}", skills=demo.skills, now=now
            )
            created.append(f"agent {demo.name} (client:{demo.name}) {demo.skills}")
        if available and agent.state == "offline":
            set_state(session, agent=agent, state="available", now=now, by="demo")
            created.append(f"agent {demo.name} is available")
        if session.scalar(select(User).where(User.username == demo.name)) is None:
            add_user(
                session,
                username=demo.name,
                password=DEMO_PASSWORD,
                role="agent",
                now=now,
                agent_id=agent.id,
            )
            created.append(f"user {demo.name} (agent), password {DEMO_PASSWORD!r}")
    if session.scalar(select(User).where(User.username == DEMO_SUPERVISOR)) is None:
        add_user(
            session, username=DEMO_SUPERVISOR, password=DEMO_PASSWORD, role="supervisor", now=now
        )
        created.append(f"user {DEMO_SUPERVISOR} (supervisor), password {DEMO_PASSWORD!r}")
    return created
