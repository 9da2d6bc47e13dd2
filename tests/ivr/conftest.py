"""Fixtures of the tests of other processes' call events: this process, with what brings
them to its bus started (the relay on PostgreSQL, the follower on SQLite), and another
process's database. Each engine's own module narrows `database_url` to its engine."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ivr.db import Database
from ivr.eventfollower import EventFollower
from ivr.eventrelay import EventRelay
from ivr.events import EventBus


@pytest.fixture
def here(database_url: str) -> Iterator[tuple[Database, EventBus, Any]]:
    """This process: its database, its bus, and its relay or follower, listening."""
    bus = EventBus()
    db = Database(database_url, bus=bus)
    relay: Any = (EventFollower(db, bus, poll=0.05, batch=16) if db.is_sqlite
                  else EventRelay(db, bus, poll=0.1, retry=0.1))
    relay.start()
    assert relay.listening.wait(10)
    yield db, bus, relay
    relay.stop()
    db.dispose()


@pytest.fixture
def elsewhere(database_url: str) -> Iterator[Database]:
    """Another process's database: its own engine, so its own connections (and on SQLite its
    own writer's turn)."""
    db = Database(database_url, bus=EventBus())
    yield db
    db.dispose()
