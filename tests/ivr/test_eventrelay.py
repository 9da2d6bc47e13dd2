"""PostgreSQL's own cases of relaying other processes' call events (LISTEN/NOTIFY; what both
engines share is in test_events_elsewhere): this process's events sent on a connection closed
since are not delivered twice, a transaction too big for one notification arrives whole and
in order, and the relay listens again after losing its connection, saying so."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ivr import events
from ivr.db import Database
from ivr.eventrelay import EventRelay
from ivr.events import EventBus

from support import received, wait_for


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """PostgreSQL only, emptied."""
    from conftest import _empty_postgres

    _empty_postgres(postgres_url)
    return postgres_url


def test_events_committed_here_on_a_connection_closed_since_are_not_delivered_again(
        here, clock):
    """The notification may reach the relay after the pool closed the connection that sent
    it (an overflow connection is closed as it is given back): still this process's own."""
    db, bus, _relay = here
    inbox = bus.subscribe()
    with db.transaction() as session:
        first = events.record(session, "test.first", at=clock.now())
    db.engine.dispose()  # the pool's connections close; the next transaction opens a new one
    with db.transaction() as session:
        second = events.record(session, "test.second", at=clock.now())
    assert received(inbox, 2) == [events.as_message(first), events.as_message(second)]


def test_a_transaction_too_big_for_one_notification_arrives_whole_and_in_order(
        here, elsewhere, clock):
    _db, bus, _relay = here
    inbox = bus.subscribe()
    with elsewhere.transaction() as session:
        recorded = [events.record(session, "test.big", at=clock.now(), n=n, filler="x" * 900)
                    for n in range(40)]  # about 40 kB: past PostgreSQL's 8000-byte payload
    got = received(inbox, 40)
    assert [m["data"]["n"] for m in got] == list(range(40))
    assert got == [events.as_message(event) for event in recorded]


LISTENERS = text(
    "SELECT pid FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND pid <> pg_backend_pid()"
    " AND datname = current_database()"
    " AND application_name = current_setting('application_name')")


def test_the_relay_listens_again_after_losing_its_connection(here, elsewhere, clock):
    """And tells the subscribers that what was committed meanwhile was missed (`RESYNC`),
    so the screens take a fresh look."""
    _db, bus, _relay = here
    watching = bus.subscribe()
    with elsewhere.transaction() as session:
        (lost,) = session.scalars(LISTENERS).all()
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})

    def listening_again() -> bool:
        with elsewhere.transaction() as session:
            return any(pid != lost for pid in session.scalars(LISTENERS))

    wait_for(listening_again, what="the relay to listen on a new connection", timeout=30)
    inbox = bus.subscribe()
    with elsewhere.transaction() as session:
        after = events.record(session, "test.after", at=clock.now())
    assert received(inbox, 1) == [events.as_message(after)]
    resync, event = received(watching, 2)
    assert resync is events.RESYNC and event == events.as_message(after)


def test_sqlite_has_no_relay(tmp_path, sqlite_template):
    db = Database(f"sqlite:///{sqlite_template}")
    try:
        with pytest.raises(ValueError, match="PostgreSQL"):
            EventRelay(db, EventBus())
    finally:
        db.dispose()
