"""Alembic environment: the URL comes from `ivr db upgrade` (config attribute `url`) or from
IVR_DATABASE_URL; the schema from ivr.models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from ivr import models, schema
from ivr.db import make_engine
from ivr.settings import from_env

config = context.config
target_metadata = models.Base.metadata


def database_url() -> str:
    return config.attributes.get("url") or from_env().database_url


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=schema.include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    engine = make_engine(database_url())
    try:
        with engine.connect() as connection:
            run_with(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
