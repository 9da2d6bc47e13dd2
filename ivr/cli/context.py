"""What commands share: settings read once (a bad one stops the command with one line naming
it) and the app, built only by the commands that need it."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from ivr.settings import Settings, SettingsError, from_env


class CliContext:
    def __init__(self) -> None:
        self._settings: Settings | None = None
        self._app: Any = None

    def settings(self, **overrides: Any) -> Settings:
        if self._settings is None:
            try:
                self._settings = from_env()
                if overrides:
                    self._settings = self._settings.with_overrides(**overrides)
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from None
            logging.getLogger().setLevel(self._settings.log_level)
        return self._settings

    def override(self, **changes: Any) -> Settings:
        """The settings with `changes`, for the app still to be built."""
        if self._app is not None:
            raise RuntimeError("the app is built: its settings can no longer change")
        self._settings = self.settings().with_overrides(**changes)
        return self._settings

    def app(self, **overrides: Any) -> Any:
        if self._app is None:
            from callflows.loader import FlowInvalid
            from ivr.app import create_app

            settings = self.settings(**overrides)
            try:
                self._app = create_app(settings)
            except FlowInvalid as exc:
                raise _flow_error(exc) from None
        return self._app

    def check_flow(self) -> None:
        """Stop with one line if the flow would not load, without building the app: for a
        command that builds it later, in other processes."""
        from callflows.loader import FlowInvalid, load_flow

        try:
            load_flow(self.settings().flow)
        except FlowInvalid as exc:
            raise _flow_error(exc) from None

    def check_database(self) -> None:
        """Stop with one line if the database cannot be reached, or its schema is not this
        version's: before any web process or timer starts, rather than a traceback from each
        as it boots."""
        quiet = logging.getLogger("alembic")  # its INFO lines say nothing a user needs here
        level = quiet.level
        quiet.setLevel(logging.WARNING)
        try:
            self._check_database()
        finally:
            quiet.setLevel(level)

    def _check_database(self) -> None:
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from sqlalchemy import make_url
        from sqlalchemy.exc import SQLAlchemyError

        from ivr import schema
        from ivr.db import make_engine

        url = self.settings().database_url
        parsed = make_url(url)
        shown = parsed.render_as_string(hide_password=True)
        if (parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
                and not Path(parsed.database).exists()):
            # Not made here: an empty file would only look like a database.
            raise click.ClickException(f"IVR_DATABASE_URL: {shown} does not exist yet. Run "
                                       "`ivr db upgrade` first.")
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                current = set(MigrationContext.configure(connection).get_current_heads())
            needed = set(ScriptDirectory.from_config(schema.alembic_config(url)).get_heads())
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise click.ClickException(f"IVR_DATABASE_URL: cannot reach {shown}: {reason}"
                                       ) from None
        finally:
            engine.dispose()  # nothing of it is left for the processes that start next
        if current != needed:
            at = ", ".join(sorted(current)) or "no schema"
            raise click.ClickException(
                f"IVR_DATABASE_URL: {shown} is at {at}; this version needs schema "
                f"{', '.join(sorted(needed))}. Run `ivr db upgrade` first.")

    def runtime(self) -> Any:
        return self.app().extensions["ivr"]


def _flow_error(exc: Any) -> click.ClickException:
    problems = "; ".join(str(p) for p in exc.problems)
    return click.ClickException(f"IVR_FLOW: {problems}")


pass_cli = click.make_pass_decorator(CliContext)
