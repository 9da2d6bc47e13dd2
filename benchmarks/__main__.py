"""`python -m benchmarks [--only NAME,...] [--engines sqlite,postgresql] [--smoke] [--json
FILE]`: run the benchmarks and print one table (see benchmarks/__init__.py to add one)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

from benchmarks import ENGINES, Measurement, Options, discover


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated module names")
    parser.add_argument("--engines", default=",".join(ENGINES), help="sqlite,postgresql")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: does it run")
    parser.add_argument("--json", dest="json_path", default=None, help="also write JSON here")
    args = parser.parse_args(argv)
    engines = tuple(e for e in args.engines.split(",") if e)
    unknown = set(engines) - set(ENGINES)
    if unknown:
        parser.error(f"--engines: unknown {', '.join(sorted(unknown))}; use {', '.join(ENGINES)}")
    only = {name for name in args.only.split(",") if name} or None
    benchmarks = discover(only)
    if only and len(benchmarks) != len(only):
        missing = only - {b.name for b in benchmarks}
        parser.error(f"--only: no benchmark module {', '.join(sorted(missing))}")
    options = Options(engines=engines, smoke=args.smoke)
    results: list[Measurement] = []
    for benchmark in benchmarks:
        print(f"running {benchmark.name}: {benchmark.title}", file=sys.stderr, flush=True)
        started = time.monotonic()
        results.extend(benchmark.run(options))
        print(f"  {benchmark.name} took {time.monotonic() - started:.0f} s", file=sys.stderr)
    print(table(results))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as out:
            json.dump({"machine": machine(), "results": [r.to_json() for r in results]}, out,
                      indent=2)
    return 0


def table(results: list[Measurement]) -> str:
    """One block per measurement: its figures on one line, the target and whether it was
    met, and its notes."""
    lines = [f"machine: {machine()['summary']}", ""]
    for result in results:
        verdict = "" if result.met is None else ("  MET" if result.met else "  MISSED")
        lines.append(f"{result.benchmark}: {result.case}")
        lines.append("    " + "  ".join(f"{k} {_value(v)}" for k, v in result.figures.items()))
        if result.target:
            lines.append(f"    target: {result.target}{verdict}")
        lines.extend(f"    {note}" for note in result.notes)
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpus = os.cpu_count()
    summary = f"{cpus} CPUs, Python {platform.python_version()}, {platform.platform()}"
    return {"cpus": cpus, "python": platform.python_version(), "summary": summary}


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return "-" if value is None else str(value)


if __name__ == "__main__":
    sys.exit(main())
