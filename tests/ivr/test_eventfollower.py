"""SQLite's own cases of following other processes' call events (the log read a few times a
second; what both engines share is in test_events_elsewhere): events of this process and of
another, interleaved, arrive once each and in order across the follower's batches; what was
committed before it started is not delivered; PostgreSQL has no follower (it notifies)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ivr import events
from ivr.db import Database
from ivr.eventfollower import EventFollower
from ivr.events import EventBus

from support import received


@pytest.fixture
def database_url(tmp_path: Path, sqlite_template: Path) -> str:
    """SQLite only, a fresh copy of the migrated template."""
    path = tmp_path / "ivr.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


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


def test_events_before_the_follower_started_are_not_delivered(database_url, elsewhere, clock):
    with elsewhere.transaction() as session:
        events.record(session, "test.before", at=clock.now())
    bus = EventBus()
    db = Database(database_url, bus=bus)
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


def test_a_database_without_a_log_to_read_stops_the_follower_not_the_service(caplog):
    db = Database("sqlite://")  # in memory: the follower's own connection sees no tables
    follower = EventFollower(db, EventBus(), poll=0.05)
    try:
        follower.start()
        follower.stop()  # returns: the thread has ended
        assert not follower.listening.is_set()
        assert "other processes' events are not followed" in caplog.text
    finally:
        db.dispose()
