"""Running `ivr simulate` in-process against a live service (the root conftest's
`live_factory`), with the settings the command reads from the environment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ivr.cli import cli

# Fast enough for tests; real seconds of wrap-up would be 50 times longer in simulated time.
SPEED = 50.0


@pytest.fixture
def simulator(tmp_path: Path) -> Callable[..., Result]:
    """`ivr simulate ARGS` with the environment of a service at `url` on `database_url`."""

    def run(*args: str, url: str = "http://127.0.0.1:9", database_url: str = "") -> Result:
        env = {
            "IVR_PUBLIC_URL": url,
            "IVR_VAR_DIR": str(tmp_path / "cli-var"),
            "IVR_DATABASE_URL": database_url,
            "IVR_VOSK_MODEL": "none",
        }
        return CliRunner().invoke(cli, ["simulate", *args], env=env, catch_exceptions=False)

    return run


@pytest.fixture
def service(live_factory: Callable[..., Any]) -> Any:
    """The service with its carrier, fast, without wrap-up (it runs on the wall clock)."""
    return live_factory(sim_speed=SPEED, wrap_up_seconds=0, vosk_model="none")
