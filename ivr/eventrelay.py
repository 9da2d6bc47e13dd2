"""The call events other processes commit, carried to this process's live screens: on
PostgreSQL every insert into the log notifies (migration 0009's trigger, delivered at
commit), and each web process listens on a connection of its own. So a wallboard served by
one web process shows what another web process, `ivr worker` or an `ivr` command did.

The events this process commits reach its screens through its own bus at once (with its
listeners, which must run once, where the event was committed); their notifications carry
this process's origin (`Database.origin`, a setting of each of its connections) and are
skipped. On SQLite, `ivr.eventfollower` reads the log instead."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from ivr.calls.models import CallEvent
from ivr.db import Database
from ivr.events import RESYNC, EventBus, as_message

log = logging.getLogger(__name__)

# The channel of this database and schema, as the trigger names it: two services sharing one
# PostgreSQL server (or test runs in schemas of one database) do not hear each other.
CHANNEL_SQL = "SELECT 'ivr_events_' || md5(current_database() || '.' || current_schema())"


class EventRelay:
    """A thread that LISTENs and hands each event committed elsewhere to the bus's
    subscribers. It reconnects after a lost connection; the events committed meanwhile are
    not relayed, so each time it listens it hands the subscribers `RESYNC` instead: the
    screens take a fresh snapshot, in a quiet center as in a busy one."""

    def __init__(self, db: Database, bus: EventBus, *, poll: float = 0.5,
                 retry: float = 2.0) -> None:
        if db.is_sqlite:
            raise ValueError("the event relay needs PostgreSQL (SQLite's service is one process)")
        self.db = db
        self.bus = bus
        self.poll = poll
        self.retry = retry
        self.listening = threading.Event()  # set while LISTEN is in force
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="event-relay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    self._listen(connection)
            except Exception as exc:  # the database went away: listen again when it is back
                log.warning("event relay: %s; listening again in %g s", exc, self.retry)
            finally:
                self.listening.clear()
            self._stop.wait(self.retry)

    def _connect(self) -> Any:
        """A connection of its own, outside the pool, for as long as the relay runs."""
        engine = self.db.engine
        args, params = engine.dialect.create_connect_args(engine.url)
        connection = engine.dialect.loaded_dbapi.connect(*args, **params)
        connection.autocommit = True
        return connection

    def _listen(self, connection: Any) -> None:
        from psycopg import sql

        channel = connection.execute(CHANNEL_SQL).fetchone()[0]
        connection.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
        self.listening.set()
        self.bus.deliver(RESYNC)  # what was committed while nobody listened is not coming
        while not self._stop.is_set():
            for notify in connection.notifies(timeout=self.poll):
                payload = json.loads(notify.payload)
                if payload.get("origin") == self.db.origin:
                    continue  # committed here: already on this process's bus
                for message in self._messages(payload):
                    self.bus.deliver(message)

    def _messages(self, payload: dict[str, Any]) -> list[dict[str, Any]]:
        if "events" in payload:
            return [message_from_row(row) for row in payload["events"]]
        # Too many for one notification: the ids only, the rows from the log.
        with self.db.transaction() as session:
            found = session.scalars(
                select(CallEvent).where(CallEvent.id.in_(payload["ids"])).order_by(CallEvent.id)
            ).all()
            return [as_message(event) for event in found]


def message_from_row(row: dict[str, Any]) -> dict[str, Any]:
    """The bus's message for a row of the log (a notification's, or one read as it is
    stored), as `as_message` makes it here (the log keeps naive UTC times)."""
    at = datetime.fromisoformat(row["at"]).replace(tzinfo=UTC)
    return {"id": row["id"], "kind": row["kind"], "at": at.isoformat(),
            "call_id": row["call_id"], "agent_id": row["agent_id"], "data": row["data"]}
