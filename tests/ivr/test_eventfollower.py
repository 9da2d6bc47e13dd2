"""Call events committed to a SQLite database by another process reach this process's live
subscribers (the log read a few times a second), once, whole and in order; this process's own
events are not delivered twice. SQLite only: PostgreSQL notifies (test_eventrelay)."""

from __future__ import annotations

import queue
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ivr import events
from ivr.db import Database
from ivr.eventfollower import EventFollower
from ivr.events import EventBus
from ivr.settings import PROJECT_ROOT


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "ivr.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def here(sqlite_url: str) -> Iterator[tuple[Database, EventBus, EventFollower]]:
    """This process: its database, its bus and its follower, reading."""
    bus = EventBus()
    db = Database(sqlite_url, bus=bus)
    follower = EventFollower(db, bus, poll=0.05, batch=16)
    follower.start()
    assert follower.listening.wait(10)
    yield db, bus, follower
    follower.stop()
    db.dispose()


@pytest.fixture
def elsewhere(sqlite_url: str) -> Iterator[Database]:
    """Another process's database: its own engine and its own writer's turn."""
    db = Database(sqlite_url, bus=EventBus())
    yield db
    db.dispose()


def received(inbox: queue.Queue, count: int) -> list[dict[str, Any]]:
    got = [inbox.get(timeout=10) for _ in range(count)]
    with pytest.raises(queue.Empty):
        inbox.get(timeout=0.3)  # and nothing more
    return got


def test_an_event_committed_elsewhere_reaches_the_subscribers_as_it_was_written(
        here, elsewhere, clock):
    _db, bus, _follower = here
    inbox = bus.subscribe()
    with elsewhere.transaction() as session:
        first = events.record(session, "agent.state", at=clock.now(), agent_id=None,
                              state="available", reason=None)
        second = events.record(session, "test.other", at=clock.now(), n=2, words=["네", "yes"])
    assert received(inbox, 2) == [events.as_message(first), events.as_message(second)]


def test_events_committed_here_reach_the_subscribers_once(here, clock):
    db, bus, _follower = here
    inbox = bus.subscribe()
    for n in range(30):  # many chances for the follower to read one between commit and bus
        with db.transaction() as session:
            events.record(session, "test.mine", at=clock.now(), n=n)
    assert [m["data"]["n"] for m in received(inbox, 30)] == list(range(30))


def test_events_from_here_and_elsewhere_interleaved_arrive_once_each_in_order(
        here, elsewhere, clock):
    db, bus, _follower = here
    inbox = bus.subscribe()
    for n in range(40):  # more than a batch of the follower's
        with (db if n % 2 else elsewhere).transaction() as session:
            events.record(session, "test.turn", at=clock.now(), n=n)
    got = received(inbox, 40)
    assert sorted(m["data"]["n"] for m in got) == list(range(40))
    elsewhere_ns = [m["data"]["n"] for m in got if m["data"]["n"] % 2 == 0]
    assert elsewhere_ns == list(range(0, 40, 2)), "the other process's events in their order"


def test_an_event_committed_by_another_os_process_reaches_the_subscribers(here, sqlite_url):
    _db, bus, _follower = here
    inbox = bus.subscribe()
    script = ("import sys; from datetime import UTC, datetime; from ivr import events; "
              "from ivr.db import Database; db = Database(sys.argv[1]); "
              "session_cm = db.transaction(); session = session_cm.__enter__(); "
              "events.record(session, 'test.from_cli', at=datetime.now(UTC), pid=1); "
              "session_cm.__exit__(None, None, None); db.dispose()")
    done = subprocess.run([sys.executable, "-c", script, sqlite_url], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    (message,) = received(inbox, 1)
    assert message["kind"] == "test.from_cli" and message["data"] == {"pid": 1}


def test_events_before_the_follower_started_are_not_delivered(sqlite_url, elsewhere, clock):
    with elsewhere.transaction() as session:
        events.record(session, "test.before", at=clock.now())
    bus = EventBus()
    db = Database(sqlite_url, bus=bus)
    follower = EventFollower(db, bus, poll=0.05)
    inbox = bus.subscribe()
    follower.start()
    try:
        assert follower.listening.wait(10)
        with elsewhere.transaction() as session:
            after = events.record(session, "test.after", at=clock.now())
        assert received(inbox, 1) == [events.as_message(after)]
    finally:
        follower.stop()
        db.dispose()


def test_postgresql_has_no_follower(postgres_url):
    db = Database(postgres_url)
    try:
        with pytest.raises(ValueError, match="PostgreSQL notifies"):
            EventFollower(db, EventBus())
    finally:
        db.dispose()
