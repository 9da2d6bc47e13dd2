"""Reservation is atomic: many threads and several processes routing at once never give one
agent two calls or one call two agents. Thousands of assignments, then the invariants."""

from __future__ import annotations

import multiprocessing
import threading
import traceback
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ivr.calls.models import Call, CallEvent
from ivr.clock import SystemClock
from ivr.db import Database
from ivr.routing import queue
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep

ENTRIES = 2000
AGENTS = 30
THREADS = 4
PROCESSES = 3
POLICY = RoutingPolicy(wrap_up_seconds=0)


def fill(db: Database) -> None:
    now = datetime.now(UTC)
    with db.transaction() as session:
        for n in range(AGENTS):
            agent = add_agent(session, name=f"agent{n:02d}", endpoint=f"client:agent{n:02d}",
                              skills={"general": 1 + n % 5, "billing": 1 + (n * 7) % 5},
                              now=now)
            set_state(session, agent=agent, state="available", now=now)
        for n in range(ENTRIES):
            call = Call(sid=f"CA{n:032x}", from_number=f"+1555{n:07d}", to_number="+15005550006",
                        started_at=now, path=[], vars={})
            session.add(call)
            session.flush()
            skills = {"general": 1 + n % 3} if n % 2 else {"billing": 1 + n % 4}
            queue.enqueue(session, call=call, skills=skills, priority=n % 4, reasons=[], now=now)


def work(url: str, rounds_without_work: int = 30) -> list[str]:
    """Route and complete until nothing is left; returns any failures seen."""
    db = Database(url)
    clock = SystemClock()
    failures: list[str] = []
    idle = 0
    try:
        while idle < rounds_without_work:
            try:
                with db.transaction() as session:
                    made = [r.id for r in sweep(session, now=clock.now(), policy=POLICY,
                                                limit=5)]
            except IntegrityError as exc:  # the unique indexes caught a double assignment
                failures.append(f"double assignment reached the database: {exc.orig}")
                continue
            except Exception as exc:  # noqa: BLE001 - a lock timeout is retried, all else fails
                if "locked" in str(exc).lower():
                    continue
                failures.append(traceback.format_exc())
                return failures
            idle = 0 if made else idle + 1
            for rid in made:
                complete(db, rid, clock)
    finally:
        db.dispose()
    return failures


def complete(db: Database, rid: int, clock: SystemClock) -> None:
    db.run(lambda session: _complete(session, rid, clock), attempts=20)


def _complete(session, rid: int, clock: SystemClock) -> None:
    reservation = session.get(Reservation, rid)
    reservation.status = "completed"
    reservation.ended_at = clock.now()
    reservation.entry.status = "done"
    set_state(session, agent=reservation.agent, state="available", now=clock.now())


def in_process(url: str, results: multiprocessing.Queue) -> None:
    results.put(work(url))


def state_changes(db: Database) -> dict[int, list[dict]]:
    with db.transaction() as session:
        rows = session.execute(
            select(CallEvent.agent_id, CallEvent.data)
            .where(CallEvent.kind == "agent.state")
            .order_by(CallEvent.id)
        ).all()
    changes: dict[int, list[dict]] = {}
    for agent_id, data in rows:
        changes.setdefault(agent_id, []).append(data)
    return changes


def check_invariants(db: Database) -> None:
    with db.transaction() as session:
        reservations = list(session.scalars(select(Reservation).order_by(Reservation.id)))
        entries = list(session.scalars(select(QueueEntry)))
        agents = list(session.scalars(select(Agent)))
    assert len(reservations) == ENTRIES, "every caller was assigned exactly once"
    by_entry: dict[int, int] = {}
    for reservation in reservations:
        by_entry[reservation.entry_id] = by_entry.get(reservation.entry_id, 0) + 1
    assert set(by_entry.values()) == {1}, "no call went to two agents"
    assert all(entry.status == "done" for entry in entries)
    per_agent: dict[int, list[Reservation]] = {}
    for reservation in reservations:
        per_agent.setdefault(reservation.agent_id, []).append(reservation)
    # Each agent's state changes, in the order they were written under the agent's row lock:
    # every change starts from the state the previous one left (no lost update), and the
    # agent is reserved once per reservation, never twice in a row.
    for agent_id, changes in state_changes(db).items():
        for before, after in zip(changes, changes[1:], strict=False):
            assert after["previous"] == before["state"], (agent_id, before, after)
            assert (before["state"], after["state"]) != ("reserved", "reserved"), agent_id
        reserved = sum(1 for change in changes if change["state"] == "reserved")
        assert reserved == len(per_agent.get(agent_id, [])), agent_id
    assert {agent.state for agent in agents} == {"available"}
    assert len(per_agent) > AGENTS // 2, "the work was spread over the agents"


def test_many_threads_routing_at_once_never_double_assign(database_url):
    db = Database(database_url)
    fill(db)
    failures: list[str] = []
    threads = [threading.Thread(target=lambda: failures.extend(work(database_url)))
               for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    check_invariants(db)
    db.dispose()


def test_several_processes_routing_at_once_never_double_assign(database_url):
    db = Database(database_url)
    fill(db)
    context = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = context.Queue()
    processes = [context.Process(target=in_process, args=(database_url, results))
                 for _ in range(PROCESSES)]
    for process in processes:
        process.start()
    failures = [failure for _ in processes for failure in results.get(timeout=600)]
    for process in processes:
        process.join(timeout=60)
    assert failures == []
    check_invariants(db)
    db.dispose()
