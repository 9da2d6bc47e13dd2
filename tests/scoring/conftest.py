"""Fixtures for the scoring tests: people with roles (agents, a supervisor, an admin), and calls
answered by an agent the way the router answers them (queue entry, reservation, answer, end)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest

from ivr.calls.models import Call
from ivr.routing import queue, reservations
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep
from ivr.users.service import add_user

PASSWORD = "pw-1234"
POLICY = RoutingPolicy(wrap_up_seconds=30)
# Which skill reaches which of the agents in `people`.
SKILL_OF = {"ann": "billing", "ben": "technical"}
_numbers = itertools.count(1)


@pytest.fixture
def people(db, clock) -> dict[str, dict[str, Any]]:
    """ann and ben (agents), sue (supervisor), ada (admin): name -> {token, agent_id}."""
    found: dict[str, dict[str, Any]] = {}
    with db.transaction() as session:
        for name, skills in (("ann", {"billing": 3}), ("ben", {"technical": 2})):
            agent = add_agent(session, name=name, endpoint=f"client:{name}", skills=skills,
                              now=clock.now())
            _, token = add_user(session, username=name, password=PASSWORD, role="agent",
                                now=clock.now(), agent_id=agent.id)
            found[name] = {"token": token, "agent_id": agent.id}
        for name, role in (("sue", "supervisor"), ("ada", "admin")):
            _, token = add_user(session, username=name, password=PASSWORD, role=role,
                                now=clock.now())
            found[name] = {"token": token, "agent_id": None}
    return found


def bearer(people: dict[str, dict[str, Any]], name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {people[name]['token']}"}


@pytest.fixture
def answered_call(db, clock, people) -> Callable[..., int]:
    """`answered_call("ann", at=...)`: a call that queued for ann's skill at `at` (default
    now), was routed to her, answered and ended; returns the call's id."""

    def make(agent_name: str, *, at: datetime | None = None) -> int:
        if at is not None:
            clock.set(at)
        n = next(_numbers)
        with db.transaction() as session:
            call = Call(sid=f"CA{n:032x}", from_number=f"+1555123{n:04d}",
                        to_number="+15005550006", started_at=clock.now(), path=[], vars={})
            session.add(call)
            session.flush()
            queue.enqueue(session, call=call, skills={SKILL_OF[agent_name]: 1}, priority=1,
                          reasons=[], now=clock.now())
            agent = session.get(Agent, people[agent_name]["agent_id"])
            set_state(session, agent=agent, state="available", now=clock.now())
            session.flush()
            (reservation,) = sweep(session, now=clock.now(), policy=POLICY)
            assert reservation.agent_id == agent.id
            reservations.answered(session, reservation=reservation, now=clock.now(),
                                  agent_call_sid=f"CA{n:031x}f")
            reservations.finished(session, reservation=reservation,
                                  now=clock.advance(120), wrap_up_seconds=30)
            return call.id

    return make


@pytest.fixture
def unanswered_call(db, clock) -> int:
    """A call that left the IVR without reaching anyone."""
    with db.transaction() as session:
        call = Call(sid="CA" + "e" * 32, from_number="+15551239876", to_number="+15005550006",
                    started_at=clock.now(), path=[], vars={}, status="completed",
                    outcome="abandoned")
        session.add(call)
        session.flush()
        return call.id
