"""What another process commits reaches this process's live subscribers on either engine (on
PostgreSQL the event relay, on SQLite the event follower), as it was written; what this
process commits reaches them once. Each engine's own cases: test_eventrelay,
test_eventfollower."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ivr import events
from ivr.db import Database
from ivr.eventfollower import EventFollower
from ivr.eventrelay import EventRelay
from ivr.events import EventBus

from support import received, record_in_another_process


@pytest.fixture
def here(database_url: str) -> Iterator[tuple[Database, EventBus]]:
    """This process: its database and its bus, with other processes' events relayed."""
    bus = EventBus()
    db = Database(database_url, bus=bus)
    relay = (EventFollower if db.is_sqlite else EventRelay)(db, bus, poll=0.05)
    relay.start()
    assert relay.listening.wait(10)
    yield db, bus
    relay.stop()
    db.dispose()


@pytest.fixture
def elsewhere(database_url: str) -> Iterator[Database]:
    """Another process's database: its own engine, so its own connections."""
    db = Database(database_url, bus=EventBus())
    yield db
    db.dispose()


def test_an_event_committed_elsewhere_reaches_the_subscribers_as_it_was_written(
        here, elsewhere, clock):
    _db, bus = here
    inbox = bus.subscribe()
    with elsewhere.transaction() as session:
        first = events.record(session, "agent.state", at=clock.now(), agent_id=None,
                              state="available", reason=None)
        second = events.record(session, "test.other", at=clock.now(), n=2, words=["네", "yes"])
    assert received(inbox, 2) == [events.as_message(first), events.as_message(second)]


def test_events_committed_here_reach_the_subscribers_once(here, clock):
    db, bus = here
    inbox = bus.subscribe()
    for n in range(30):  # many chances for the relay to take one between commit and bus
        with db.transaction() as session:
            events.record(session, "test.mine", at=clock.now(), n=n)
    assert [m["data"]["n"] for m in received(inbox, 30)] == list(range(30))


def test_an_event_committed_by_another_os_process_reaches_the_subscribers(
        here, database_url):
    _db, bus = here
    inbox = bus.subscribe()
    record_in_another_process(database_url, "test.from_cli", pid=1)
    (message,) = received(inbox, 1)
    assert message["kind"] == "test.from_cli" and message["data"] == {"pid": 1}
