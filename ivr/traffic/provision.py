"""The simulator's people, made in the database with the same functions as `ivr agents add`
and `ivr users add`: its virtual agents (client:<name> softphones with the run's skills) and
a supervisor whose API token the simulator uses for everything else, over HTTP."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.routing.agents import add_agent, by_name, set_skills
from ivr.users.models import User
from ivr.users.service import UserError, add_user, rotate_token

SUPERVISOR = "sim-supervisor"


@dataclass(frozen=True)
class SimAgent:
    id: int
    name: str
    identity: str  # the carrier device the agent's endpoint rings


@dataclass(frozen=True)
class Provisioned:
    token: str  # the supervisor's API token
    agents: tuple[SimAgent, ...]


def provision(
    session: Session, *, names: list[str], skills: dict[str, int], now: datetime
) -> Provisioned:
    """Agents `names` with `skills` (created, or given the skills when they exist from an
    earlier run) and the simulation's supervisor with a fresh API token."""
    agents = []
    for name in names:
        agent = by_name(session, name)
        if agent is None:
            agent = add_agent(session, name=name, endpoint=f"client:{name}", skills=skills, now=now)
        else:
            set_skills(session, agent=agent, skills=skills)
        if not agent.endpoint.startswith("client:"):
            raise UserError(
                f"agent {name} answers on {agent.endpoint}, not on a softphone "
                f"(client:{name}) that the offline carrier's devices can play"
            )
        agents.append(SimAgent(agent.id, agent.name, agent.endpoint.removeprefix("client:")))
    return Provisioned(_supervisor_token(session, now), tuple(agents))


def _supervisor_token(session: Session, now: datetime) -> str:
    user = session.scalar(select(User).where(User.username == SUPERVISOR))
    if user is None:
        _, token = add_user(
            session,
            username=SUPERVISOR,
            password=secrets.token_urlsafe(16),
            role="supervisor",
            now=now,
        )
        return token
    if user.role not in ("supervisor", "admin"):
        raise UserError(
            f"user {SUPERVISOR} exists with the role {user.role}; the simulator "
            "needs it to be a supervisor"
        )
    return rotate_token(user)
