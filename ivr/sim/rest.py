"""The offline carrier over HTTP: the subset of Twilio's REST API the `twilio` client uses
(calls, recordings with their media, messages), behind HTTP Basic auth with the account SID
and auth token; and, in the same app, the sim's control API (`ivr.sim.control`). Routes are
relative, so the app works mounted under a prefix such as /sim."""

from __future__ import annotations

import hmac
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException

from ivr.sim import shapes
from ivr.sim.carrier import Carrier
from ivr.sim.resources import CarrierError

bp = Blueprint("twilio_api", __name__, url_prefix="/2010-04-01/Accounts/<account_sid>")
DEFAULT_PAGE_SIZE = 50
WAV = "audio/x-wav"


def create_carrier_app(carrier: Carrier) -> Flask:
    """A WSGI app serving `carrier`'s REST and control APIs."""
    from ivr.sim.control import bp as control_bp

    app = Flask(__name__)
    app.extensions["sim_carrier"] = carrier
    app.register_blueprint(bp)
    app.register_blueprint(control_bp)
    app.register_error_handler(CarrierError, _carrier_error)
    app.register_error_handler(HTTPException, _http_error)
    return app


def carrier() -> Carrier:
    return current_app.extensions["sim_carrier"]


def _carrier_error(exc: CarrierError) -> Response:
    if request.path.startswith("/2010-04-01/"):
        return _json(shapes.error(exc.status, exc.code, exc.message), exc.status)
    return _json({"error": exc.message, "code": exc.code}, exc.status)


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    if request.path.startswith("/2010-04-01/"):
        code = 20404 if status == 404 else 20001
        message = (f"The requested resource {request.path} was not found" if status == 404
                   else exc.description or exc.name)
        return _json(shapes.error(status, code, message), status)
    return _json({"error": exc.description or exc.name}, status)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    return response


@bp.before_request
def authenticate() -> Response | None:
    """HTTP Basic with the account SID and auth token, as Twilio requires."""
    sim = carrier()
    auth = request.authorization
    valid = (
        auth is not None
        and hmac.compare_digest(auth.username or "", sim.account_sid)
        and hmac.compare_digest(auth.password or "", sim.auth_token)
    )
    if not valid:
        body = shapes.error(401, 20003, "Authenticate")
        body["detail"] = "Your AccountSid or AuthToken was incorrect."
        response = _json(body, 401)
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
        return response
    if (request.view_args or {}).get("account_sid") != sim.account_sid:
        return _json(shapes.error(404, 20404, f"The requested resource {request.path} was not "
                                              "found"), 404)
    return None


def _page(key: str, items: list[dict[str, Any]]) -> Response:
    try:
        size = max(1, min(1000, int(request.args.get("PageSize", DEFAULT_PAGE_SIZE))))
        number = max(0, int(request.args.get("Page", 0)))
    except ValueError:
        raise CarrierError(400, 20001, "Page and PageSize must be numbers") from None
    return _json(shapes.page(key, items, path=request.path, number=number, size=size))


def _form_list(name: str) -> list[str]:
    """A repeated (or space-separated) form field, as the twilio client sends lists."""
    return [part for value in request.form.getlist(name) for part in value.split()]


# -- calls ---------------------------------------------------------------------------------

@bp.post("/Calls.json")
def create_call(account_sid: str) -> Response:
    form = request.form
    try:
        timeout = float(form.get("Timeout", 60))
    except ValueError:
        raise CarrierError(400, 21217, "Timeout must be a number of seconds") from None
    leg = carrier().create_call(
        to=form.get("To", ""),
        from_=form.get("From", ""),
        url=form.get("Url"),
        twiml=form.get("Twiml"),
        method=form.get("Method", "POST"),
        status_callback=form.get("StatusCallback"),
        status_callback_method=form.get("StatusCallbackMethod", "POST"),
        status_callback_event=_form_list("StatusCallbackEvent"),
        machine_detection=form.get("MachineDetection"),
        timeout=timeout,
    )
    body = shapes.call(carrier(), leg)
    body["status"] = "queued"  # as Twilio answers a create; the call's thread may be ringing
    return _json(body, 201)


