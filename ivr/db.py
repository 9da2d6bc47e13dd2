"""The database: engine, sessions, the declarative base and the column types every model uses.

SQLite (WAL mode, a busy timeout) is the embedded default; PostgreSQL is reached through the
URL. Sessions are opened at the edge, one transaction per webhook, request or job."""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import JSON, DateTime, Engine, MetaData, Select, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M")
S = TypeVar("S", bound="Select[Any]")

# Constraint names that Alembic can refer to on both engines.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in Python, naive UTC in the database, the same on both engines."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; pass an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


# JSON that PostgreSQL stores as jsonb; SQLite as text.
def json_type() -> JSON:
    from sqlalchemy.dialects.postgresql import JSONB

    return JSON().with_variant(JSONB(), "postgresql")


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """An engine for `url`; for SQLite: the folder is created, WAL mode and a busy timeout so
    that a briefly locked database waits instead of failing."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 10, "check_same_thread": False}
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    engine = create_engine(url, echo=echo, pool_size=10, max_overflow=20)
    _ping_when_idle(engine)
    return engine


# A pooled connection unused this long is pinged before it is handed out: a server restart or
# an idle timeout is noticed there. One in steady use is not: SQLAlchemy's pool_pre_ping would
# cost a round trip in every transaction (about one in ten of a call's on PostgreSQL). One
# that died while in use fails its statement, which invalidates the whole pool, and
# `Database.run` tries again on a fresh connection.
IDLE_BEFORE_PING = 5.0
_IDLE_SINCE = "ivr.idle_since"


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _handed_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < IDLE_BEFORE_PING:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError(f"pooled connection lost while idle: {exc}") from exc
        if not alive:
            raise DisconnectionError("pooled connection lost while idle")


def sole_writer(session: Session) -> bool:
    """Whether the session's transaction holds the database's one write lock from its start:
    on SQLite (BEGIN IMMEDIATE, `_sqlite_begin_immediate`), so what a lookup found free stays
    free until it commits; on PostgreSQL another process may write in between."""
    return session.get_bind().dialect.name == "sqlite"


def race_guard(session: Session) -> Any:
    """Around an insert that another process may have made first since the lookup before it
    (a unique index catches that, and the caller rejoins the winner's row): a savepoint,
    unless the transaction is the `sole_writer` (the savepoint's two statements saved)."""
    return nullcontext() if sole_writer(session) else session.begin_nested()


def reading(session: Session, *classes: type) -> Any:
    """A block whose queries read only the tables of `classes`: work pending for other
    tables is not flushed first (it cannot change their answers, and goes out with the next
    flush, one flush fewer), unless objects of `classes` themselves are pending."""
    pending = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, classes) for obj in pending):
        return nullcontext()
    return session.no_autoflush


# Rows read to be changed: on PostgreSQL locked until the transaction ends (FOR NO KEY UPDATE,
# which leaves inserts that refer to them alone), so the router cannot take them between the
# read and the change; and read afresh even if the session holds them, since a lock on a stale
# copy would protect nothing. SQLite's one writer (`sole_writer`) needs no row lock.
_FOR_CHANGE = {"key_share": True}


def for_change(statement: S, *, skip_locked: bool = False) -> S:
    """`statement` reading its rows for change (above); with `skip_locked`, rows another
    transaction is changing are left out rather than waited for."""
    return (statement.with_for_update(skip_locked=skip_locked, **_FOR_CHANGE)
            .execution_options(populate_existing=True))


