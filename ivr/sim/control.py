"""The sim-only control API, JSON in and out: place calls and be the caller on them (the
terminal phone, the traffic simulator), be an agent's device (the browser desktop), and see
the messages sent and the errors the carrier saw. No auth: it only exists in sim mode."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from ivr.sim import shapes
from ivr.sim.callers import CallerScript, Device
from ivr.sim.carrier import Carrier
from ivr.sim.resources import MAX_QUEUE_SIZE, CallLeg, CarrierError

bp = Blueprint("sim_control", __name__)
MAX_WAIT = 30.0


def _carrier() -> Carrier:
    return current_app.extensions["sim_carrier"]


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CarrierError(400, 20001, "expected a JSON object")
    return data


def _summary(leg: CallLeg) -> dict[str, Any]:
    return {"sid": leg.sid, "from": leg.from_, "to": leg.to, "status": leg.status,
            "direction": leg.direction, "parent_call_sid": leg.parent_sid,
            "interactive": leg.party is None and leg.device is None}


@bp.get("/carrier")
def carrier_info() -> Response:
    """How the carrier runs: its time scale (simulated seconds per wall second), the support
    number and the queue size limit. The traffic simulator converts its times with `speed`."""
    sim = _carrier()
    return jsonify(speed=sim.speed, number=sim.number, max_queue_size=MAX_QUEUE_SIZE)


@bp.post("/phone/calls")
def place_call() -> tuple[Response, int]:
    """{from, to?, script?} -> {sid}: a call to the support number; interactive unless a
    script (CallerScript's fields) is given."""
    data = _body()
    from_ = data.get("from")
    if not isinstance(from_, str) or not from_:
        raise CarrierError(400, 21603, "'from' (the caller's number) is required")
    script = None
    if data.get("script") is not None:
        try:
            script = CallerScript.from_json(data["script"])
        except ValueError as exc:
            raise CarrierError(400, 20001, f"script: {exc}") from None
    sid = _carrier().place_call(from_, data.get("to") or None, script)
    return jsonify(sid=sid), 201


@bp.get("/phone/calls")
def active_calls() -> Response:
    return jsonify(calls=[_summary(leg) for leg in _carrier().calls(active=True)])


@bp.get("/phone/calls/<sid>")
def call_summary(sid: str) -> Response:
    return jsonify(_summary(_carrier().call(sid)))


@bp.get("/phone/calls/<sid>/events")
def events(sid: str) -> Response:
    """Long poll: events with seq > `after`, waiting up to `wait` seconds for one."""
    leg = _carrier().call(sid)
    try:
        after = int(request.args.get("after", 0))
        wait = min(float(request.args.get("wait", 0)), MAX_WAIT)
    except ValueError:
        raise CarrierError(400, 20001, "after and wait must be numbers") from None
    found, ended = leg.line.events_after(after, wait)
    return jsonify(events=found, ended=ended, status=leg.status)


@bp.post("/phone/calls/<sid>/input")
def give_input(sid: str) -> tuple[Response, int]:
    """{digits?: "1", speech?: "billing"}: keys or words from the caller."""
    data = _body()
    digits, speech = data.get("digits"), data.get("speech")
    if not digits and not speech:
        raise CarrierError(400, 20001, "give 'digits' or 'speech'")
    if digits is not None and (not isinstance(digits, str) or
                               not all(key in "0123456789*#" for key in digits)):
        raise CarrierError(400, 20001, "digits are 0-9, * and #")
    _carrier().give_input(sid, digits=digits or None, speech=speech or None)
    return jsonify(accepted=True), 202


@bp.post("/phone/calls/<sid>/hangup")
def hang_up(sid: str) -> Response:
    return jsonify(_summary(_carrier().hang_up(sid, by="caller")))


@bp.put("/phone/callees/<number>")
def set_callee(number: str) -> Response:
    """How the person at `number` behaves when an outbound call rings them."""
    try:
        script = CallerScript.from_json(_body())
    except ValueError as exc:
        raise CarrierError(400, 20001, f"script: {exc}") from None
    _carrier().set_callee(number, script)
    return jsonify(number=number, script=script.to_json())


@bp.get("/messages")
def messages() -> Response:
    sim = _carrier()
    return jsonify(messages=[shapes.message(sim, m) for m in sim.messages.list()])


@bp.get("/errors")
def errors() -> Response:
    return jsonify(errors=_carrier().errors)


@bp.put("/devices/<identity>")
def set_device(identity: str) -> Response:
    """{mode: auto|manual|off, answer_after, talk_time}: how the endpoint answers."""
    try:
        device = Device.from_json(identity, _body())
    except ValueError as exc:
        raise CarrierError(400, 20001, f"device: {exc}") from None
    return jsonify(_carrier().set_device(device).to_json())


@bp.get("/devices/<identity>")
def get_device(identity: str) -> Response:
    return jsonify(_carrier().device_for(identity).to_json())


@bp.get("/devices/<identity>/calls")
def device_calls(identity: str) -> Response:
    return jsonify(calls=[_summary(leg) for leg in _carrier().device_calls(identity)])


@bp.post("/devices/<identity>/calls/<sid>/<action>")
def device_action(identity: str, sid: str, action: str) -> Response:
    """answer, decline or hangup a call on a manual device."""
    return jsonify(_summary(_carrier().device_action(identity, sid, action)))
