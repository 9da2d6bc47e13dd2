"""Loading a flow: read, check with the linter, and hand out only flows with no problem."""

from __future__ import annotations

from pathlib import Path

from callflows.linter import lint
from callflows.problems import FlowInvalid, Problem
from callflows.reader import read_flow
from callflows.schema import Flow

__all__ = ["FlowInvalid", "Problem", "load_flow", "parse_flow"]


def load_flow(path: str | Path) -> Flow:
    """The flow in the file at `path`. Raises FlowInvalid listing every problem when the linter
    finds any (a flow that fails is never loaded), OSError when the file cannot be read."""
    text = Path(path).read_text(encoding="utf-8")
    return parse_flow(text, filename=str(path))


def parse_flow(text: str, *, filename: str) -> Flow:
    """The flow written in `text` (`filename` names it in problems). Raises FlowInvalid."""
    reading = read_flow(text, filename=filename)
    problems = lint(reading)
    if problems or reading.flow is None:
        raise FlowInvalid(problems)
    return reading.flow
