"""What commands share: settings read once (a bad one stops the command with one line naming
it) and the app, built only by the commands that need it."""

from __future__ import annotations

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

    def runtime(self) -> Any:
        return self.app().extensions["ivr"]


def _flow_error(exc: Any) -> click.ClickException:
    problems = "; ".join(str(p) for p in exc.problems)
    return click.ClickException(f"IVR_FLOW: {problems}")


pass_cli = click.make_pass_decorator(CliContext)
