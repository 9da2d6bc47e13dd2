"""Fresh, migrated databases for a benchmark: a SQLite file in a temporary folder, or a schema
of its own in PostgreSQL (dropped afterwards), the way the test suite makes them."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from ivr import schema

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_url(configured: str = "") -> str:
    return (configured or os.environ.get("IVR_BENCH_POSTGRES_URL")
            or os.environ.get("IVR_TEST_POSTGRES_URL") or DEFAULT_POSTGRES)


@contextmanager
def fresh_database(engine: str, *, postgres: str = "") -> Iterator[str]:
    """The URL of an empty, migrated database of `engine` that lives for the block."""
    if engine == "sqlite":
        with tempfile.TemporaryDirectory(prefix="ivr-bench-") as folder:
            url = f"sqlite:///{Path(folder) / 'ivr.db'}"
            schema.upgrade(url)
            yield url
        return
    if engine != "postgresql":
        raise ValueError(f"unknown engine {engine!r}: sqlite or postgresql")
    base = postgres_url(postgres)
    name = f"ivr_bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {name}")
        separator = "&" if "?" in base else "?"
        url = f"{base}{separator}options=-csearch_path%3D{name}"
        schema.upgrade(url)
        yield url
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f"DROP SCHEMA IF EXISTS {name} CASCADE")
        admin.dispose()
