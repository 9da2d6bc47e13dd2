"""The call events other processes commit to a SQLite database, carried to this process's
live screens: SQLite has no notifications, so a thread reads the log's new rows a few times a
second (the PostgreSQL counterpart is `ivr.eventrelay`). An `ivr` command run beside
`ivr serve` (`ivr agents`, say), or `ivr worker`, then shows on the screens within a second.

SQLite has one writer at a time, and each transaction's events take the next ids in turn
(`events.write_recorded`), so the rows past the last one read are exactly the events
committed since. The events this process commits reach its screens through its own bus at
once; their ids are noted as each transaction commits, before the follower can read them,
and skipped."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import event as orm_events
from sqlalchemy.orm import Session

from ivr.db import Database
from ivr.eventrelay import message_from_row
from ivr.events import PENDING, EventBus

log = logging.getLogger(__name__)

_NEW_ROWS = ("SELECT id, at, kind, call_id, agent_id, data FROM call_events WHERE id > ? "
             "ORDER BY id LIMIT ?")


class EventFollower:
    """A thread that reads the call events committed since its last look and hands those
    committed by other processes to the bus's subscribers (their listeners ran where they
    were committed). It reads on a connection of its own, outside the pool, in autocommit:
    a read in WAL mode takes no lock that a writer waits for."""

    def __init__(self, db: Database, bus: EventBus, *, poll: float = 0.5,
                 batch: int = 500) -> None:
        if not db.is_sqlite:
            raise ValueError("the event follower reads a SQLite log; PostgreSQL notifies "
                             "(ivr.eventrelay)")
        self.db = db
        self.bus = bus
        self.poll = poll
        self.batch = batch
        self.listening = threading.Event()  # set once the log's end is known
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self._committed_here: set[int] = set()
        # On this Database's sessions only, while the transaction still holds the write lock.
        orm_events.listen(db.sessions, "after_commit", self._note_committed)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="event-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        orm_events.remove(self.db.sessions, "after_commit", self._note_committed)

    def _note_committed(self, session: Session) -> None:
        ids = [e.id for e in session.info.get(PENDING, ()) if e.id is not None]
        if ids:
            with self._guard:
                self._committed_here.update(ids)

    def _run(self) -> None:
        connection = sqlite3.connect(self.db.engine.url.database or "", timeout=10,
                                     isolation_level=None, check_same_thread=False)
        try:
            try:
                last = connection.execute("SELECT coalesce(max(id), 0) FROM call_events"
                                          ).fetchone()[0]
            except sqlite3.Error as exc:  # no log to read (an in-memory database, say)
                log.warning("event follower: %s; other processes' events are not followed",
                            exc)
                return
            self.listening.set()
            while not self._stop.wait(self.poll):
                try:
                    last = self._deliver_since(connection, last)
                except sqlite3.Error as exc:  # locked for longer than the timeout: next look
                    log.warning("event follower: %s; reading again in %g s", exc, self.poll)
        finally:
            self.listening.clear()
            connection.close()

    def _deliver_since(self, connection: sqlite3.Connection, last: int) -> int:
        """Deliver the events committed elsewhere after `last`; the last id read."""
        while rows := self._read(connection, last):
            for row in rows:
                with self._guard:
                    here = row[0] in self._committed_here
                    self._committed_here.discard(row[0])
                if not here:
                    self.bus.deliver(message_from_row(_row(row)))
            last = rows[-1][0]
            if len(rows) < self.batch:
                break
        with self._guard:  # ours from before the first look, never read: forgotten
            self._committed_here = {i for i in self._committed_here if i > last}
        return last

    def _read(self, connection: sqlite3.Connection, last: int) -> list[tuple[Any, ...]]:
        # In this process's turn for the database: a transaction of ours that committed is
        # one whose ids are noted (its turn ends after `_note_committed`).
        with self.db.writer:
            return connection.execute(_NEW_ROWS, (last, self.batch)).fetchall()


def _row(row: tuple[Any, ...]) -> dict[str, Any]:
    event_id, at, kind, call_id, agent_id, data = row
    return {"id": event_id, "at": at, "kind": kind, "call_id": call_id, "agent_id": agent_id,
            "data": json.loads(data) if data else {}}
