"""Migrating the database with Alembic: `ivr db upgrade` and the tests use the same code."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from ivr.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's comparison of the database with the models skips what the migrations own
    and the models cannot describe: SQLite's full-text table and its shadow tables."""
    from recordings.search import FTS_TABLES

    return not (type_ == "table" and name in FTS_TABLES)
