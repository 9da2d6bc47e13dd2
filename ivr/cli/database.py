"""`ivr db upgrade` and `ivr demo`."""

from __future__ import annotations

import click

from ivr.cli.context import CliContext, pass_cli


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@pass_cli
def upgrade(cli: CliContext, revision: str) -> None:
    """Migrate the database (IVR_DATABASE_URL) to the latest schema."""
    from ivr import schema

    settings = cli.settings()
    schema.upgrade(settings.database_url, revision)
    click.echo(f"database at {_safe(settings.database_url)} is at {revision}")


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command()
@click.option("--available/--offline", default=True, show_default=True,
              help="Sign the demo agents in (the offline carrier answers their softphones).")
@pass_cli
def demo(cli: CliContext, available: bool) -> None:
    """Load the demo agents, a supervisor, and the skills the flow uses (idempotent)."""
    from ivr import demo as demo_data

    runtime = cli.runtime()
    with runtime.db.transaction() as session:
        created = demo_data.load(session, flow=runtime.flows.current(), now=runtime.clock.now(),
                                 available=available)
    for line in created or ["demo data already loaded"]:
        click.echo(line)
