"""The call-event log: the events of a transaction are written together at its commit, seen by
any query of the same transaction that reads the log, and dropped with a rollback."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ivr import events
from ivr.calls.models import Call, CallEvent


def test_the_events_of_a_transaction_get_their_ids_in_order_at_commit(db, clock):
    with db.transaction() as session:
        recorded = [events.record(session, "test.kind", at=clock.now(), n=n) for n in range(5)]
        assert all(event.id is None for event in recorded)
    ids = [event.id for event in recorded]
    assert ids == sorted(ids) and len(set(ids)) == 5
    with db.transaction() as session:
        stored = {e.id: e.data["n"] for e in session.scalars(select(CallEvent))}
    assert stored == {event.id: n for n, event in enumerate(recorded)}


def test_a_query_of_the_log_sees_the_events_recorded_before_it(db, clock):
    with db.transaction() as session:
        events.record(session, "test.first", at=clock.now())
        assert session.scalar(select(func.count(CallEvent.id))) == 1
        events.record(session, "test.second", at=clock.now())
        kinds = session.scalars(select(CallEvent.kind).order_by(CallEvent.id)).all()
        assert kinds == ["test.first", "test.second"]
        # Through a join with a subquery of the log, too.
        last = (select(CallEvent.call_id, func.max(CallEvent.id).label("last_id"))
                .group_by(CallEvent.call_id).subquery())
        events.record(session, "test.third", at=clock.now())
        assert session.execute(select(last.c.last_id)).scalar() is not None
        assert session.scalar(select(func.count(CallEvent.id))) == 3


def test_events_of_a_failed_transaction_are_not_written(db, clock):
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            events.record(session, "test.lost", at=clock.now())
            raise RuntimeError("the webhook failed")
    with db.transaction() as session:
        assert session.scalar(select(func.count(CallEvent.id))) == 0


def test_a_rolled_back_savepoint_keeps_the_events_recorded_before_it(db, clock):
    with db.transaction() as session:
        call = Call(sid="CA-events", direction="inbound", from_number="+15551230001",
                    to_number="+15005550006", status="in-progress", started_at=clock.now(),
                    path=[], vars={})
        session.add(call)
        session.flush()
        event = events.record(session, "test.kept", at=clock.now(), call_id=call.id)
        try:
            with session.begin_nested():
                session.add(Call(sid="CA-events", direction="inbound", from_number="x",
                                 to_number="y", status="in-progress", started_at=clock.now(),
                                 path=[], vars={}))
                session.flush()
        except Exception:  # the duplicate CallSid: the savepoint rolls back
            pass
    with db.transaction() as session:
        assert session.get(CallEvent, event.id).kind == "test.kept"
