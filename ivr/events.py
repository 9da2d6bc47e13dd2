"""The call-event log (append-only) and the in-process publish/subscribe that carries each
committed event to live screens (events committed by other processes arrive through
`ivr.eventrelay`). Reports and screens read the same log."""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy import Join, Select, insert
from sqlalchemy import event as orm_events
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.selectable import FromClause, TableClause

from ivr.calls.models import CallEvent

log = logging.getLogger(__name__)
PENDING = "ivr.pending_events"
UNWRITTEN = "ivr.unwritten_events"


class IdOf:
    """An event field naming an object that may not be written yet: the object's id once it
    is (the events are written at commit, or before a query that may read them, and flush
    such objects first). The id need not be flushed for the event alone."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any) -> None:
        self.obj = obj


def record(
    session: Session,
    kind: str,
    /,
    *,
    at: datetime,
    call_id: int | None = None,
    agent_id: int | None = None,
    **data: Any,
) -> CallEvent:
    """Append one event. It is written, with the others of its transaction, when the
    transaction commits (or before a query that may read it); its id is known from then on.
    It is published to live subscribers once the transaction commits."""
    event = CallEvent(kind=kind, at=at, call_id=call_id, agent_id=agent_id, data=data)
    session.info.setdefault(PENDING, []).append(event)
    # Not added to the session: each query would flush it first, a flush of its own for an
    # event that nothing reads in the same transaction, and the ORM writes them one
    # statement each on SQLite. They are written together (see the listeners below).
    session.info.setdefault(UNWRITTEN, []).append(event)
    return event


def write_recorded(session: Session) -> None:
    """Write the events recorded so far in one statement, and give them their ids."""
    if any(_unwritten_id(value) for event in session.info.get(UNWRITTEN, ())
           for value in event.data.values()):
        session.flush()  # the objects the events name (`IdOf`) get their ids
    unwritten = session.info.pop(UNWRITTEN, None)
    if not unwritten:
        return
    for event in unwritten:
        if any(isinstance(value, IdOf) for value in event.data.values()):
            event.data = {key: value.obj.id if isinstance(value, IdOf) else value
                          for key, value in event.data.items()}
    rows = [{"at": e.at, "kind": e.kind, "call_id": e.call_id, "agent_id": e.agent_id,
             "data": e.data} for e in unwritten]
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # SQLite cannot say which RETURNING row is which in a batch. The transaction holds
        # the database's one write lock, so the rows take the next ids in turn (rowid is one
        # more than the largest): the last id names them all.
        if len(rows) == 1:
            last = connection.execute(_INSERT, rows[0]).lastrowid
        else:
            connection.execute(_INSERT, rows)
            last = connection.exec_driver_sql("SELECT last_insert_rowid()").scalar_one()
        ids: Any = range(last - len(rows) + 1, last + 1)
    else:
        ids = connection.execute(_INSERT_RETURNING, rows).scalars().all()
    for recorded, event_id in zip(unwritten, ids, strict=True):
        recorded.id = event_id


def _unwritten_id(value: Any) -> bool:
    return isinstance(value, IdOf) and value.obj.id is None


@orm_events.listens_for(Session, "before_commit")
def _written_at_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        write_recorded(session)


@orm_events.listens_for(Session, "after_soft_rollback")
def _dropped_with_the_transaction(session: Session, previous: Any) -> None:
    if previous.parent is None:
        session.info.pop(UNWRITTEN, None)


@orm_events.listens_for(Session, "do_orm_execute")
def _written_before_reading(state: ORMExecuteState) -> None:
    """A query that may read the call events sees the ones recorded in its transaction."""
    if UNWRITTEN in state.session.info and _may_read_events(state):
        write_recorded(state.session)


# Execution options of a statement that is known not to read the log (SQL text, whose
# tables cannot be looked at): the events recorded so far wait for the commit.
NOT_READING_EVENTS = {"ivr_reads_events": False}


def _may_read_events(state: ORMExecuteState) -> bool:
    if not state.execution_options.get("ivr_reads_events", True):
        return False
    statement = state.statement
    if not isinstance(statement, Select):
        return True  # updates, deletes, text: rare here, so no need to look closer
    return _selects_from_events(statement)


def _selects_from_events(statement: Select) -> bool:
    """Whether the log is among the statement's tables: in its columns, its explicit FROMs
    or its joins, subqueries included. (Its final FROM list would say it for sure, but works
    out the whole statement, at the cost of running it.)"""
    froms = [*statement.columns_clause_froms, *getattr(statement, "_from_obj", ()),
             *(join[0] for join in getattr(statement, "_setup_joins", ()))]
    return _mentions_events(froms)


def _mentions_events(froms: Any) -> bool:
    for item in froms:
        # The table itself, or the ORM's annotated copy of it (select(CallEvent)).
        if isinstance(item, TableClause) and item.name == _EVENTS.name:
            return True
        if isinstance(item, Join) and _mentions_events((item.left, item.right)):
            return True
        element = getattr(item, "element", None)  # an alias, a subquery, a CTE
        if isinstance(element, Select) and _selects_from_events(element):
            return True
        if isinstance(element, FromClause) and _mentions_events((element,)):
            return True
    return False


_EVENTS = CallEvent.__table__
_INSERT = insert(_EVENTS)
_INSERT_RETURNING = insert(_EVENTS).returning(_EVENTS.c.id, sort_by_parameter_order=True)


def pending(session: Session) -> list[CallEvent]:
    """The events recorded in this session's transaction so far (their data may hold
    `IdOf` fields until they are written)."""
    return list(session.info.get(PENDING, []))


def as_message(event: CallEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "call_id": event.call_id,
        "agent_id": event.agent_id,
        "data": event.data,
    }


# Handed to subscribers (compared by identity, never sent) when events committed elsewhere
# may have been missed: the relay listens again after losing its connection. A screen takes a
# fresh snapshot, as it would after an event.
RESYNC: dict[str, Any] = {"kind": "bus.resync"}


class EventBus:
    """In-process fan-out of committed events to subscribers (one queue per subscriber)."""

    def __init__(self, *, backlog: int = 1000) -> None:
        self._listeners: list[Any] = []
        self._subscribers: set[queue.Queue[dict[str, Any]]] = set()
        self._lock = threading.Lock()
        self._backlog = backlog

    def subscribe(self) -> queue.Queue[dict[str, Any]]:
        inbox: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=self._backlog)
        with self._lock:
            self._subscribers.add(inbox)
        return inbox

    def unsubscribe(self, inbox: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers.discard(inbox)

    def listen(self, listener: Any) -> None:
        """Call `listener(message)` for every committed event, in the committing thread."""
        self._listeners.append(listener)

    def publish(self, message: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:  # one failing listener must not stop the others or the caller
                log.exception("event listener failed on %s", message.get("kind"))
        self.deliver(message)

    def deliver(self, message: dict[str, Any]) -> None:
        """Hand `message` to the subscribers only: `publish` does after the listeners, and
        the relay for an event another process committed (its listeners ran there)."""
        with self._lock:
            subscribers = list(self._subscribers)
        for inbox in subscribers:
            try:
                inbox.put_nowait(message)
            except queue.Full:
                # A stalled screen must not hold up calls; it reconnects and reloads.
                log.warning("dropping a live event for a subscriber that is not reading")

    def publish_committed(self, session: Session) -> None:
        for event in session.info.pop(PENDING, []):
            self.publish(as_message(event))

    def discard(self, session: Session) -> None:
        session.info.pop(PENDING, None)
