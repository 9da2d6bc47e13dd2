"""Fixtures shared by the suite. Every database test runs on SQLite and on PostgreSQL: the
`database_url` fixture is parametrised over both engines, each migrated once with Alembic."""

from __future__ import annotations

import ast
import os
import shutil
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.serving import make_server

from ivr import schema
from ivr.app import create_app
from ivr.clock import ManualClock
from ivr.db import Base, Database
from ivr.dispatcher import Dispatcher
from ivr.settings import Settings, validate

from support import sign

POSTGRES_URL = os.environ.get(
    "IVR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ENGINES = ("sqlite", "postgresql")
# A Monday morning, inside the default business hours.
MONDAY_10AM = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated once; each test gets a copy of the file."""
    path = tmp_path_factory.mktemp("template") / "ivr.db"
    schema.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A schema of its own in the test database, migrated once, dropped at the end."""
    # One schema per test run (and per xdist worker), so that runs at the same time on one
    # server do not truncate each other's tables.
    name = f"ivr_test_{_worker()}_{os.getpid()}"
    admin = sa.create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
            connection.exec_driver_sql(f"CREATE SCHEMA {name}")
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {POSTGRES_URL} is needed (IVR_TEST_POSTGRES_URL): {exc}")
    separator = "&" if "?" in POSTGRES_URL else "?"
    # The application name marks this run's connections (see _empty_postgres).
    url = f"{POSTGRES_URL}{separator}options=-csearch_path%3D{name}&application_name={name}"
    schema.upgrade(url)
    yield url
    with admin.begin() as connection:
        connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    admin.dispose()


def _empty_postgres(url: str) -> None:
    engine = sa.create_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        _end_stray_connections(connection)
        connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()


def _end_stray_connections(connection: sa.Connection) -> None:
    """A connection an earlier test left in a transaction (a thread still writing after its
    test ended) holds locks the TRUNCATE waits for, or deadlocks with: end it, and say so,
    since it is a leak for the fixtures to fix. Idle ones hold no locks and are left alone."""
    ended = connection.execute(sa.text(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
        " WHERE application_name = current_setting('application_name')"
        " AND pid <> pg_backend_pid() AND state <> 'idle'"
    )).scalar_one()
    if ended:
        warnings.warn(f"ended {ended} PostgreSQL connection(s) an earlier test left in a"
                      " transaction", stacklevel=3)


@pytest.fixture(params=ENGINES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each engine in turn."""
    if request.param == "sqlite":
        path = tmp_path / "ivr.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    _empty_postgres(url)
    return url


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(MONDAY_10AM)


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "var_dir": tmp_path / "var",
        "business_hours": "always",
        "sim_speed": 40.0,
        "wait_announce_seconds": 10,
    }
    values.update(overrides)
    return validate(Settings(**values))


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url, tmp_path)


@pytest.fixture
def app(settings: Settings, clock: ManualClock) -> Iterator[Flask]:
    application = create_app(settings, clock=clock)
    yield application
    runtime = application.extensions["ivr"]
    runtime.stop(wait=True)
    runtime.db.dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return app.extensions["ivr"].db


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def carrier_post(client: Any, settings: Settings) -> Callable[..., Any]:
    """POST to a webhook as the carrier would: form-encoded and signed."""

    def post(path: str, data: dict[str, str], *, signed: bool = True) -> Any:
        headers = {"X-Twilio-Signature": sign(settings, path, data)} if signed else {}
        return client.post(path, data=data, headers=headers)

    return post


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveService:
    """The service on a real port with its offline carrier: calls go over real HTTP."""

    url: str
    app: Flask

    @property
    def runtime(self) -> Any:
        return self.app.extensions["ivr"]

    @property
    def carrier(self) -> Any:
        return self.runtime.carrier

    @property
    def db(self) -> Database:
        return self.runtime.db


@pytest.fixture
def live_factory(database_url: str, tmp_path: Path) -> Iterator[Callable[..., LiveService]]:
    """Start services on free ports (settings overridable); all are stopped at the end."""
    started: list[tuple[Any, threading.Thread, Flask]] = []

    def start(clock: Any = None, **overrides: Any) -> LiveService:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = make_settings(database_url, tmp_path, public_url=url, **overrides)
        application = create_app(settings, clock=clock)
        runtime = application.extensions["ivr"]
        runtime.dispatcher = Dispatcher(runtime, interval=0.2)
        runtime.dispatcher.start()
        server = make_server("127.0.0.1", port, application, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        started.append((server, thread, application))
        return LiveService(url=url, app=application)

    yield start
    for server, thread, application in started:
        runtime = application.extensions["ivr"]
        runtime.stop(wait=True)
        server.shutdown()
        thread.join(timeout=10)
        _finish_requests(server, timeout=10)
        runtime.db.dispose()


def _finish_requests(server: Any, timeout: float) -> None:
    """Wait for the requests still being handled: one that wrote after its test ended would
    write into the next test's database (on PostgreSQL its open transaction deadlocked the
    next test's TRUNCATE)."""
    deadline = time.monotonic() + timeout
    # werkzeug's threads are daemons, so server_close() would not wait for them; socketserver
    # still keeps the list (block_on_close).
    for request in list(vars(server).get("_threads", ())):
        request.join(max(0.0, deadline - time.monotonic()))
    server.server_close()


@pytest.fixture
def live(live_factory: Callable[..., LiveService]) -> LiveService:
    return live_factory()


# One browser for the whole run: Playwright's sync API cannot be started twice in a process
# (a second sync_playwright() while the first is open fails "inside the asyncio loop").
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
                 "--headless"]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed at /usr/bin/chromium (make system-deps)")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# CPython 3.11 before 3.11.8 keeps ast.parse's recursion count in shared state (gh-106905):
# two threads parsing at once (werkzeug compiling an app's URL rules while a live service's
# thread formats a traceback, which parses the failing line) can fail with "AST constructor
# recursion depth mismatch". The suite starts many apps beside running services: parse one
# at a time.
_parse, _parse_lock = ast.parse, threading.Lock()


def _parse_one_at_a_time(*args: Any, **kwargs: Any) -> Any:
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _parse_one_at_a_time
