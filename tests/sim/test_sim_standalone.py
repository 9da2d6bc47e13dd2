"""The offline carrier's own process (`ivr serve --workers N` in sim mode): a child that
fails or says nothing stops the start with a reason, and is not left running. (A carrier
that starts is covered by tests/ivr/test_deploy.py, through two workers.)"""

from __future__ import annotations

import sys

import pytest

from ivr.sim.standalone import CarrierProcess


def _started(monkeypatch: pytest.MonkeyPatch, code: str, seconds: float) -> CarrierProcess:
    monkeypatch.setattr(CarrierProcess, "COMMAND", (sys.executable, "-c", code))
    monkeypatch.setattr(CarrierProcess, "START_SECONDS", seconds)
    return CarrierProcess()


def test_a_carrier_that_says_nothing_is_stopped(monkeypatch) -> None:
    carrier = _started(monkeypatch, "import time; time.sleep(120)", 0.5)
    with pytest.raises(RuntimeError, match=r"did not start \(nothing said in 0.5 s\)"):
        carrier.start()
    assert carrier._process.poll() is not None  # terminated, not left behind
    assert carrier.url == ""


def test_a_carrier_that_fails_is_reported_with_its_exit_code(monkeypatch) -> None:
    carrier = _started(monkeypatch, "import sys; sys.exit(7)", 30)
    with pytest.raises(RuntimeError, match=r"did not start \(exit code 7\)"):
        carrier.start()


def test_a_carrier_that_prints_its_port_is_reached_there(monkeypatch) -> None:
    carrier = _started(monkeypatch, "import time; print(4321, flush=True); time.sleep(120)", 30)
    carrier.start()
    try:
        assert carrier.url == "http://127.0.0.1:4321/sim"
    finally:
        carrier.stop()
    assert carrier._process.wait(timeout=5) is not None
