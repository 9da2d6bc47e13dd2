"""The `ivr` command. Each command runs the same code as the service, never a copy of it."""

from __future__ import annotations

import logging
import sys

import click

from ivr.cli.context import CliContext


@click.group()
@click.version_option(package_name="ivr")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """IVR and call-center back end."""
    ctx.obj = CliContext()


def _register() -> None:
    from ivr.cli import (
        accounts,
        calls,
        database,
        flows,
        recordings,
        reports,
        server,
        simulate,
    )

    cli.add_command(server.serve)
    cli.add_command(server.worker)
    cli.add_command(database.db)
    cli.add_command(database.demo)
    cli.add_command(flows.flows)
    cli.add_command(accounts.users)
    cli.add_command(accounts.agents)
    cli.add_command(calls.call)
    cli.add_command(recordings.transcribe)
    cli.add_command(recordings.recordings)
    cli.add_command(simulate.simulate)
    cli.add_command(reports.report)
    cli.add_command(reports.dnc)
    cli.add_command(reports.incidents)


_register()


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    sys.exit(cli.main(prog_name="ivr", standalone_mode=True))