@bp.get("/Calls.json")
def list_calls(account_sid: str) -> Response:
    legs = carrier().calls(status=request.args.get("Status"), to=request.args.get("To"),
                           from_=request.args.get("From"))
    return _page("calls", [shapes.call(carrier(), leg) for leg in legs])


@bp.get("/Calls/<sid>.json")
def fetch_call(account_sid: str, sid: str) -> Response:
    return _json(shapes.call(carrier(), carrier().call(sid)))


@bp.post("/Calls/<sid>.json")
def update_call(account_sid: str, sid: str) -> Response:
    form = request.form
    leg = carrier().update_call(sid, url=form.get("Url"), method=form.get("Method", "POST"),
                                twiml=form.get("Twiml"), status=form.get("Status"))
    return _json(shapes.call(carrier(), leg))


@bp.get("/Calls/<call_sid>/Recordings.json")
def list_call_recordings(account_sid: str, call_sid: str) -> Response:
    carrier().call(call_sid)
    found = carrier().recordings.list(call_sid)
    return _page("recordings", [shapes.recording(carrier(), r) for r in found])


@bp.get("/Calls/<call_sid>/Recordings/<sid>.json")
def fetch_call_recording(account_sid: str, call_sid: str, sid: str) -> Response:
    rec = carrier().recordings.get(sid)
    if rec.call_sid != call_sid:
        raise CarrierError(404, 20404, f"The requested resource {request.path} was not found")
    return _json(shapes.recording(carrier(), rec))


@bp.post("/Calls/<call_sid>/Recordings/<sid>.json")
def update_call_recording(account_sid: str, call_sid: str, sid: str) -> Response:
    rec = carrier().recordings.update(call_sid, sid, request.form.get("Status", ""),
                                      request.form.get("PauseBehavior", "silence"))
    return _json(shapes.recording(carrier(), rec))


# -- recordings ----------------------------------------------------------------------------

@bp.get("/Recordings.json")
def list_recordings(account_sid: str) -> Response:
    found = carrier().recordings.list(request.args.get("CallSid"))
    return _page("recordings", [shapes.recording(carrier(), r) for r in found])


@bp.route("/Recordings/<name>", methods=["GET", "DELETE"])
def recording(account_sid: str, name: str) -> Response:
    """The resource (.json), or its audio: no extension or .wav gives WAV, as on Twilio."""
    sid, _, extension = name.partition(".")
    if request.method == "DELETE":
        if extension not in ("", "json"):
            raise CarrierError(405, 20004, "Method not allowed")
        carrier().recordings.delete(sid)
        return Response(status=204)
    if extension == "json":
        return _json(shapes.recording(carrier(), carrier().recordings.get(sid)))
    if extension in ("", "wav"):
        return Response(carrier().recordings.audio(sid), mimetype=WAV)
    if extension == "mp3":
        raise CarrierError(406, 20001, "The offline carrier serves recordings as WAV only.")
    raise CarrierError(404, 20404, f"The requested resource {request.path} was not found")


# -- messages ------------------------------------------------------------------------------

@bp.post("/Messages.json")
def create_message(account_sid: str) -> Response:
    form = request.form
    msg = carrier().messages.send(to=form.get("To", ""), from_=form.get("From", ""),
                                  body=form.get("Body", ""),
                                  status_callback=form.get("StatusCallback"))
    return _json(shapes.message(carrier(), msg), 201)


@bp.get("/Messages.json")
def list_messages(account_sid: str) -> Response:
    found = carrier().messages.list(to=request.args.get("To"), from_=request.args.get("From"))
    return _page("messages", [shapes.message(carrier(), m) for m in found])


@bp.get("/Messages/<sid>.json")
def fetch_message(account_sid: str, sid: str) -> Response:
    return _json(shapes.message(carrier(), carrier().messages.get(sid)))
