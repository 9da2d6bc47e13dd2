"""CPU per webhook of whole inbound calls, in one process, without a server: the calls of
the webhook benchmark (benchmarks/_load.py: signed the same way, same paths and answers)
through the Flask test client, one after another, with a dispatcher round after each
webhook that pokes it, as `ivr serve` runs one. Prints CPU time (`time.process_time`) per
call and per webhook path, so other work on the machine disturbs the figures little.

    python -m benchmarks.profile_webhooks [--calls 200] [--engine sqlite] [--profile FILE]

With --profile, the calls run under cProfile and the stats go to FILE (pstats format); the
top functions by cumulative time are printed too.

Not part of `python -m benchmarks` (it measures CPU, not throughput)."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import event
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from benchmarks._databases import fresh_database
from ivr.settings import SIM_ACCOUNT_SID, SIM_AUTH_TOKEN, Settings, validate

PUBLIC_URL = "http://127.0.0.1:5999"
ANSWERS = ["1", "", "1"]
WAIT_POLLS = 2


class Harness:
    def __init__(self, database_url: str, var_dir: Path) -> None:
        from ivr.app import create_app
        from ivr.dispatcher import Dispatcher
        from ivr.jobs import Timers

        settings = validate(Settings(
            database_url=database_url, var_dir=var_dir, business_hours="always",
            vosk_model="none", public_url=PUBLIC_URL,
        ))
        self.app = create_app(settings)
        self.rt = self.app.extensions["ivr"]
        # Timers are stored as `ivr serve` stores them, but none runs: this process does not
        # lead, so the figures hold only the webhooks' own work.
        self.timers = Timers(self.rt)
        self.rt.timers = self.timers
        self.timers.scheduler.start(paused=True)
        # Not started: a round runs after each webhook that pokes it, as its thread would.
        self.dispatcher = Dispatcher(self.rt)
        self.rt.dispatcher = self.dispatcher
        self.client = self.app.test_client()
        self.validator = RequestValidator(SIM_AUTH_TOKEN)
        self.cpu: dict[str, float] = {}
        self.count: dict[str, int] = {}
        # SQL statements and ORM flushes per step: the same on any machine, however busy.
        self.statements: dict[str, int] = {}
        self.flushes: dict[str, int] = {}
        self.step = ""
        event.listen(self.rt.db.engine, "before_cursor_execute", self._statement)
        event.listen(Session, "after_flush", self._flush)

    def _statement(self, *_args: Any) -> None:
        self.statements[self.step] = self.statements.get(self.step, 0) + 1

    def _flush(self, *_args: Any) -> None:
        self.flushes[self.step] = self.flushes.get(self.step, 0) + 1

    def close(self) -> None:
        event.remove(Session, "after_flush", self._flush)
        self.timers.scheduler.shutdown(wait=False)
        self.rt.db.dispose()

    def _charge(self, step: str, started: float) -> None:
        self.cpu[step] = self.cpu.get(step, 0.0) + time.process_time() - started
        self.count[step] = self.count.get(step, 0) + 1

    def post(self, step: str, path: str, params: dict[str, str]) -> bytes:
        signature = self.validator.compute_signature(PUBLIC_URL + path, params)
        self.step = step
        started = time.process_time()
        response = self.client.post(path, data=urlencode(params),
                                    content_type="application/x-www-form-urlencoded",
                                    headers={"X-Twilio-Signature": signature})
        self._charge(step, started)
        if response.status_code >= 400:
            raise RuntimeError(f"HTTP {response.status_code} from {path}: {response.data!r}")
        if self.dispatcher._wake.is_set():
            self.dispatcher._wake.clear()
            self.step = "dispatcher round"
            started = time.process_time()
            self.dispatcher.run_once()
            self._charge("dispatcher round", started)
        return response.data

    def call(self, index: int) -> None:
        sid = f"CA{index:032x}"
        caller = f"+1555{index % 10**7:07d}"
        base = {"CallSid": sid, "AccountSid": SIM_ACCOUNT_SID, "From": caller,
                "To": "+15005550006", "Caller": caller, "Called": "+15005550006",
                "Direction": "inbound", "ApiVersion": "2010-04-01"}
        body = self.post("incoming", "/voice/incoming", base | {"CallStatus": "ringing"})
        for number, digits in enumerate(ANSWERS):
            step = ("language", "case question", "main menu")[number]
            body = self.post(step, _gather_action(body),
                             base | {"CallStatus": "in-progress", "Digits": digits})
        wait, action = _enqueue(body)
        queue = {"QueueSid": "QU" + "0" * 32, "QueuePosition": "1", "AvgQueueTime": "0",
                 "CurrentQueueSize": "1", "MaxQueueSize": "1000"}
        for poll in range(WAIT_POLLS):
            self.post("wait", wait, base | queue | {"CallStatus": "in-progress",
                                                    "QueueTime": str(30 * poll)})
        self.post("result", action, base | {
            "CallStatus": "completed", "QueueResult": "hangup", "QueueSid": queue["QueueSid"],
            "QueueTime": str(30 * WAIT_POLLS)})
        self.post("status", "/voice/status", base | {
            "CallStatus": "completed", "CallDuration": str(30 * WAIT_POLLS + 20),
            "Duration": "1"})


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _gather_action(body: bytes) -> str:
    gather = ET.fromstring(body).find("Gather")
    if gather is None or not gather.get("action"):
        raise RuntimeError(f"no <Gather action> where a menu was expected: {body!r}")
    return _path(gather.get("action", ""))


def _enqueue(body: bytes) -> tuple[str, str]:
    enqueue = ET.fromstring(body).find("Enqueue")
    if enqueue is None:
        raise RuntimeError(f"no <Enqueue> after the menus: {body!r}")
    return _path(enqueue.get("waitUrl", "")), _path(enqueue.get("action", ""))


def measure(*, calls: int, warmup: int, engine: str, profile: str | None) -> dict[str, Any]:
    with fresh_database(engine) as url, tempfile.TemporaryDirectory() as var:
        harness = Harness(url, Path(var))
        try:
            for index in range(warmup):
                harness.call(index)
            for figures in (harness.cpu, harness.count, harness.statements, harness.flushes):
                figures.clear()
            profiler = cProfile.Profile() if profile else None
            started = time.process_time()
            if profiler:
                profiler.enable()
            for index in range(warmup, warmup + calls):
                harness.call(index)
            if profiler:
                profiler.disable()
            total = time.process_time() - started
        finally:
            harness.close()
    if profiler and profile:
        profiler.dump_stats(profile)
    return {"calls": calls, "total": total, "cpu": harness.cpu, "count": harness.count,
            "statements": harness.statements, "flushes": harness.flushes}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile_webhooks")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--engine", default="sqlite")
    parser.add_argument("--profile", default=None, help="write cProfile stats here")
    args = parser.parse_args()
    result = measure(calls=args.calls, warmup=args.warmup, engine=args.engine,
                 profile=args.profile)
    calls, total = result["calls"], result["total"]
    print(f"{calls} calls on {args.engine}: {1000 * total / calls:.2f} ms CPU per call, "
          f"{1000 * total / (8 * calls):.2f} ms per webhook (dispatcher rounds included)")
    statements, flushes = result["statements"], result["flushes"]
    print(f"  {sum(statements.values()) / calls:.1f} SQL statements and "
          f"{sum(flushes.values()) / calls:.1f} flushes per call")
    for step, cpu in sorted(result["cpu"].items(), key=lambda item: -item[1]):
        count = result["count"][step]
        print(f"  {step:18} {1000 * cpu / count:7.2f} ms each  x{count:5}  "
              f"{100 * cpu / total:5.1f}%  {statements.get(step, 0) / count:5.1f} statements"
              f"  {flushes.get(step, 0) / count:4.1f} flushes")
    if args.profile:
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(40)


if __name__ == "__main__":
    main()
