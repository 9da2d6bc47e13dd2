"""The offline carrier in a process of its own, for a service served by several web
processes: the carrier keeps its calls in memory, so there must be one. `ivr serve --workers
N` starts it (`CarrierProcess`) before the workers, points their Twilio client at it
(IVR_SIM_URL) and forwards their /sim to it (`ivr.sim.forward`), so `ivr call`, `ivr
simulate` and the consoles' softphones reach it at the service's URL as before.

    python -m ivr.sim.standalone    # settings from the environment; prints the port"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from typing import Any

from ivr.settings import Settings


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
    """The carrier served by a child process on a free port of 127.0.0.1 (`url`, once
    started), until `stop`. It ends by itself if its parent dies without stopping it."""

    COMMAND = (sys.executable, "-m", "ivr.sim.standalone")
    START_SECONDS = 60.0  # a child that says nothing for this long is stopped

    def __init__(self, *, env: dict[str, str] | None = None) -> None:
        self.url = ""
        self._env = env
        self._process: subprocess.Popen | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            list(self.COMMAND), env=self._env, stdout=subprocess.PIPE, text=True,
        )
        # Listening once it says where. The whole line comes in one write, so once the pipe
        # is readable the line is there (or the child has exited).
        said, _, _ = select.select([self._process.stdout], [], [], self.START_SECONDS)
        port = self._process.stdout.readline().strip() if said else ""
        if not port.isdigit():
            self.stop()
            self._process.stdout.close()
            how = (f"exit code {self._process.returncode}" if said
                   else f"nothing said in {self.START_SECONDS:g} s")
            raise RuntimeError(f"the offline carrier did not start ({how})")
        self._process.stdout.close()
        self.url = f"http://127.0.0.1:{port}/sim"

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

    parent = os.getppid()
    carrier = make_carrier(from_env())
    # Mounted under /sim as in the service, so the URLs it hands out are the same.
    app = DispatcherMiddleware(NotFound(), {"/sim": create_carrier_app(carrier)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="carrier-http", daemon=True).start()
    print(server.port, flush=True)  # CarrierProcess waits for this line, then stops reading:
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # the rest goes where the service's does
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    while not stop.wait(1.0) and os.getppid() == parent:
        pass
    carrier.shutdown()
    server.shutdown()


if __name__ == "__main__":
    main()
