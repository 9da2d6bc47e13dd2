"""The ceiling to compare the service with: a bare Flask app answering every POST with the
same fixed TwiML, served exactly as `ivr serve` serves the service: the same gunicorn
application class (`ivr.webserver.WebServer`) with `ivr serve`'s defaults, one gthread worker
with the same threads and an access line a request (`python -m benchmarks._bare PORT
[WORKERS]`: as many web processes as the service it is compared with)."""

from __future__ import annotations

import sys

from flask import Flask, Response
from twilio.twiml.voice_response import VoiceResponse


def fixed_twiml(base_url: str = "") -> str:
    """A main menu's TwiML, its URLs under `base_url`."""
    response = VoiceResponse()
    gather = response.gather(input="dtmf speech",
                             action=f"{base_url}/voice/menu/main_menu?attempt=1",
                             method="POST", timeout=5, num_digits=1)
    gather.say("For billing or payments, press 1. For technical support, press 2.",
               language="en-US")
    response.redirect(f"{base_url}/voice/menu/main_menu/silence?attempt=1", method="POST")
    return str(response)


def add_health(app: Flask) -> None:
    """GET /healthz, which the benchmark waits for before it loads a server."""

    @app.get("/healthz")
    def health() -> Response:
        return Response('{"status": "ok"}', mimetype="application/json")


def create_bare_app() -> Flask:
    app = Flask(__name__)
    body = fixed_twiml()

    @app.post("/<path:_path>")
    def answer(_path: str) -> Response:
        return Response(body, mimetype="text/xml")

    add_health(app)
    return app


def main() -> None:
    from ivr.webserver import WebServer

    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    WebServer(create_bare_app, host="127.0.0.1", port=int(sys.argv[1]), workers=workers).run()


if __name__ == "__main__":
    main()
