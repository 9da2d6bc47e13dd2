"""/sim forwarded to an offline carrier in another process (`ivr serve --workers N`): the
request goes as it came (method, path, query, body, credentials), the answer comes back as
it was, and a carrier that does not answer is a 502 naming it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import pytest
from flask import Flask, request
from werkzeug.serving import make_server
from werkzeug.test import Client

from ivr.sim.forward import Forward

from conftest import free_port


@pytest.fixture
def carrier_url() -> Iterator[str]:
    """A stand-in carrier that answers with what it was asked."""
    app = Flask(__name__)

    @app.route("/sim/<path:rest>", methods=["GET", "POST", "DELETE"])
    def echo(rest: str):
        return app.response_class(
            json.dumps({"method": request.method, "path": rest, "args": request.args,
                        "form": request.form, "auth": request.authorization.username
                        if request.authorization else None}),
            status=201, mimetype="application/json", headers={"X-Carrier": "yes"})

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/sim"
    server.shutdown()
    thread.join(timeout=10)


def test_a_request_goes_to_the_carrier_and_its_answer_comes_back(carrier_url):
    client = Client(Forward(carrier_url))
    answer = client.post("/2010-04-01/Accounts/AC1/Calls.json?PageSize=5",
                         data={"To": "+15551230000", "From": "+15005550006"},
                         auth=("AC1", "secret"))
    assert answer.status_code == 201
    assert answer.headers["X-Carrier"] == "yes"
    assert json.loads(answer.data) == {
        "method": "POST", "path": "2010-04-01/Accounts/AC1/Calls.json",
        "args": {"PageSize": "5"}, "form": {"To": "+15551230000", "From": "+15005550006"},
        "auth": "AC1"}
    assert int(answer.headers["Content-Length"]) == len(answer.data)


def test_a_carrier_that_does_not_answer_is_a_502_naming_it():
    gone = f"http://127.0.0.1:{free_port()}/sim"
    answer = Client(Forward(gone)).get("/phone/calls")
    assert answer.status_code == 502
    assert f"the offline carrier at {gone} did not answer" in answer.get_data(as_text=True)
