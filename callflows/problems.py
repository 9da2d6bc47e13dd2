"""What is wrong with a flow file, said so a person can find it and fix it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class Problem:
    """One flaw in a flow file: where it is (file, line, node) and what is wrong."""

    file: str
    line: int | None
    node: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.node is None:
            return f"{where}: {self.message}"
        return f"{where}: node '{self.node}': {self.message}"


class FlowInvalid(Exception):
    """A flow that must not be used; `problems` lists every flaw found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def in_reading_order(problems: Iterable[Problem]) -> list[Problem]:
    """Problems by line (file-level ones first), each said once."""
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.file, p.line or 0, p.node or "", p.message))
