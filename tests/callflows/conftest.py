"""Fixtures for the flow tests: flow files written to a temporary folder, their line numbers,
a fixed business calendar and fixed moments (no real clock anywhere)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from callflows.engine import CallContext
from callflows.loader import load_flow
from callflows.schema import Flow
from ivr.calendar import BusinessCalendar

SUPPORT_FLOW = Path(__file__).resolve().parents[2] / "callflows" / "support.yaml"


def flow_text(text: str) -> str:
    """A flow written indented in a test, as it would be in a file (line 1 first)."""
    return textwrap.dedent(text).lstrip("\n")


def line_number(text: str, marker: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th line of `text` that contains `marker`."""
    found = [n for n, line in enumerate(flow_text(text).splitlines(), 1) if marker in line]
    return found[occurrence - 1]


@pytest.fixture
def write_flow(tmp_path: Path) -> Callable[..., Path]:
    """Write a flow text (indented as in a test) to a file; returns its path."""

    def write(text: str, name: str = "flow.yaml") -> Path:
        path = tmp_path / name
        path.write_text(flow_text(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def line_of() -> Callable[..., int]:
    """line_of(text, marker, occurrence=1): the line in the written file holding `marker`."""
    return line_number


@pytest.fixture
def support_path() -> Path:
    return SUPPORT_FLOW


@pytest.fixture(scope="session")
def support() -> Flow:
    return load_flow(SUPPORT_FLOW)


@pytest.fixture
def calendar() -> BusinessCalendar:
    return BusinessCalendar.from_spec(
        timezone="America/New_York", hours="mon-fri 08:00-18:00", holidays_country="US"
    )


@pytest.fixture
def open_now() -> datetime:
    """Monday 2026-03-09, 11:00 in New York: open."""
    return datetime(2026, 3, 9, 15, 0, tzinfo=UTC)


@pytest.fixture
def closed_now() -> datetime:
    """Monday 2026-03-09, 20:00 in New York: closed until Tuesday 08:00."""
    return datetime(2026, 3, 10, 0, 0, tzinfo=UTC)


@pytest.fixture
def caller() -> Callable[..., CallContext]:
    """caller(**fields): a CallContext for a caller at +12025550143 unless told otherwise."""

    def make(**values: object) -> CallContext:
        values.setdefault("caller_number", "+12025550143")
        return CallContext(**values)  # type: ignore[arg-type]

    return make