def get_for_change(session: Session, model: type[M], key: Any) -> M | None:
    """`session.get` of one row read for change (above)."""
    return session.get(model, key, with_for_update=_FOR_CHANGE, populate_existing=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is turned off so BEGIN IMMEDIATE below is ours:
    # a writer takes the lock at the start instead of failing to upgrade a read lock later.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


class TurnLock:
    """A reentrant lock that waiting threads get in the order they asked for it. Under load
    every transaction waits its turn and none for ever: threading.RLock wakes its waiters
    in no order, so the router's thread could lose to dozens of webhooks again and again
    while callers waited for the agents it had found."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._owner: int | None = None
        self._depth = 0
        self._queue: deque[tuple[int, threading.Lock]] = deque()

    def __enter__(self) -> TurnLock:
        me = threading.get_ident()
        with self._guard:
            if self._owner == me:
                self._depth += 1
                return self
            if self._owner is None and not self._queue:
                self._owner, self._depth = me, 1
                return self
            turn = threading.Lock()
            turn.acquire()
            self._queue.append((me, turn))
        try:
            turn.acquire()  # released by the thread before us, which made us the owner
        except BaseException:  # interrupted while waiting: leave the queue, or pass it on
            with self._guard:
                if (me, turn) in self._queue:
                    self._queue.remove((me, turn))
                    raise
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *_exc: Any) -> None:
        with self._guard:
            self._depth -= 1
            if self._depth:
                return
            if self._queue:
                self._owner, turn = self._queue.popleft()
                self._depth = 1
                turn.release()
            else:
                self._owner = None


class Database:
    """An engine and its session factory."""

    def __init__(
        self, url: str, *, echo: bool = False, bus: Any = None, session_info: dict | None = None
    ) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        # session_info: what every session carries in Session.info (the routing policy).
        self.sessions = sessionmaker(self.engine, expire_on_commit=False, info=session_info)
        self.bus = bus  # an EventBus: committed call events go to live screens
        # SQLite has one writer at a time and every transaction here writes (BEGIN
        # IMMEDIATE). Threads of this process queue on a lock of their own, which hands over
        # at once and in turn; waiting in SQLite's busy handler polls with sleeps of up to
        # 100 ms, and the lock sits free in between. Other processes still wait in the busy
        # handler.
        self._writer = TurnLock() if self.is_sqlite else nullcontext()
        # PostgreSQL: every connection of this Database says `origin` (the setting
        # ivr.origin), which the notifications of new call events carry, so this process's
        # relay knows its own (ivr.eventrelay).
        self.origin = "" if self.is_sqlite else _tag_connections(self.engine)

    @property
    def writer(self) -> Any:
        """This process's turn for the database (SQLite), held by every transaction from its
        BEGIN to the end of its commit; a no-op on PostgreSQL."""
        return self._writer

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits when the block ends, rolls back on any error."""
        with self._writer:
            session = self.sessions()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                if self.bus is not None:
                    self.bus.discard(session)
                raise
            finally:
                session.close()
        if self.bus is not None:
            self.bus.publish_committed(session)

    def run(self, work: Callable[[Session], T], *, attempts: int = 3) -> T:
        """Run `work` in a transaction, again when the database was briefly locked, the
        connection was lost (the pool then holds fresh ones only) or a versioned row it read
        was changed by another transaction before it wrote (it reads it afresh). `work` must
        not have effects outside the session (they would be repeated)."""
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as session:
                    return work(session)
            except StaleDataError as exc:
                if attempt == attempts:
                    raise
                log.info("a row changed meanwhile (attempt %d of %d): %s", attempt, attempts, exc)
            except DBAPIError as exc:
                if exc.connection_invalidated and attempt < attempts:
                    log.warning("database connection lost (attempt %d of %d): %s",
                                attempt, attempts, exc.orig)
                    continue
                if (attempt == attempts or not isinstance(exc, OperationalError)
                        or not is_transient(exc)):
                    raise
                log.warning("database busy (attempt %d of %d): %s", attempt, attempts, exc.orig)
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def dispose(self) -> None:
        self.engine.dispose()


def _tag_connections(engine: Engine) -> str:
    """Open every connection of `engine` with a setting that names this process, in its
    start-up packet (no round trip): the call-event trigger puts it in its notifications."""
    origin = secrets.token_hex(8)

    @event.listens_for(engine, "do_connect")
    def _tagged(_dialect: Any, _record: Any, _args: Any, params: dict[str, Any]) -> None:
        params["options"] = f"{params.get('options', '')} -c ivr.origin={origin}".strip()

    return origin


def is_transient(exc: OperationalError) -> bool:
    """A lock or serialization failure that is worth one more try."""
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("database is locked", "deadlock detected", "could not serialize", "busy")
    )
