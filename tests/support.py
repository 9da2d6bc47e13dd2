"""Helpers for tests: signing webhooks as the carrier does, waiting for a condition."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from twilio.request_validator import RequestValidator

from ivr.settings import Settings


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
