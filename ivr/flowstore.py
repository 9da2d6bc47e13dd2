"""The loaded call flow: checked by the linter before use, reloaded when its file changes, and
kept at its last good version when a change is broken (the reason is logged and shown)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from callflows.loader import FlowInvalid, load_flow
from callflows.schema import Flow

log = logging.getLogger(__name__)


class FlowStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.last_error: str | None = None
        self._flow = load_flow(self.path)  # FlowInvalid propagates: never start on a bad flow
        self._mtime = self._stat()

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return -1.0

    def current(self) -> Flow:
        """The flow to use now; a changed file is checked and loaded first if it is good."""
        mtime = self._stat()
        if mtime == self._mtime:
            return self._flow
        with self._lock:
            if mtime != self._mtime:
                self._reload(mtime)
        return self._flow

    def _reload(self, mtime: float) -> None:
        self._mtime = mtime
        try:
            flow = load_flow(self.path)
        except FlowInvalid as exc:
            self.last_error = "; ".join(str(problem) for problem in exc.problems)
            log.error(
                "flow %s not loaded, keeping the last good one: %s", self.path, self.last_error
            )
            return
        except OSError as exc:
            self.last_error = f"{self.path}: {exc}"
            log.error("flow %s not loaded, keeping the last good one: %s", self.path, exc)
            return
        self._flow = flow
        self.last_error = None
        log.info("flow %s reloaded", self.path)
