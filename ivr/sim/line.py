"""The line: what connects a call's engine thread to everything that happens to the call from
outside it. The engine waits on the line (scaled by the carrier's speed); keys, words, REST
redirects, hang-ups and a dialled device's answer arrive on it and wake the engine. What the
party on the far end hears is written to it as events for the control API."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

MAX_LONG_POLL = 30.0


@dataclass(frozen=True)
class Target:
    """Where a call goes next: a URL to request (with extra parameters for an action), or a
    TwiML document given inline (REST `Twiml`)."""

    url: str | None = None
    method: str = "POST"
    params: dict[str, str] = field(default_factory=dict)
    twiml: str | None = None


class CallEnded(Exception):
    """The call is over: `by` says who ended it (caller, service, api, agent, carrier)."""

    def __init__(self, by: str, status: str = "completed") -> None:
        super().__init__(f"call ended by {by}")
        self.by = by
        self.status = status


class Redirected(Exception):
    """The REST API told the call to leave what it is doing and go to `target`."""

    def __init__(self, target: Target) -> None:
        super().__init__(f"redirected to {target.url or 'inline TwiML'}")
        self.target = target


class Line:
    """Thread-safe. Times passed to `wait` are simulated seconds; the line divides them by the
    carrier's speed."""

    def __init__(self, speed: float) -> None:
        self.speed = speed
        self.started = time.monotonic()
        self._cond = threading.Condition()
        self._events: list[dict[str, Any]] = []
        self._inputs: deque[str] = deque()
        self._signals: deque[tuple[str, str]] = deque()
        self._ending: tuple[str, str] | None = None  # (by, status)
        self._redirect: Target | None = None
        self._deadlines: dict[str, tuple[float, str]] = {}  # name -> (when, who hangs up)
        self.ended = False

    # -- time ------------------------------------------------------------------------------

    def elapsed(self, since: float | None = None) -> float:
        """Simulated seconds since `since` (a time.monotonic() value) or the call's start."""
        return (time.monotonic() - (self.started if since is None else since)) * self.speed

    def hang_up_after(self, name: str, seconds: float | None, by: str = "caller") -> None:
        """`by` hangs up once `seconds` have passed, unless cleared (seconds=None); one
        deadline per name (the caller's patience in a queue, their whole call, talk time)."""
        with self._cond:
            if seconds is None:
                self._deadlines.pop(name, None)
            else:
                self._deadlines[name] = (time.monotonic() + seconds / self.speed, by)
            self._cond.notify_all()

    # -- events ----------------------------------------------------------------------------

    def emit(self, kind: str, **fields: Any) -> None:
        """Record something the far end hears or sees."""
        with self._cond:
            event = {"seq": len(self._events) + 1, "type": kind, "t": round(self.elapsed(), 2)}
            event.update({k: v for k, v in fields.items() if v is not None})
            self._events.append(event)
            self._cond.notify_all()

    def events_after(self, after: int, wait: float = 0.0) -> tuple[list[dict[str, Any]], bool]:
        """Events with seq > `after`, waiting up to `wait` real seconds for one; and whether
        the call has ended."""
        deadline = time.monotonic() + min(max(wait, 0.0), MAX_LONG_POLL)
        with self._cond:
            while len(self._events) <= after and not self.ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return [dict(e) for e in self._events[after:]], self.ended

    def events(self) -> list[dict[str, Any]]:
        with self._cond:
            return [dict(e) for e in self._events]

    # -- from outside ----------------------------------------------------------------------

    def give(self, value: str) -> None:
        """Keys ("1", "123#") or words from the far end, kept until something listens."""
        with self._cond:
            self._inputs.append(value)
            self._cond.notify_all()

    def signal(self, action: str, sid: str) -> None:
        """A dialled leg changed (answer, decline, hangup): wakes a waiting <Dial>."""
        with self._cond:
            self._signals.append((action, sid))
            self._cond.notify_all()

    def hang_up(self, by: str, status: str = "completed") -> None:
        with self._cond:
            if self._ending is None and not self.ended:
                self._ending = (by, status)
            self._cond.notify_all()

    def redirect(self, target: Target) -> None:
        with self._cond:
            self._redirect = target
            self._cond.notify_all()

    def finish(self) -> None:
        """The engine is done with the call: pollers stop waiting."""
        with self._cond:
            self.ended = True
            self._cond.notify_all()

    # -- for the engine --------------------------------------------------------------------

    def take_input(self) -> str | None:
        with self._cond:
            return self._inputs.popleft() if self._inputs else None

    def take_signal(self) -> tuple[str, str] | None:
        with self._cond:
            return self._signals.popleft() if self._signals else None

    def check(self) -> None:
        """Raise CallEnded or Redirected if either is pending (hang-up first)."""
        with self._cond:
            self._raise_pending()

    def wait(self, seconds: float, *, for_input: bool = False, for_signal: bool = False) -> str:
        """Let `seconds` of simulated time pass. Returns "input" or "signal" early when asked
        to and one is waiting, else "timeout". Raises CallEnded or Redirected at once when the
        call is hung up or redirected."""
        deadline = time.monotonic() + max(seconds, 0.0) / self.speed
        with self._cond:
            while True:
                self._raise_pending()
                if for_input and self._inputs:
                    return "input"
                if for_signal and self._signals:
                    return "signal"
                now = time.monotonic()
                if now >= deadline:
                    return "timeout"
                wake = min([deadline, *(when for when, _ in self._deadlines.values())])
                self._cond.wait(max(wake - now, 0.0))

    def _raise_pending(self) -> None:
        now = time.monotonic()
        due = [by for when, by in self._deadlines.values() if now >= when]
        if self._ending is None and due:
            self._ending = (due[0], "completed")
        if self._ending is not None:
            raise CallEnded(*self._ending)
        if self._redirect is not None:
            target, self._redirect = self._redirect, None
            raise Redirected(target)
