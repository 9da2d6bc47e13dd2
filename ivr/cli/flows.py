"""`ivr flows check PATH`: the flow linter, the same one the service runs before loading."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def flows() -> None:
    """Call flows."""


@flows.command("check")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--max-menu-depth", type=int, default=None, help="Override the flow's limit.")
@click.option("--max-menu-options", type=int, default=None, help="Override the flow's limit.")
def check(
    paths: tuple[Path, ...], max_menu_depth: int | None, max_menu_options: int | None
) -> None:
    """Check flow files; print each problem with file, line and node. Exit 1 if any."""
    from callflows.linter import check_flow

    failed = False
    for path in paths:
        problems = check_flow(
            path, max_menu_depth=max_menu_depth, max_menu_options=max_menu_options
        )
        for problem in problems:
            click.echo(str(problem), err=True)
        if problems:
            failed = True
        else:
            click.echo(f"{path}: ok")
    if failed:
        raise SystemExit(1)
