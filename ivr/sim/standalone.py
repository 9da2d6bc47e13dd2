"""The offline carrier in a process of its own, for a service served by several web
processes: the carrier keeps its calls in memory, so there must be one. `ivr serve --workers
N` starts it (`CarrierProcess`) before the workers, points their Twilio client at it
(IVR_SIM_URL) and forwards their /sim to it (`ivr.sim.forward`), so `ivr call`, `ivr
simulate` and the consoles' softphones reach it at the service's URL as before.

    python -m ivr.sim.standalone PORT    # settings from the environment, as the service's"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

import requests

from ivr.settings import Settings

READY_SECONDS = 60


def make_carrier(settings: Settings) -> Any:
    """The offline carrier of the service `settings` describe: it calls the service's
    webhooks at its public URL, signed with its auth token."""
    from ivr.sim.carrier import Carrier

    return Carrier(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        voice_url=settings.public_url + "/voice/incoming",
        status_callback_url=settings.public_url + "/voice/status",
        number=settings.support_number,
        speed=settings.sim_speed,
    )


class CarrierProcess:
    """The carrier served on 127.0.0.1:`port` by a child process, for as long as the block
    runs (or until `stop`). It ends by itself if its parent dies without stopping it."""

    def __init__(self, port: int, *, env: dict[str, str] | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}/sim"
        self._env = env
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "ivr.sim.standalone", str(self.port)], env=self._env
        )
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the offline carrier stopped (exit code "
                                   f"{self._process.returncode}) before it was ready")
            try:
                if requests.get(self.url + "/carrier", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the offline carrier did not answer at {self.url} within "
                           f"{READY_SECONDS} s")

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def main() -> None:
    import signal

    from werkzeug.exceptions import NotFound
    from werkzeug.middleware.dispatcher import DispatcherMiddleware
    from werkzeug.serving import make_server

    from ivr.settings import from_env
    from ivr.sim.rest import create_carrier_app

    port = int(sys.argv[1])
    parent = os.getppid()
    carrier = make_carrier(from_env())
    # Mounted under /sim as in the service, so the URLs it hands out are the same.
    app = DispatcherMiddleware(NotFound(), {"/sim": create_carrier_app(carrier)})
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="carrier-http", daemon=True).start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    carrier.shutdown()
    server.shutdown()


if __name__ == "__main__":
    main()
