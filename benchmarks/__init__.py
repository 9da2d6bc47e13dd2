"""Benchmarks: `python -m benchmarks` (`make bench`) runs every module of this package and
prints one table.

Adding a benchmark: put a module here (not starting with `_`) that defines

    TITLE = "what it measures"

    def run(options: Options) -> list[Measurement]: ...

`options.smoke` asks for the tiniest sizes (the test suite runs each module that way, with
no timing assertions); `options.engines` names the databases to run on. A measurement that
has a target says whether it met it: a target missed is reported, never hidden.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

ENGINES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Options:
    engines: tuple[str, ...] = ENGINES
    smoke: bool = False  # tiny sizes: does it run and report, not how fast
    postgres_url: str = ""  # default: IVR_BENCH_POSTGRES_URL, IVR_TEST_POSTGRES_URL, local


@dataclass
class Measurement:
    """One line of the table: what was measured (`case`), its figures in order, and the
    target it is held to, if any."""

    benchmark: str
    case: str
    figures: dict[str, Any]
    target: str | None = None
    met: bool | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "case": self.case,
            "figures": self.figures,
            "target": self.target,
            "met": self.met,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    run: Callable[[Options], list[Measurement]]


def discover(only: set[str] | None = None) -> list[Benchmark]:
    """Every benchmark module of this package, by name (or those in `only`)."""
    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_") or (only and info.name not in only):
            continue
        module: ModuleType = importlib.import_module(f"{__name__}.{info.name}")
        if callable(getattr(module, "run", None)):
            found.append(Benchmark(info.name, getattr(module, "TITLE", info.name), module.run))
    return found
