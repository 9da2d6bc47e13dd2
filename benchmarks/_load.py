"""The load generator, run in a process of its own (`python -m benchmarks._load SPEC_JSON`):
virtual carriers placing whole inbound calls over keep-alive HTTP/1.1, each webhook signed as
the carrier signs it, and the latency of every webhook. Prints one JSON object.

A call: /voice/incoming, one answer per `answers` at each Gather (following the Gather
actions the service hands out; the default: English, no case number, billing), the
Enqueue's waitUrl `wait_polls` times, the Enqueue action with QueueResult=hangup and the
status callback (completed): the caller gave up, so the queue stays the size of a steady
state. With `follow` false (the bare endpoint) the same requests go to the same paths
without reading the answers.

Modes: `closed`: `concurrency` callers, each placing calls back to back (the ceiling);
`open`: new calls at `rate` a second (Poisson), whatever the answers' speed, latency counted
from when each request was due, so a slow server cannot hide its queueing."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from twilio.request_validator import RequestValidator

FIXED_PATHS = {
    "menu": ["/voice/menu/language?attempt=1", "/voice/case/case_check?case=",
             "/voice/menu/main_menu?attempt=1"],
    "wait": "/voice/queue/wait",
    "result": "/voice/queue/result",
}


class CallFailed(Exception):
    """The service answered something a carrier could not go on with."""


@dataclass
class Spec:
    base: str
    auth_token: str
    account_sid: str
    number: str = "+15005550006"
    mode: str = "closed"
    concurrency: int = 16
    rate: float = 100.0
    duration: float = 10.0
    warmup: float = 1.0
    follow: bool = True
    # English; no case number (an empty answer at the case question); billing.
    answers: list[str] = field(default_factory=lambda: ["1", "", "1"])
    wait_polls: int = 2
    seed: int = 1
    # `open` mode numbers its calls (and so their CallSids) from here: two runs against one
    # service must not place calls it already knows (it resumes those instead of starting).
    first_call: int = 1


class Connection:
    """One keep-alive HTTP/1.1 connection: a request at a time."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, host: str, path: str, body: bytes, signature: str) -> tuple[int, bytes]:
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\n"
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n"
                "User-Agent: TwilioProxy/1.1 (ivr benchmark)\r\n\r\n")
        self.writer.write(head.encode("latin-1") + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("the server closed the connection")
        status = int(status_line.split()[1])
        length, chunked, close = 0, False, False
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
            elif name == "connection" and value.lower() == "close":
                close = True
        data = await self._chunked() if chunked else await self.reader.readexactly(length)
        if close:
            self.close()
        return status, data

    async def _chunked(self) -> bytes:
        parts = []
        while (size := int((await self.reader.readline()).split(b";")[0], 16)) > 0:
            parts.append(await self.reader.readexactly(size))
            await self.reader.readline()
        await self.reader.readline()
        return b"".join(parts)

    @property
    def closed(self) -> bool:
        return self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class Load:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        parts = urlsplit(spec.base)
        self.host = parts.netloc
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.validator = RequestValidator(spec.auth_token)
        self.idle: list[Connection] = []
        self.slots = asyncio.Semaphore(spec.concurrency)
        self.latencies: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.calls = {"started": 0, "completed": 0, "failed": 0}
        self.measuring_from = 0.0
        self.measured_requests = 0
        self.measured_calls = 0

    # -- one call --------------------------------------------------------------------------

    async def call(self, index: int, due: float) -> None:
        sid = f"CA{index:032x}"
        caller = f"+1555{index % 10**7:07d}"
        base = {"CallSid": sid, "AccountSid": self.spec.account_sid, "From": caller,
                "To": self.spec.number, "Caller": caller, "Called": self.spec.number,
                "Direction": "inbound", "ApiVersion": "2010-04-01"}
        self.calls["started"] += 1
        try:
            due = await self._call(base, due)
        except (CallFailed, ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            self.calls["failed"] += 1
            kind = type(exc).__name__ if not isinstance(exc, CallFailed) else str(exc)
            self.errors[kind] = self.errors.get(kind, 0) + 1
            return
        self.calls["completed"] += 1
        if due >= self.measuring_from:
            self.measured_calls += 1

    async def _call(self, base: dict[str, str], due: float) -> float:
        spec = self.spec
        body, due = await self.request("incoming", "/voice/incoming",
                                       base | {"CallStatus": "ringing"}, due)
        for number, answer in enumerate(spec.answers):
            path = self._gather_action(body) if spec.follow else FIXED_PATHS["menu"][number % 3]
            body, due = await self.request("menu", path, base | {
                "CallStatus": "in-progress", "Digits": answer}, due)
        wait, action = (self._enqueue(body) if spec.follow
                        else (FIXED_PATHS["wait"], FIXED_PATHS["result"]))
        queue = {"QueueSid": "QU" + "0" * 32, "QueuePosition": "1", "AvgQueueTime": "0",
                 "CurrentQueueSize": "1", "MaxQueueSize": "1000"}
        for poll in range(spec.wait_polls):
            _, due = await self.request("wait", wait, base | queue | {
                "CallStatus": "in-progress", "QueueTime": str(30 * poll)}, due)
        _, due = await self.request("result", action, base | {
            "CallStatus": "completed", "QueueResult": "hangup", "QueueSid": queue["QueueSid"],
            "QueueTime": str(30 * spec.wait_polls)}, due)
        duration = str(30 * spec.wait_polls + 20)
        _, due = await self.request("status", "/voice/status", base | {
            "CallStatus": "completed", "CallDuration": duration, "Duration": "1"}, due)
        return due

    # -- TwiML -----------------------------------------------------------------------------

    def _path(self, url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def _gather_action(self, body: bytes) -> str:
        gather = ET.fromstring(body).find("Gather")
        if gather is None or not gather.get("action"):
            raise CallFailed("no <Gather action> where a menu was expected")
        return self._path(gather.get("action", ""))

    def _enqueue(self, body: bytes) -> tuple[str, str]:
        enqueue = ET.fromstring(body).find("Enqueue")
        if enqueue is None or not enqueue.get("waitUrl") or not enqueue.get("action"):
            raise CallFailed("no <Enqueue waitUrl action> after the menus")
        return self._path(enqueue.get("waitUrl", "")), self._path(enqueue.get("action", ""))

    # -- HTTP ------------------------------------------------------------------------------

    async def request(self, step: str, path: str, params: dict[str, str],
                      due: float) -> tuple[bytes, float]:
        """POST the signed form; the latency runs from `due` (when the carrier wanted to
        send it) to the end of the answer. Returns the answer and when it ended."""
        body = urlencode(params).encode()
        signature = self.validator.compute_signature(self.spec.base + path, params)
        async with self.slots:
            status, answer = await self._post(path, body, signature)
        done = time.perf_counter()
        if status >= 400:
            raise CallFailed(f"HTTP {status} from {path.split('?')[0]}")
        if due >= self.measuring_from:
            self.latencies.setdefault(step, []).append(done - due)
            self.measured_requests += 1
        return answer, done

    async def _post(self, path: str, body: bytes, signature: str) -> tuple[int, bytes]:
        """POST on a kept-alive connection, or a new one. A kept-alive connection that the
        server closed while it sat idle (gunicorn's keep-alive is 2 s, shorter than the gaps
        of a slow rate) fails before any answer: the request goes again on a new connection,
        as a carrier's HTTP client does."""
        while True:
            connection, reused = await self._connection()
            try:
                answer = await connection.post(self.host, path, body, signature)
            except ConnectionError:
                connection.close()
                if reused:
                    continue
                raise
            except BaseException:
                connection.close()
                raise
            if not connection.closed:
                self.idle.append(connection)
            return answer

    async def _connection(self) -> tuple[Connection, bool]:
        """A connection, and whether it was kept alive from an earlier request."""
        while self.idle:
            connection = self.idle.pop()
            if not connection.closed:
                return connection, True
        reader, writer = await asyncio.open_connection(*self.address)
        return Connection(reader, writer), False

    # -- the run ---------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        spec = self.spec
        started = time.perf_counter()
        self.measuring_from = started + spec.warmup
        end = started + spec.duration
        if spec.mode == "closed":
            await asyncio.gather(*(self._caller(n, end) for n in range(spec.concurrency)))
        else:
            await self._arrivals(started, end)
        finished = time.perf_counter()
        for connection in self.idle:
            connection.close()
        return self._summary(finished - self.measuring_from)

    async def _caller(self, number: int, end: float) -> None:
        index = number
        while time.perf_counter() < end:
            await self.call(1_000_000 * (number + 1) + index, time.perf_counter())
            index += 1

    async def _arrivals(self, started: float, end: float) -> None:
        draws = random.Random(self.spec.seed)
        tasks, at, index = [], started, self.spec.first_call - 1
        while True:
            at += draws.expovariate(self.spec.rate)
            if at >= end:
                break
            delay = at - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            index += 1
            tasks.append(asyncio.create_task(self.call(index, at)))
        await asyncio.gather(*tasks)

    def _summary(self, measured_seconds: float) -> dict[str, Any]:
        everything = [value for values in self.latencies.values() for value in values]
        return {
            "mode": self.spec.mode,
            "calls": self.calls,
            "errors": self.errors,
            "measured_seconds": round(measured_seconds, 3),
            "measured_calls": self.measured_calls,
            "requests_per_second": round(self.measured_requests / measured_seconds, 1),
            "calls_per_second": round(self.measured_calls / measured_seconds, 2),
            "latency_ms": {"all": percentiles(everything),
                           **{step: percentiles(v) for step, v in self.latencies.items()}},
        }


def percentiles(values: list[float]) -> dict[str, float | int]:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def at(share: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(share * len(ordered)))], 2)

    return {"count": len(ordered), "p50": at(0.5), "p90": at(0.9), "p99": at(0.99),
            "max": round(1000 * ordered[-1], 2)}


def main() -> None:
    spec = Spec(**json.loads(sys.argv[1]))
    print(json.dumps(asyncio.run(Load(spec).run())))


if __name__ == "__main__":
    main()
