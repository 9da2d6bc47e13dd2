"""Helpers for tests: signing webhooks as the carrier does, waiting for a condition."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from twilio.request_validator import RequestValidator

from ivr.settings import PROJECT_ROOT, Settings


def sign(settings: Settings, path: str, data: dict[str, str]) -> str:
    return RequestValidator(settings.twilio_auth_token).compute_signature(
        settings.public_url + path, data
    )


def wait_for(condition: Callable[[], Any], *, timeout: float = 20.0, what: str = "") -> Any:
    """Poll until `condition()` is truthy and return it; fail naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what or condition}")
        time.sleep(0.02)


def received(inbox: queue.Queue, count: int) -> list[dict[str, Any]]:
    """The next `count` messages of a bus subscriber's inbox, and then nothing more."""
    got = [inbox.get(timeout=10) for _ in range(count)]
    with pytest.raises(queue.Empty):
        inbox.get(timeout=0.3)
    return got


def record_in_another_process(database_url: str, kind: str, **data: int) -> None:
    """Commit one call event of `kind` from another OS process, as an `ivr` command would."""
    script = ("import json, sys; from datetime import UTC, datetime; from ivr import events; "
              "from ivr.db import Database; db = Database(sys.argv[1]); "
              "session_cm = db.transaction(); session = session_cm.__enter__(); "
              "events.record(session, sys.argv[2], at=datetime.now(UTC), "
              "**json.loads(sys.argv[3])); "
              "session_cm.__exit__(None, None, None); db.dispose()")
    done = subprocess.run([sys.executable, "-c", script, database_url, kind, json.dumps(data)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def served_health(port: int) -> dict | None:
    """`ivr serve`'s /healthz on `port`, or None while it does not answer yet."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).json()
    except (requests.ConnectionError, requests.Timeout):  # refused, or no worker booted yet
        return None
