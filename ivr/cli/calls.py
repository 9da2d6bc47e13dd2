"""`ivr call`: a phone in your terminal, calling the running service through its carrier."""

from __future__ import annotations

import sys

import click

from ivr.cli.context import CliContext, pass_cli


@click.command()
@click.option("--url", default=None, help="The running service (default: IVR_PUBLIC_URL).")
@click.option(
    "--from", "from_", default="+15555550100", show_default=True, help="The caller ID to call from."
)
@pass_cli
def call(cli: CliContext, url: str | None, from_: str) -> None:
    """Call the support number: hear the prompts, type keys (1, 0, 123#) or words, `hangup`."""
    from ivr.sim.phone import run_phone

    base = url or cli.settings().public_url
    raise SystemExit(run_phone(base.rstrip("/"), from_, stdin=sys.stdin, stdout=sys.stdout))
