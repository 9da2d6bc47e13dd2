"""The carrier's webhooks share this blueprint: one signature check for all of them, the
helpers they use to read the carrier's form and answer TwiML, and the error handler that keeps
a caller in the flow when the service itself fails."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, request, url_for
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from ivr import events
from ivr.calls.models import Call, CallEvent
from ivr.calls.service import find_call, normalize_number, open_inbound_call
from ivr.httperrors import json_error
from ivr.runtime import current
from ivr.voice import twiml
from ivr.voice.prompts import prompt
from ivr.voice.signature import require_signature

log = logging.getLogger(__name__)
bp = Blueprint("voice", __name__, url_prefix="/voice")
# Webhooks where a caller is on the line waiting for TwiML: our errors must not drop them.
CALLER_FACING = {
    "voice.incoming",
    "voice.menu_answer",
    "voice.menu_silence",
    "voice.queue_wait",
    "voice.queue_result",
    "voice.voicemail_done",
    "voice.transfer_done",
    "voice.recover",
    "voice.connect",
    "voice.connect_done",
    "voice.queue_rejoin",
    "voice.callback_offer",
    "voice.callback_number",
    "voice.callback_keyed",
    "voice.callback_slot",
    "voice.callback_agent",
    "voice.callback_accept",
    "voice.callback_screen",
    "voice.callback_done",
    "voice.case_answer",
    "voice.incident_subscribe",
}


@bp.before_request
def check_signature() -> None:
    settings = current().settings
    require_signature(
        request, auth_token=settings.twilio_auth_token, public_url=settings.public_url
    )


# Events after which no new match can be made: a caller walking the menus, hearing their
# place in the queue, or leaving it while still waiting (no agent was theirs, and the next
# caller with the same needs waited less, so fits no agent the leaver did not) changes
# nothing the router looks at; nor does the bookkeeping of a call's end that frees no agent
# and puts no one in the queue (a follow-up's callback waits, scheduled, until activated);
# nor an agent's phone being screened (the reservation stands until they take the call).
# The router's own round every few seconds covers what time alone changes (aging, skill
# expansion, finished wrap-ups).
INERT_EVENTS = frozenset({
    "call.started", "ivr.node", "queue.announced", "callback.offered", "queue.result",
    "queue.abandoned", "call.status", "call.ended", "missed.call", "followup.created",
    "followup.joined", "callback.created", "callback.deferred", "callback.canceled",
    "case.clock", "case.opened", "case.call_linked", "text.queued", "routing.screened",
})


def wakes_router(recorded: list[CallEvent]) -> bool:
    """Whether a transaction that recorded these events may have given the router a match to
    make. One that recorded nothing may have changed anything. (A text to send wakes the
    dispatcher by itself: `case_timers.on_event`.)"""
    return not recorded or any(event.kind not in INERT_EVENTS for event in recorded)


def answer(rt: Any, work: Any) -> Response:
    """Run the webhook's transaction, then let the router look if it may have given it a
    match to make (`wakes_router`): the caller may have just joined the queue, or left it."""
    recorded: list[CallEvent] = []

    def tracked(session: Session) -> Any:
        body = work(session)
        recorded[:] = events.pending(session)
        return body

    body = rt.db.run(tracked)
    if wakes_router(recorded):
        rt.poke_router()
    return twiml_response(body)


def public_url_for(endpoint: str, **values: Any) -> str:
    """The absolute URL the carrier must request (and sign), from the public base URL."""
    path = url_for(endpoint, **values)[len(request.script_root) :]
    return current().settings.public_url + path


def twiml_response(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="text/xml")


def form_field(name: str) -> str:
    value = request.form.get(name, "").strip()
    if not value:
        abort(400, description=f"missing form field {name}")
    return value


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return max(1, int(raw))
    except ValueError:
        abort(400, description=f"query parameter {name} must be a number, not {raw!r}")


def call_or_adopt(session: Session, sid: str) -> Call:
    """The call for `sid`. A call we have no record of (lost in a failure) is adopted rather
    than refused: the caller on the line matters more than our bookkeeping."""
    call = find_call(session, sid)
    if call is not None:
        return call
    rt = current()
    now = rt.clock.now()
    log.warning("webhook for unknown call %s: adopting it", sid)
    call, _ = open_inbound_call(
        session,
        sid=sid,
        from_number=normalize_number(request.form.get("From")),
        to_number=normalize_number(request.form.get("To")),
        now=now,
    )
    events.record(session, "call.adopted", at=now, call_id=call.id)
    return call


@bp.errorhandler(Exception)
def keep_caller_in_flow(exc: Exception) -> Response:
    if isinstance(exc, HTTPException):
        log.info("voice %s: %s %s", request.path, exc.code, exc.description)
        return json_error(exc)
    log.exception("voice webhook %s failed", request.path)
    if request.endpoint not in CALLER_FACING:
        return Response("internal error", status=500)
    attempt = int(request.args.get("attempt", "1")) if request.endpoint == "voice.recover" else 0
    language = "en-US"
    return twiml_response(
        twiml.keep_in_flow(
            message=prompt("sorry", language),
            language=language,
            retry_url=public_url_for("voice.recover", attempt=attempt + 1),
        )
    )
