"""Each benchmark module runs at its tiniest sizes and reports its figures (no timing is
asserted: these are smoke tests), and `python -m benchmarks` finds and tabulates them."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys

import pytest

from benchmarks import Measurement, Options, discover, routing, webhooks
from benchmarks.__main__ import table
from ivr.settings import PROJECT_ROOT

POSTGRES_URL = os.environ.get(
    "IVR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ENGINES = ("sqlite", "postgresql")


def smoke(engine: str) -> Options:
    return Options(engines=(engine,), smoke=True, postgres_url=POSTGRES_URL)


@functools.cache
def webhook_measurements(engine: str) -> tuple[Measurement, ...]:
    """One smoke run of the webhook benchmark per engine, for the tests that read it."""
    return tuple(webhooks.run(smoke(engine)))


def test_every_benchmark_module_is_found():
    names = [benchmark.name for benchmark in discover()]
    assert {"routing", "webhooks"} <= set(names)
    assert names == sorted(names)
    assert [b.name for b in discover({"routing"})] == ["routing"]


@pytest.mark.parametrize("engine", ENGINES)
def test_routing_reports_each_decision_against_its_target(engine):
    found = routing.run(smoke(engine))
    assert [m.case.split(",")[0] for m in found] == list(routing.DECISIONS)
    for measurement in found:
        assert measurement.benchmark == "routing" and engine in measurement.case
        assert set(measurement.figures) == {"p50 ms", "p99 ms", "mean ms", "max ms",
                                            "decisions", "cold ms"}
        assert measurement.figures["decisions"] == 5  # the warm-up is not counted
        assert measurement.figures["cold ms"] > 0
        assert measurement.target == "p99 <= 5 ms" and measurement.met in (True, False)


@pytest.mark.parametrize("engine", ENGINES)
def test_webhooks_reports_the_bare_ceiling_the_service_ceiling_the_target_rate_and_half(
        engine):
    found = webhook_measurements(engine)
    # PostgreSQL is measured again with several web processes, against as many bare ones.
    served = ["1 web process"] + (["2 web processes"] if engine == "postgresql" else [])
    bares = [m for m in found if "bare Flask" in m.case]
    assert [next(s for s in served if s in bare.case) for bare in bares] == served
    for bare in bares:
        assert bare.figures["webhooks/s"] > 0 and bare.figures["errors"] == 0
    floors = [m for m in found if m.case.startswith("floor:")]
    runs = [m for m in found if m not in bares and m not in floors]
    assert len(runs) == 3 * len(served)
    triples = [runs[n:n + 3] for n in range(0, len(runs), 3)]
    for processes, (ceiling, steady, within) in zip(served, triples, strict=True):
        assert "ceiling" in ceiling.case and engine in ceiling.case
        assert processes in ceiling.case and processes in steady.case
        assert set(ceiling.figures) == {"calls/s", "webhooks/s", "of bare", "p50 ms",
                                        "p99 ms", "errors"}
        assert ceiling.figures["errors"] == 0 and ceiling.figures["calls/s"] > 0
        assert "calls/s (Poisson)" in steady.case
        assert set(steady.figures) == {"calls/s", "webhooks/s", "p50 ms", "p90 ms", "p99 ms",
                                       "max ms", "errors"}
        assert steady.figures["errors"] == 0
        assert all(m.met in (True, False) for m in (ceiling, steady))
        assert ceiling.notes[0].startswith("p99 by webhook: incoming")
        half = max(0.1, round(ceiling.figures["calls/s"] / 2, 1))
        assert within.case.startswith(f"whole calls at half the ceiling, {half:g} calls/s")
        assert processes in within.case and within.target is None
        assert set(within.figures) == set(steady.figures) and within.figures["errors"] == 0
        assert within.notes[-1] in (f"p99 <= 50 ms at this rate: {held}" for held in ("yes", "no"))


@pytest.mark.parametrize("engine", ENGINES)
def test_webhooks_reports_the_floor_without_a_database_and_with_each_transaction(engine):
    found = webhook_measurements(engine)
    floors = [m for m in found if m.case.startswith("floor:")]
    several = [f"one transaction of {webhooks.FLOOR_STATEMENTS[0]} Core statements, {engine}, "
               "2 web processes"] if (
        engine == "postgresql") else []
    assert [m.case.rsplit(", ", 1)[0] for m in floors] == [
        "floor: signature, form and TwiML, no database, 1 web process",
        *(f"floor: one transaction of {n} Core statements, {engine}, 1 web process"
          for n in webhooks.FLOOR_STATEMENTS),
        *(f"floor: {case}" for case in several)]
    for floor in floors:
        processes = "2 web processes" if "2 web processes" in floor.case else "1 web process"
        bare = next(m for m in found if m.case.startswith(f"bare Flask, fixed TwiML, {processes}"))
        assert floor.target is None and floor.figures["errors"] == 0
        share = floor.figures["webhooks/s"] / bare.figures["webhooks/s"]
        assert floor.figures["of bare"] == round(share, 3) > 0
        assert floor.figures["calls/s at 8 a call"] == round(
            floor.figures["webhooks/s"] / 8, 1)


def test_the_floor_writes_its_transaction_and_refuses_a_smaller_one(tmp_path):
    from benchmarks._floor import CALLS, EVENTS, Steps, create_floor_tables

    url = f"sqlite:///{tmp_path / 'floor.db'}"
    create_floor_tables(url)
    steps = Steps(url, 5)
    for node in ("language", "main_menu"):
        steps.run("CA1", node)
    with steps.db.engine.connect() as connection:
        assert connection.execute(CALLS.select()).one()._mapping["path"] == [
            "language", "main_menu"]
        assert [row.data for row in connection.execute(EVENTS.select())] == [
            {"node": "language"}, {"node": "main_menu"}]
    steps.db.dispose()
    with pytest.raises(ValueError, match="at least 3 statements, not 2"):
        Steps(f"sqlite:///{tmp_path / 'other.db'}", 2)


def test_the_table_shows_figures_targets_and_misses():
    text = table([
        Measurement("routing", "a decision", {"p99 ms": 7.5}, target="p99 <= 5 ms", met=False),
        Measurement("webhooks", "bare", {"webhooks/s": 900.0}),
    ])
    assert "routing: a decision\n    p99 ms 7.5\n    target: p99 <= 5 ms  MISSED" in text
    assert "webhooks: bare\n    webhooks/s 900" in text


def test_python_m_benchmarks_runs_the_modules_asked_for(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--smoke", "--only", "routing", "--engines",
         "sqlite", "--json", str(out)],
        cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300, check=False,
        env=os.environ | {"PYTHONPATH": str(PROJECT_ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "routing: an agent comes free (route_agent)" in done.stdout
    saved = json.loads(out.read_text())
    assert saved["machine"]["cpus"] >= 1
    assert {r["benchmark"] for r in saved["results"]} == {"routing"}


def test_an_unknown_module_or_engine_is_refused():
    for args in (["--only", "nosuch"], ["--engines", "oracle"]):
        done = subprocess.run([sys.executable, "-m", "benchmarks", *args], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 2
        assert args[0] in done.stderr


def test_the_load_sends_again_on_a_new_connection_when_a_kept_alive_one_was_closed():
    """A server closes a kept-alive connection that sat idle (gunicorn after 2 s): the next
    request on it fails before any answer, and goes again on a new connection."""
    import asyncio

    from benchmarks._load import Load, Spec

    async def scenario() -> tuple[list[int], dict[str, int]]:
        connections: list[int] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            connections.append(len(connections) + 1)
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
            writer.close()  # kept alive for the client, closed here: the idle timeout

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        load = Load(Spec(base=f"http://127.0.0.1:{port}", auth_token="t", account_sid="AC1"))
        answers = []
        for _ in range(2):
            answer, _done = await load.request("incoming", "/voice/incoming", {"A": "1"}, 0.0)
            answers.append(answer)
            await asyncio.sleep(0.05)
        server.close()
        assert answers == [b"ok", b"ok"]
        return connections, load.errors

    connections, errors = asyncio.run(scenario())
    assert connections == [1, 2] and errors == {}
