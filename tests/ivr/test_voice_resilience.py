"""When the service itself fails, callers are kept in the flow and nothing is half-written."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from ivr.calls.models import Call, CallEvent
from ivr.db import Database

from twimlwalk import Twiml
from webhooks import Caller, in_db


def hold_write_lock(db: Database, seconds: float, ready: threading.Event) -> None:
    """Another writer holding the database for a moment (a SQLite write lock, or an exclusive
    lock on the calls table on PostgreSQL)."""
    with db.engine.connect() as connection:
        if db.is_sqlite:
            connection.exec_driver_sql("INSERT INTO skills (name) VALUES ('lock-holder')")
        else:
            connection.exec_driver_sql("BEGIN")
            connection.exec_driver_sql("LOCK TABLE calls IN ACCESS EXCLUSIVE MODE")
        ready.set()
        threading.Event().wait(seconds)
        connection.rollback()


def test_a_briefly_locked_database_makes_the_webhook_wait_not_fail(db, carrier_post):
    ready = threading.Event()
    holder = threading.Thread(target=hold_write_lock, args=(db, 0.5, ready))
    holder.start()
    ready.wait(5)
    caller = Caller(carrier_post)
    twiml = caller.ring()
    holder.join()
    assert twiml.find("Gather") is not None
    assert in_db(db, select(func.count(Call.id))) == 1


def test_a_failing_database_keeps_the_caller_in_the_flow_and_writes_nothing(
    db, carrier_post, monkeypatch, caplog
):
    def broken(self, work, attempts=3):
        raise OperationalError("INSERT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(Database, "run", broken)
    caller = Caller(carrier_post)
    twiml = Twiml.of(carrier_post("/voice/incoming", caller.form()))
    assert "sorry" in twiml.said().lower()
    assert twiml.redirect_path().startswith("/voice/recover")
    assert "voice webhook /voice/incoming failed" in caplog.text
    monkeypatch.undo()
    assert in_db(db, select(func.count(Call.id))) == 0
    # Once the database answers again, the recovery URL carries on with the call.
    recovered = Twiml.of(carrier_post(twiml.redirect_path(), caller.form()))
    assert recovered.find("Gather") is not None


def test_recovery_that_keeps_failing_holds_the_caller_in_a_queue(db, carrier_post, monkeypatch):
    def broken(self, work, attempts=3):
        raise OperationalError("SELECT ...", {}, Exception("database is locked"))

    monkeypatch.setattr(Database, "run", broken)
    caller = Caller(carrier_post)
    path = "/voice/recover?attempt=1"
    for _ in range(5):
        twiml = Twiml.of(carrier_post(path, caller.form()))
        if twiml.enqueued():
            break
        path = twiml.redirect_path()
    assert twiml.enqueued(), "after the retries the caller holds in a queue, never dropped"


def test_a_failure_midway_leaves_no_half_written_rows(db, carrier_post, monkeypatch):
    import ivr.calls.flowsteps as flowsteps

    def explode(*args, **kwargs):
        raise RuntimeError("bug in the middle of the step")

    caller = Caller(carrier_post)
    monkeypatch.setattr(flowsteps, "apply_step", explode)
    twiml = Twiml.of(carrier_post("/voice/incoming", caller.form()))
    assert twiml.redirect_path().startswith("/voice/recover")
    assert in_db(db, select(func.count(Call.id))) == 0
    assert in_db(db, select(func.count(CallEvent.id))) == 0


def test_postgres_url_option_reaches_its_own_schema(database_url):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM calls")).scalar() == 0
    engine.dispose()


def _pooled_backends(db: Database, count: int) -> list[int]:
    """Open `count` pooled connections at once and return their server pids (they go back
    to the pool)."""
    connections = [db.engine.connect() for _ in range(count)]
    pids = [c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in connections]
    for connection in connections:
        connection.close()
    return pids


def _terminate(db: Database, pids: list[int]) -> None:
    with sa.create_engine(db.url).connect() as admin:
        for pid in pids:
            admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.commit()


def test_a_webhook_after_the_servers_connections_were_lost_still_answers(db, carrier_post):
    """Connections in steady use are not pinged (a round trip per transaction): the first
    statement on a lost one fails, the pool is renewed, and the webhook's transaction runs
    again on a fresh connection."""
    if db.is_sqlite:
        pytest.skip("SQLite: an embedded database has no server to lose")
    lost = _pooled_backends(db, 3)
    _terminate(db, lost)
    caller = Caller(carrier_post)
    twiml = caller.ring()
    assert twiml.find("Gather") is not None
    assert in_db(db, select(func.count(Call.id))) == 1
    assert not set(_pooled_backends(db, 3)) & set(lost)


def test_a_connection_idle_for_a_while_is_checked_before_it_is_used(db, monkeypatch):
    """Outside `Database.run` there is no second try: a connection idle long enough for the
    server to have gone away is pinged at checkout and replaced if it is dead."""
    if db.is_sqlite:
        pytest.skip("SQLite: an embedded database has no server to lose")
    import ivr.db

    lost = _pooled_backends(db, 1)
    _terminate(db, lost)
    monkeypatch.setattr(ivr.db, "IDLE_BEFORE_PING", 0.0)
    with db.transaction() as session:
        pid = session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    assert pid not in lost
