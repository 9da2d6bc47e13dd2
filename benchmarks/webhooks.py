"""Webhook throughput and latency for whole inbound calls (incoming, three answers: the
language, the case question and the main menu; the enqueue, two wait polls, the queue
result, the status callback), signed as the carrier signs them, from a load generator in a
process of its own against `ivr serve` in another: the ceiling (as many calls as it takes),
the target's rate, and half the ceiling (the latency when requests do not queue); and the
same requests against a bare Flask app answering fixed TwiML, served the same way: the
ceiling of the server and the machine, measured in the same run. PostgreSQL is measured a
second time with several web processes (`ivr serve --workers`), against the bare app served
by as many.

Between the two, the floor (`benchmarks._floor`): the same requests against a minimal
webhook that checks the signature and answers TwiML, without a database and then with one
transaction of a few SQLAlchemy Core statements on each engine (on PostgreSQL the smallest
also with several processes). It has no target: it says how much of the bare ceiling the
stack itself leaves to any webhook that writes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from benchmarks import Measurement, Options
from benchmarks._databases import fresh_database
from ivr.settings import PROJECT_ROOT, SIM_ACCOUNT_SID, SIM_AUTH_TOKEN

TITLE = "webhooks: whole inbound calls through `ivr serve`, and a bare Flask ceiling"
IVR = str(Path(sys.executable).parent / "ivr")
TARGET_CALLS = 100.0  # new calls a second through the whole inbound path
TARGET_P99_MS = 50.0
TARGET_SHARE = 0.25  # of the bare ceiling's webhooks a second
REQUESTS_PER_CALL = 8


@dataclass(frozen=True)
class Sizes:
    concurrency: int
    ceiling_seconds: float
    rate: float
    rate_seconds: float
    warmup: float


FULL = Sizes(concurrency=16, ceiling_seconds=12, rate=TARGET_CALLS, rate_seconds=20, warmup=2)
SMOKE = Sizes(concurrency=2, ceiling_seconds=1, rate=5, rate_seconds=1, warmup=0)


# PostgreSQL is measured again with this many web processes (`ivr serve --workers`), against
# the bare app served by as many; SQLite has one writer, and `ivr serve` refuses more.
SEVERAL_WORKERS = 2
# The floor's transactions, in statements: a menu step's least (read, write, log), and about
# what the service's webhooks run on average (74 statements in a call of 8 webhooks, by
# `python -m benchmarks.profile_webhooks`).
FLOOR_STATEMENTS = (3, 9)
# The second run at a rate against one service numbers its calls from here, past the first's.
OPEN_CALLS_APART = 500_000


def run(options: Options) -> list[Measurement]:
    sizes = SMOKE if options.smoke else FULL
    runs = [(engine, 1) for engine in options.engines]
    if "postgresql" in options.engines:
        runs.append(("postgresql", SEVERAL_WORKERS))
    bare: dict[int, dict[str, Any]] = {}
    found = []
    for workers in sorted({workers for _, workers in runs}):
        with _server([sys.executable, "-m", "benchmarks._bare"], env=_bare_env(),
                     workers=workers) as url:
            bare[workers] = _load(url, sizes, mode="closed", follow=False)
        found.append(_bare_measurement(bare[workers], sizes, workers))
    found.extend(_floors(options, sizes, bare))
    for engine, workers in runs:
        with fresh_database(engine, postgres=options.postgres_url) as database_url:
            with _server([IVR, "serve", "--host", "127.0.0.1"],
                         env=_service_env(database_url), workers=workers) as url:
                ceiling = _load(url, sizes, mode="closed", follow=True)
                steady = _load(url, sizes, mode="open", follow=True)
                half = max(0.1, round(ceiling["calls_per_second"] / 2, 1))
                within = _load(url, sizes, mode="open", follow=True, rate=half,
                               first_call=OPEN_CALLS_APART)
        found.append(_ceiling_measurement(engine, ceiling, bare[workers], sizes, workers))
        found.append(_rate_measurement(engine, steady, sizes, workers))
        found.append(_within_measurement(engine, within, half, workers))
    return found


def _served(workers: int) -> str:
    return "1 web process" if workers == 1 else f"{workers} web processes"


def _floors(options: Options, sizes: Sizes, bare: dict[int, dict[str, Any]]
            ) -> list[Measurement]:
    """The floor without a database, then with each transaction size on each engine; on
    PostgreSQL the smallest once more with several web processes, against as many bare."""
    runs: list[tuple[str, int, int]] = [("", 0, 1)]
    runs += [(engine, statements, 1) for engine in options.engines
             for statements in FLOOR_STATEMENTS]
    if "postgresql" in options.engines:
        runs.append(("postgresql", FLOOR_STATEMENTS[0], SEVERAL_WORKERS))
    return [_floor(engine, statements, workers, options, sizes, bare[workers])
            for engine, statements, workers in runs]


def _floor(engine: str, statements: int, workers: int, options: Options, sizes: Sizes,
           bare: dict[str, Any]) -> Measurement:
    command = [sys.executable, "-m", "benchmarks._floor"]
    if not engine:
        with _server(command, env=_bare_env(), after=["0"]) as url:
            result = _load(url, sizes, mode="closed", follow=False)
        return _floor_measurement("signature, form and TwiML, no database", result, bare,
                                  sizes, workers)
    with fresh_database(engine, postgres=options.postgres_url) as database_url:
        with _server(command, env=_bare_env(), workers=workers,
                     after=[str(statements), database_url]) as url:
            result = _load(url, sizes, mode="closed", follow=False)
    return _floor_measurement(f"one transaction of {statements} Core statements, {engine}",
                              result, bare, sizes, workers)


# -- the measurements ------------------------------------------------------------------------


def _floor_measurement(what: str, result: dict[str, Any], bare: dict[str, Any],
                       sizes: Sizes, workers: int) -> Measurement:
    latency = result["latency_ms"]["all"]
    per_second = result["requests_per_second"]
    return Measurement(
        "webhooks",
        f"floor: {what}, {_served(workers)}, {sizes.concurrency} connections",
        {"webhooks/s": per_second,
         "of bare": round(per_second / bare["requests_per_second"], 3)
         if bare["requests_per_second"] else 0.0,
         "calls/s at 8 a call": round(per_second / REQUESTS_PER_CALL, 1),
         "p50 ms": latency.get("p50"), "p99 ms": latency.get("p99"),
         "errors": sum(result["errors"].values())},
    )


def _bare_measurement(bare: dict[str, Any], sizes: Sizes, workers: int) -> Measurement:
    latency = bare["latency_ms"]["all"]
    return Measurement(
        "webhooks",
        f"bare Flask, fixed TwiML, {_served(workers)}, {sizes.concurrency} connections",
        {"webhooks/s": bare["requests_per_second"], "p50 ms": latency.get("p50"),
         "p99 ms": latency.get("p99"), "errors": sum(bare["errors"].values())},
    )


def _ceiling_measurement(engine: str, result: dict[str, Any], bare: dict[str, Any],
                         sizes: Sizes, workers: int) -> Measurement:
    latency = result["latency_ms"]["all"]
    share = (result["requests_per_second"] / bare["requests_per_second"]
             if bare["requests_per_second"] else 0.0)
    met = (result["calls_per_second"] >= TARGET_CALLS and share >= TARGET_SHARE
           and not result["errors"])
    return Measurement(
        "webhooks",
        f"whole calls, ceiling, {engine}, {_served(workers)}, {sizes.concurrency} connections",
        {"calls/s": result["calls_per_second"], "webhooks/s": result["requests_per_second"],
         "of bare": round(share, 3), "p50 ms": latency.get("p50"),
         "p99 ms": latency.get("p99"), "errors": sum(result["errors"].values())},
        target=f">= {TARGET_CALLS:g} calls/s and >= {TARGET_SHARE:g} of bare",
        met=met, notes=_step_notes(result),
    )


def _rate_measurement(engine: str, result: dict[str, Any], sizes: Sizes,
                      workers: int) -> Measurement:
    latency = result["latency_ms"]["all"]
    p99 = latency.get("p99")
    kept_up = result["calls_per_second"] >= 0.95 * sizes.rate
    met = p99 is not None and p99 <= TARGET_P99_MS and kept_up and not result["errors"]
    return Measurement(
        "webhooks",
        f"whole calls at {sizes.rate:g} calls/s (Poisson), {engine}, {_served(workers)}",
        {"calls/s": result["calls_per_second"], "webhooks/s": result["requests_per_second"],
         "p50 ms": latency.get("p50"), "p90 ms": latency.get("p90"), "p99 ms": p99,
         "max ms": latency.get("max"), "errors": sum(result["errors"].values())},
        target=f"p99 <= {TARGET_P99_MS:g} ms at {sizes.rate:g} calls/s", met=met,
        notes=_step_notes(result),
    )


def _within_measurement(engine: str, result: dict[str, Any], rate: float,
                        workers: int) -> Measurement:
    """The latency at a load the service carries (half its ceiling, measured just before):
    what a caller waits for each answer when requests do not queue. No target of its own."""
    latency = result["latency_ms"]["all"]
    p99 = latency.get("p99")
    held = p99 is not None and p99 <= TARGET_P99_MS and not result["errors"]
    return Measurement(
        "webhooks",
        f"whole calls at half the ceiling, {rate:g} calls/s (Poisson), {engine}, "
        f"{_served(workers)}",
        {"calls/s": result["calls_per_second"], "webhooks/s": result["requests_per_second"],
         "p50 ms": latency.get("p50"), "p90 ms": latency.get("p90"), "p99 ms": p99,
         "max ms": latency.get("max"), "errors": sum(result["errors"].values())},
        notes=[*_step_notes(result),
               f"p99 <= {TARGET_P99_MS:g} ms at this rate: {'yes' if held else 'no'}"],
    )


def _step_notes(result: dict[str, Any]) -> list[str]:
    steps = {k: v for k, v in result["latency_ms"].items() if k != "all" and v.get("count")}
    notes = ["p99 by webhook: " + ", ".join(f"{k} {v['p99']} ms" for k, v in steps.items())]
    if result["errors"]:
        notes.append(f"errors: {result['errors']}")
    return notes


# -- processes -------------------------------------------------------------------------------


def _load(url: str, sizes: Sizes, *, mode: str, follow: bool,
          rate: float | None = None, first_call: int = 1) -> dict[str, Any]:
    """Run the load generator in its own process and read its summary (`open` mode: new
    calls at `rate` a second, the sizes' rate unless given, numbered from `first_call`)."""
    spec = {
        "base": url, "auth_token": SIM_AUTH_TOKEN, "account_sid": SIM_ACCOUNT_SID,
        "mode": mode, "concurrency": sizes.concurrency if mode == "closed" else 64,
        "rate": sizes.rate if rate is None else rate, "warmup": sizes.warmup,
        "follow": follow, "first_call": first_call,
        "duration": sizes.ceiling_seconds if mode == "closed" else sizes.rate_seconds,
    }
    done = subprocess.run([sys.executable, "-m", "benchmarks._load", json.dumps(spec)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, check=False,
                          timeout=spec["duration"] + 300)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server(command: list[str], *, env: dict[str, str], workers: int = 1,
            after: list[str] | None = None) -> Iterator[str]:
    """Start a server of `workers` web processes on a free port (a benchmark app takes the
    port, the workers and then `after` as its arguments); its URL while the block runs;
    stopped after."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    args = command + (["--port", str(port), "--workers", str(workers)] if command[0] == IVR
                      else [str(port), str(workers), *(after or [])])
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(args, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   env=env | {"IVR_PUBLIC_URL": url})
        try:
            _wait_healthy(url, process, log)
            yield url
        finally:
            # SIGTERM, not SIGINT: a shell starts a background job (`make bench &`) with
            # SIGINT ignored, and its children inherit that; `ivr serve` stops on SIGTERM.
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_healthy(url: str, process: subprocess.Popen, log: Any) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server stopped: {log.read().decode()[-2000:]}")
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"no answer from {url}/healthz within a minute")


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env["PYTHONPATH"] = str(PROJECT_ROOT)
    return env


def _bare_env() -> dict[str, str]:
    return _base_env()


def _service_env(database_url: str) -> dict[str, str]:
    folder = tempfile.mkdtemp(prefix="ivr-bench-var-")
    return _base_env() | {
        "IVR_DATABASE_URL": database_url,
        "IVR_VAR_DIR": folder,
        "IVR_BUSINESS_HOURS": "always",
        "IVR_VOSK_MODEL": "none",
    }
