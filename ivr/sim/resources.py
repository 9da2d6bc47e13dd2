"""The carrier's records, shaped like Twilio's resources: calls (one per leg), recordings,
messages and queues, with Twilio-shaped SIDs."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ivr.sim.callers import CallerScript, Device
from ivr.sim.line import Line

FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
SIP_CODES = {"completed": "200", "busy": "486", "failed": "500"}  # else 487 (not answered)


class CarrierError(Exception):
    """A request the carrier refuses, as Twilio would: HTTP status, Twilio code, message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def new_sid(prefix: str) -> str:
    """A Twilio-shaped SID: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class CallLeg:
    """One call leg. Inbound and REST-created calls have an engine thread; a <Dial>'s child
    legs are driven by their parent's thread (`parent_sid` set)."""

    sid: str
    account_sid: str
    from_: str
    to: str
    direction: str  # inbound, outbound-api, outbound-dial
    line: Line
    parent_sid: str | None = None
    status: str = "queued"
    party: CallerScript | None = None  # None: a person at the control API (interactive)
    device: Device | None = None  # the endpoint when the far end is an agent's phone
    answered_by: str | None = None
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = frozenset()
    sequence: int = 0
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    end_time: datetime | None = None
    answered_at: float | None = None  # time.monotonic() when answered
    duration: int | None = None  # simulated seconds, once ended
    queue_time: int = 0
    thread: threading.Thread | None = None

    @property
    def ended(self) -> bool:
        return self.status in FINAL_STATUSES

    def answered(self) -> None:
        self.status = "in-progress"
        self.start_time = utcnow()
        self.answered_at = time.monotonic()
        self.touch()

    def close(self, status: str) -> None:
        """Final status and duration (talk time, in simulated seconds)."""
        self.status = status
        self.end_time = utcnow()
        self.duration = int(round(self.line.elapsed(self.answered_at))) if self.answered_at else 0
        self.touch()

    def touch(self) -> None:
        self.date_updated = utcnow()


@dataclass
class Recording:
    """A recording's metadata; its audio is made on request from duration and channels."""

    sid: str
    account_sid: str
    call_sid: str
    source: str  # DialVerb, RecordVerb
    channels: int
    started_at: float  # time.monotonic()
    speed: float
    status: str = "in-progress"  # in-progress, paused, stopped, completed, absent
    duration: int | None = None
    spoken: list[str] = field(default_factory=list)  # what was said, for later synthesis
    pauses: list[tuple[float, float | None]] = field(default_factory=list)  # simulated offsets
    pause_behavior: str = "silence"
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    start_time: datetime = field(default_factory=utcnow)

    def offset(self) -> float:
        return (time.monotonic() - self.started_at) * self.speed

    def pause(self, behavior: str) -> None:
        if self.status == "in-progress":
            self.status = "paused"
            self.pause_behavior = behavior
            self.pauses.append((self.offset(), None))
            self.date_updated = utcnow()

    def resume(self) -> None:
        if self.status == "paused":
            start, _ = self.pauses[-1]
            self.pauses[-1] = (start, self.offset())
            self.status = "in-progress"
            self.date_updated = utcnow()

    def finish(self, seconds: float | None = None) -> None:
        """Completed with `seconds` of audio (default: time since it started, less skipped
        pauses); absent when nothing was recorded. Once finished it stays as it is."""
        if self.duration is not None:
            return
        if self.status == "paused":
            self.resume()
        length = self.offset() if seconds is None else seconds
        if self.pause_behavior == "skip":
            length -= sum((end or length) - start for start, end in self.pauses)
        self.duration = max(0, int(round(length)))
        self.status = "completed" if self.duration > 0 else "absent"
        self.date_updated = utcnow()


@dataclass
class Message:
    sid: str
    account_sid: str
    from_: str
    to: str
    body: str
    status: str = "queued"
    status_callback: str | None = None
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None

    @property
    def num_segments(self) -> int:
        return max(1, -(-len(self.body) // 160))


# Twilio's default and largest queue size today (it used to be 100).
MAX_QUEUE_SIZE = 1000


@dataclass
class CarrierQueue:
    """A named call queue, created on first use, as <Enqueue> does."""

    name: str
    sid: str = field(default_factory=lambda: new_sid("QU"))
    max_size: int = MAX_QUEUE_SIZE
    members: list[str] = field(default_factory=list)  # call SIDs, first in line first
    waits: list[float] = field(default_factory=list)  # simulated seconds of past waits

    def position(self, call_sid: str) -> int:
        return self.members.index(call_sid) + 1 if call_sid in self.members else 0

    def average_wait(self) -> int:
        recent = self.waits[-50:]
        return int(round(sum(recent) / len(recent))) if recent else 0
