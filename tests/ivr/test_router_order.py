"""The router's order kept in the database (queue_entries.order_key) against its definition:
effective priority (priority plus aging), then time of entry, with skill expansion; on both
engines."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from ivr import events
from ivr.routing import queue
from ivr.routing.models import ROUTING_POLICY, QueueEntry, Reservation
from ivr.routing.policy import RoutingPolicy
from ivr.routing.router import best_entries_for_agent, parse_skills_key, route_agent
from ivr.routing.supervision import set_priority
from tests.ivr.test_router import POLICY, new_agent, new_caller

SKILLS = ("billing", "technical", "general")


def by_definition(entries, levels, now, policy):
    """The entries an agent with `levels` may take, best first, worked out one by one."""
    now_epoch = now.timestamp()
    fits = []
    for entry in entries:
        waited = now_epoch - entry.entered_epoch
        needs = parse_skills_key(entry.skills_key)
        if all(
            name in levels and levels[name] >= policy.relaxed_level(level, waited)
            for name, level in needs.items()
        ):
            rank = policy.effective_priority(entry.priority, waited)
            fits.append((-rank, entry.entered_epoch, entry.id))
    return [entry_id for *_, entry_id in sorted(fits)]


def test_the_best_callers_for_an_agent_are_those_of_the_definition(db, clock):
    draws = random.Random(7)
    with db.transaction() as session:
        entries = []
        for _ in range(120):
            needs = {draws.choice(SKILLS): draws.randint(1, 3)}
            if draws.random() < 0.3:
                needs[draws.choice(SKILLS)] = draws.randint(1, 2)
            entries.append(new_caller(session, clock, needs, priority=draws.choice((1, 1, 2, 5))))
            clock.advance(timedelta(seconds=draws.uniform(0, 40)))
        for n in range(8):
            levels = {name: draws.randint(1, 5) for name in draws.sample(SKILLS, 2)}
            agent = new_agent(session, clock, f"agent{n}", levels, available=False)
            expected = by_definition(entries, levels, clock.now(), POLICY)
            found = best_entries_for_agent(
                session, agent_id=agent.id, now=clock.now(), policy=POLICY, limit=5
            )
            assert found == expected[:5], levels


def test_a_free_agent_is_given_the_best_caller_of_the_definition(db, clock):
    """route_agent: on PostgreSQL one locking statement that writes the reservation too, on
    SQLite the candidates and then the reservation; the same caller either way, and the
    session sees the rows as written."""
    draws = random.Random(11)
    with db.transaction() as session:
        entries, made = [], 0
        for _ in range(60):
            needs = {draws.choice(SKILLS): draws.randint(1, 3)}
            entries.append(new_caller(session, clock, needs, priority=draws.choice((1, 2, 5))))
            clock.advance(timedelta(seconds=draws.uniform(0, 40)))
        for n in range(6):
            levels = {name: draws.randint(1, 5) for name in draws.sample(SKILLS, 2)}
            agent = new_agent(session, clock, f"free{n}", levels)
            waiting = [entry for entry in entries if entry.status == "waiting"]
            expected = by_definition(waiting, levels, clock.now(), POLICY)
            reservation = route_agent(session, agent_id=agent.id, now=clock.now(), policy=POLICY)
            if not expected:
                assert reservation is None
                continue
            assert reservation.entry_id == expected[0], levels
            made += 1
            entry = session.get(QueueEntry, expected[0])
            assert (entry.status, entry.agent_id) == ("reserved", agent.id)
            assert agent.state == "reserved" and agent.state_since == clock.now()
            session.flush()
            stored = session.execute(
                select(Reservation.status, Reservation.agent_id).where(
                    Reservation.id == reservation.id)
            ).one()
            assert tuple(stored) == ("offered", agent.id)
            kinds = [event.kind for event in events.pending(session)]
            assert kinds[-2:] == ["agent.state", "routing.reserved"]
        assert made >= 4


def test_a_raised_priority_moves_the_caller_ahead(db, clock):
    with db.transaction() as session:
        first = new_caller(session, clock, {"general": 1}, priority=1)
        clock.advance(30)
        later = new_caller(session, clock, {"general": 1}, priority=1)
        agent = new_agent(session, clock, "gina", {"general": 1}, available=False)
        order = best_entries_for_agent(
            session, agent_id=agent.id, now=clock.now(), policy=POLICY, limit=2
        )
        assert order == [first.id, later.id]
        set_priority(session, entry=later, priority=3, reason="outage", now=clock.now(),
                     by="sam")
        session.flush()
        order = best_entries_for_agent(
            session, agent_id=agent.id, now=clock.now(), policy=POLICY, limit=2
        )
        assert order == [later.id, first.id]
        assert later.order_key == POLICY.order_key(3, later.entered_epoch)


def test_rekeying_puts_entries_made_under_another_aging_in_the_new_order(db, clock):
    fast = RoutingPolicy(aging_per_minute=10.0)
    with db.transaction() as session:
        session.info[ROUTING_POLICY] = RoutingPolicy(aging_per_minute=0.0)  # no aging at all
        old = new_caller(session, clock, {"general": 1}, priority=1)
        clock.advance(timedelta(minutes=2))
        urgent = new_caller(session, clock, {"general": 1}, priority=5)
        agent = new_agent(session, clock, "gina", {"general": 1}, available=False)
        session.flush()
        assert old.order_key == -1 and urgent.order_key == -5  # keyed without aging

        assert queue.rekey(session, policy=fast) == 2
        session.expire(old)
        session.expire(urgent)
        # With 10 points a minute, two minutes of waiting (1 + 20) outrank priority 5.
        order = best_entries_for_agent(
            session, agent_id=agent.id, now=clock.now(), policy=fast, limit=2
        )
        assert order == [old.id, urgent.id]
        assert queue.rekey(session, policy=fast) == 0
        assert session.get(QueueEntry, old.id).order_key == fast.order_key(1, old.entered_epoch)
