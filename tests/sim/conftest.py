"""Fixtures for the offline carrier's tests, all over real HTTP: a fake service that checks
X-Twilio-Signature and answers scripted TwiML, and the carrier's app mounted under /sim on a
port of its own, reached by the real `twilio` client through SimHttpClient."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator
from twilio.rest import Client
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server

from ivr.sim.carrier import Carrier
from ivr.sim.httpclient import SimHttpClient
from ivr.sim.rest import create_carrier_app

ACCOUNT_SID = "AC" + "5" * 32
AUTH_TOKEN = "sim-test-token"
SUPPORT_NUMBER = "+15005550006"
SPEED = 50.0  # a 5 s Gather timeout takes 0.1 s

Handler = Callable[["Hit"], Any]


@dataclass
class Hit:
    """One request the carrier made to the fake service."""

    path: str
    method: str
    url: str
    form: dict[str, str]
    signed: bool


class FakeService:
    """The service's stand-in: rejects unsigned requests with 403, answers each path with the
    TwiML its handler returns (a str, or a Response), 204 for paths without one."""

    def __init__(self, auth_token: str) -> None:
        self.validator = RequestValidator(auth_token)
        self.handlers: dict[str, Handler] = {}
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        self.url = ""
        self.app = Flask(__name__)
        self.app.add_url_rule("/<path:path>", "any", self._answer, methods=["GET", "POST"])

    def on(self, path: str, answer: str | Handler) -> None:
        self.handlers[path] = answer if callable(answer) else (lambda hit, text=answer: text)

    def at(self, path: str) -> str:
        return self.url + path

    def hits_to(self, path: str) -> list[Hit]:
        with self.lock:
            return [hit for hit in self.hits if hit.path == path]

    def _answer(self, path: str) -> Response:
        params = request.form if request.method == "POST" else {}
        signed = self.validator.validate(request.url, params,
                                         request.headers.get("X-Twilio-Signature", ""))
        hit = Hit("/" + path, request.method, request.url,
                  request.form.to_dict() if request.method == "POST" else request.args.to_dict(),
                  signed)
        with self.lock:
            self.hits.append(hit)
        if not signed:
            return Response("bad signature", status=403)
        handler = self.handlers.get(hit.path)
        if handler is None:
            return Response(status=204)
        answer = handler(hit)
        if isinstance(answer, Response):
            return answer
        return Response(str(answer), mimetype="text/xml")


class LateApp:
    """A WSGI app set after the server is listening (the carrier needs the server's URL)."""

    app: Any = NotFound()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


def serve(app: Any) -> tuple[str, Callable[[], None]]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02},
                              daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=10)

    return f"http://127.0.0.1:{server.server_port}", stop


@dataclass
class Sim:
    carrier: Carrier
    url: str  # where the carrier app's server listens; the app is under /sim
    service: FakeService

    @property
    def api_url(self) -> str:
        return self.url + "/sim"

    account_sid = ACCOUNT_SID
    auth_token = AUTH_TOKEN
    number = SUPPORT_NUMBER

    def client(self, auth_token: str = AUTH_TOKEN) -> Client:
        """The real `twilio` client, pointed at this carrier."""
        return Client(ACCOUNT_SID, auth_token, http_client=SimHttpClient(self.api_url))

    def events(self, sid: str, kind: str | None = None) -> list[dict[str, Any]]:
        found = self.carrier.call(sid).line.events()
        return [event for event in found if kind is None or event["type"] == kind]

    def kinds(self, sid: str) -> list[str]:
        return [event["type"] for event in self.events(sid)]

    def ended(self, sid: str) -> bool:
        return self.carrier.call(sid).line.ended


@pytest.fixture
def service() -> Iterator[FakeService]:
    fake = FakeService(AUTH_TOKEN)
    fake.url, stop = serve(fake.app)
    yield fake
    stop()


@pytest.fixture
def sim_factory(service: FakeService) -> Iterator[Callable[..., Sim]]:
    """Start carriers talking to `service` (Carrier options overridable)."""
    started: list[tuple[Carrier, Callable[[], None]]] = []

    def start(**options: Any) -> Sim:
        late = LateApp()
        url, stop = serve(late)
        values: dict[str, Any] = {
            "account_sid": ACCOUNT_SID,
            "auth_token": AUTH_TOKEN,
            "voice_url": service.at("/voice/incoming"),
            "status_callback_url": service.at("/voice/status"),
            "number": SUPPORT_NUMBER,
            "speed": SPEED,
            "api_url": url + "/sim",
            "webhook_timeout": 5.0,
        }
        values.update(options)
        carrier = Carrier(**values)
        late.app = DispatcherMiddleware(NotFound(), {"/sim": create_carrier_app(carrier)})
        started.append((carrier, stop))
        return Sim(carrier=carrier, url=url, service=service)

    yield start
    for carrier, stop in started:
        carrier.shutdown()
        stop()


@pytest.fixture
def sim(sim_factory: Callable[..., Sim]) -> Sim:
    return sim_factory()


@pytest.fixture
def wait_for() -> Callable[..., Any]:
    """Poll until `condition()` is truthy and return its value; fail naming `what`."""

    def wait(condition: Callable[[], Any], *, timeout: float = 10.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what or condition}")
            time.sleep(0.01)

    return wait

