"""What another process commits reaches this process's live subscribers on either engine (on
PostgreSQL the event relay, on SQLite the event follower: the fixtures are in conftest), as it
was written; what this process commits reaches them once. Each engine's own cases:
test_eventrelay, test_eventfollower."""

from __future__ import annotations

from ivr import events

from support import received, record_in_another_process


def test_an_event_committed_elsewhere_reaches_the_subscribers_as_it_was_written(
        here, elsewhere, clock):
    _db, bus, _relay = here
    inbox = bus.subscribe()
    with elsewhere.transaction() as session:
        first = events.record(session, "agent.state", at=clock.now(), agent_id=None,
                              state="available", reason=None)
        second = events.record(session, "test.other", at=clock.now(), n=2, words=["네", "yes"])
    assert received(inbox, 2) == [events.as_message(first), events.as_message(second)]


def test_events_committed_here_reach_the_subscribers_once(here, clock):
    db, bus, _relay = here
    inbox = bus.subscribe()
    for n in range(30):  # many chances for the relay to take one between commit and bus
        with db.transaction() as session:
            events.record(session, "test.mine", at=clock.now(), n=n)
    assert [m["data"]["n"] for m in received(inbox, 30)] == list(range(30))


def test_an_event_committed_by_another_os_process_reaches_the_subscribers(
        here, database_url):
    _db, bus, _relay = here
    inbox = bus.subscribe()
    record_in_another_process(database_url, "test.from_cli", pid=1)
    (message,) = received(inbox, 1)
    assert message["kind"] == "test.from_cli" and message["data"] == {"pid": 1}
