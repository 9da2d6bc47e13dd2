"""How `ivr serve` serves the service: gunicorn's threaded workers (gthread), the app built in
each worker after the fork (`ivr.serving` says what each starts beside it).

Nothing is made before the fork, so no database connection, thread or carrier is shared
between processes. The benchmark's bare Flask ceiling is served by the same class with the
same defaults, so that the two compare like with like."""

from __future__ import annotations

import gc
import signal
from collections.abc import Callable
from typing import Any

from gunicorn.app.base import BaseApplication

from ivr.serving import STOP_MARGIN_SECONDS, STOP_SECONDS, THREADS, WORKERS


class WebServer(BaseApplication):
    """gunicorn serving the WSGI app `build` returns, built in each worker after the fork.

    `ready()` runs in the master once it listens, `exiting()` in the master as it exits, and
    `stop(app)` in each worker as it exits, with the app that worker built. Only these
    options apply: no gunicorn.conf.py, GUNICORN_CMD_ARGS or command line is read."""

    def __init__(
        self,
        build: Callable[[], Any],
        *,
        host: str,
        port: int,
        workers: int = WORKERS,
        threads: int = THREADS,
        ready: Callable[[], None] | None = None,
        exiting: Callable[[], None] | None = None,
        stop: Callable[[Any], None] | None = None,
        access_log: bool = False,
        log_level: str = "info",
    ) -> None:
        self._build = build
        self._ready = ready
        self._exiting = exiting
        self._stop = stop
        self._options = {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": STOP_SECONDS + STOP_MARGIN_SECONDS,  # see _post_fork
            # Off unless asked for, as gunicorn has it: a line a request costs about as much
            # CPU as a bare request, and a proxy in front usually keeps that log.
            "accesslog": "-" if access_log else None,
            "errorlog": "-",
            "loglevel": log_level.lower(),
            # gunicorn's control socket is one path per user ($XDG_RUNTIME_DIR or ~/.gunicorn):
            # two services on one machine would take it from each other, and nothing uses it.
            "control_socket_disable": True,
            "when_ready": self._when_ready,
            "on_exit": self._on_exit,
            "post_fork": self._post_fork,
            "worker_exit": self._worker_exit,
        }
        super().__init__()

    def load_config(self) -> None:
        for name, value in self._options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        app = self._build()
        # What start-up made (modules, the flow, SQLAlchemy's mappers and statement caches)
        # lives as long as the worker: out of the collector's scans, its pauses stay short.
        gc.collect()
        gc.freeze()
        return app

    def _when_ready(self, _arbiter: Any) -> None:
        if self._ready is not None:
            self._ready()

    def _on_exit(self, _arbiter: Any) -> None:
        if self._exiting is not None:
            self._exiting()

    def _post_fork(self, _arbiter: Any, worker: Any) -> None:
        # In the worker only: its requests in flight have STOP_SECONDS, and what is left of
        # the master's wait is for `stop` to finish before the master kills the worker.
        worker.cfg.set("graceful_timeout", STOP_SECONDS)

    def _worker_exit(self, _arbiter: Any, _worker: Any) -> None:
        # Ctrl-C reaches the worker and the master, which then sends SIGQUIT: neither may cut
        # the stop short (gunicorn's handler for both exits at once).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)
        if self._stop is not None and self.callable is not None:
            self._stop(self.callable)
