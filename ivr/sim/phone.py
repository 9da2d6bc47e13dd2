"""The terminal phone behind `ivr call`: an interactive call through the offline carrier's
control API. It prints what the caller hears as it happens and sends what the person types:
keys (`1`, `0`, `123#`) or words (speech); `hangup` or end of input hangs up."""

from __future__ import annotations

import sys
import threading
from typing import Any, TextIO

import requests

from ivr.sim.callers import is_digits

POLL_SECONDS = 5.0
HANGUP_WORDS = frozenset({"hangup", "hang up", "bye", "quit"})
WHO = {"caller": "you hung up", "service": "the service hung up", "agent": "the agent hung up",
       "api": "the service ended the call", "carrier": "the carrier ended the call",
       "callee": "nobody answered"}


def run_phone(base_url: str, from_: str, *, stdin: TextIO = sys.stdin,
              stdout: TextIO = sys.stdout, to: str | None = None,
              session: requests.Session | None = None) -> int:
    """Call the support number from `from_` through the service at `base_url` (its offline
    carrier is under /sim). Returns 0 when the call ended normally, 1 when the carrier
    reported an application error, 2 when the carrier could not be reached.

    When input is not a terminal (a pipe, a file, a test), each line waits until the call
    listens (a Gather or Record) before it is sent, so a script of answers plays out in
    order; typed at a terminal, keys go at once, like pressing them on a phone."""
    http = session or requests.Session()
    calls = base_url.rstrip("/") + "/sim/phone/calls"
    try:
        response = http.post(calls, json={"from": from_, "to": to}, timeout=10)
        response.raise_for_status()
    except requests.RequestException as exc:
        _say(stdout, f"☎ cannot reach the offline carrier at {calls}: {exc}")
        return 2
    sid = response.json()["sid"]
    call_url = f"{calls}/{sid}"
    _say(stdout, f"☎ calling {to or 'the support number'} from {from_}")
    state = _PhoneState(paced=not _isatty(stdin))
    typist = threading.Thread(target=_type, args=(stdin, http, call_url, state), daemon=True)
    typist.start()
    try:
        failed = _listen(http, call_url, stdout, state)
    except requests.RequestException as exc:
        _say(stdout, f"☎ lost the offline carrier: {exc}")
        return 2
    finally:
        state.ended.set()
    return 1 if failed else 0


class _PhoneState:
    def __init__(self, *, paced: bool) -> None:
        self.paced = paced
        self.listening = threading.Event()
        self.ended = threading.Event()


def _listen(http: requests.Session, call_url: str, stdout: TextIO, state: _PhoneState) -> bool:
    """Print events until the call ends; True if an application error was reported."""
    seq, failed = 0, False
    while True:
        response = http.get(f"{call_url}/events", params={"after": seq, "wait": POLL_SECONDS},
                            timeout=POLL_SECONDS + 10)
        response.raise_for_status()
        data = response.json()
        for event in data["events"]:
            seq = event["seq"]
            failed = failed or event["type"] == "error"
            text = describe(event)
            if text:
                _say(stdout, text)
            if event["type"] in ("gather", "record"):
                state.listening.set()
        if data["ended"]:
            return failed


def _type(stdin: TextIO, http: requests.Session, call_url: str, state: _PhoneState) -> None:
    """Send each line typed: keys, words, or a hang-up (also at end of input)."""
    try:
        for raw in iter(stdin.readline, ""):
            text = raw.strip()
            if not text:
                continue
            if text.lower() in HANGUP_WORDS:
                http.post(f"{call_url}/hangup", timeout=10)
                return
            if not _wait_turn(state):
                return
            body = {"digits": text} if is_digits(text) else {"speech": text}
            http.post(f"{call_url}/input", json=body, timeout=10)
        if _wait_turn(state):
            http.post(f"{call_url}/hangup", timeout=10)
    except requests.RequestException:
        return  # the listening side reports the lost carrier


def _wait_turn(state: _PhoneState) -> bool:
    """Wait (when paced) until the call listens; False if the call ended first."""
    while state.paced and not state.listening.is_set():
        if state.ended.wait(0.05):
            return False
    state.listening.clear()
    return not state.ended.is_set()


def describe(event: dict[str, Any]) -> str | None:
    """One line for what the caller hears or sees, or None for what they would not notice."""
    kind = event["type"]
    if kind == "say":
        return f"🔊 {event.get('text', '')}"
    if kind == "play":
        if event.get("digits"):
            return f"🎵 tones {event['digits']}"
        return "🎵 hold music" if event.get("url") == "hold-music" else f"🎵 {event.get('url')}"
    lines = {
        "gather": "⌨  your turn: keys (1, 123#) or words",
        "enqueued": f"… waiting in queue {event.get('queue')} (position {event.get('position')})",
        "waiting": f"… waiting in queue (position {event.get('position')})",
        "dequeued": f"… left the queue ({event.get('result')})",
        "dial": f"📞 calling {event.get('to')}",
        "ringing": f"📞 ringing {event.get('to')}",
        "answered": f"📞 connected to {event.get('to')}",
        "record": "⏺  recording: speak, then press # or stay silent",
        "beep": "🔔 beep",
        "hangup": f"☎ call ended ({WHO.get(event.get('by', ''), event.get('by'))})",
        "error": f"⚠  application error {event.get('text')}",
    }
    return lines.get(kind)


def _say(stdout: TextIO, text: str) -> None:
    stdout.write(text + "\n")
    stdout.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
