"""Making a callback: the agent is called first and hears who, why and how long they waited
(the whisper); then the customer is dialled and bridged. Answering machines are detected and
count as not reached."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callback.models import CallbackAttempt
from ivr import events
from ivr.callback_leg_end import (
    agent_left,
    agent_not_reached,
    apply_agent_leg_status,
    customer_leg_ended,
    customer_result,
    loaded,
)
from ivr.calls.models import Call
from ivr.routing import reservations
from ivr.routing.agents import is_phone
from ivr.routing.models import Reservation
from ivr.runtime import current
from ivr.telephony import answered_by_machine
from ivr.voice import twiml
from ivr.voice.blueprint import answer, bp, form_field, public_url_for, twiml_response
from ivr.voice.prompts import language_or_default, prompt
from ivr.voice.whisper import accepted, ask_to_accept, whisper_text


@bp.post("/callback/<int:rid>/agent")
def callback_agent(rid: int) -> Response:
    """The agent picked up the callback: tell them who it is, then dial the customer. An agent
    on a phone number is dialled with answering machine detection and takes the callback with
    a key (`callback_accept`): their voicemail is no agent, and the customer is not rung into
    it."""
    leg_sid = form_field("CallSid")
    answered_by = request.form.get("AnsweredBy", "").strip()
    rt = current()

    def decide(session: Session, reservation: Reservation, attempt: CallbackAttempt) -> str:
        if answered_by_machine(answered_by):
            agent_not_reached(session, rt, reservation, attempt, result="voicemail")
            return twiml.hang_up()
        if is_phone(reservation.agent.endpoint):
            text = whisper_text(session, reservation, template="callback_whisper_accept")
            return ask_to_accept(text, action=public_url_for("voice.callback_accept", rid=rid),
                                 seconds=rt.settings.agent_accept_seconds)
        reservations.answered(session, reservation=reservation, now=rt.clock.now(),
                              agent_call_sid=leg_sid)
        response = VoiceResponse()
        response.say(whisper_text(session, reservation, template="callback_whisper"),
                     language="en-US")
        _dial_customer(response, rt, rid, attempt)
        return str(response)

    return _offered_leg(rid, decide)


@bp.post("/callback/<int:rid>/accept")
def callback_accept(rid: int) -> Response:
    """The agent on a phone number pressed the key: the customer is dialled. No key (their
    voicemail, taken for a person): the agent did not answer, and the callback keeps its
    place for the next agent."""
    digits = request.form.get("Digits", "")
    leg_sid = form_field("CallSid")
    rt = current()

    def decide(session: Session, reservation: Reservation, attempt: CallbackAttempt) -> str:
        if not accepted(digits):
            agent_not_reached(session, rt, reservation, attempt, result="not-accepted")
            return twiml.hang_up()
        reservations.answered(session, reservation=reservation, now=rt.clock.now(),
                              agent_call_sid=leg_sid)
        response = VoiceResponse()
        _dial_customer(response, rt, rid, attempt)
        return str(response)

    return _offered_leg(rid, decide)


def _offered_leg(
    rid: int, decide: Callable[[Session, Reservation, CallbackAttempt], str]
) -> Response:
    """The agent's TwiML from `decide` while the callback's reservation is offered; a leg
    whose reservation is not (or has no attempt) is hung up on."""
    rt = current()

    def work(session: Session) -> str:
        reservation, attempt = loaded(session, rid)
        if reservation is None or attempt is None or reservation.status != "offered":
            return twiml.hang_up()
        return decide(session, reservation, attempt)

    return answer(rt, work)


def _dial_customer(response: VoiceResponse, rt: Any, rid: int,
                   attempt: CallbackAttempt) -> None:
    dial = response.dial(
        caller_id=rt.settings.support_number,
        action=public_url_for("voice.callback_done", rid=rid),
        method="POST",
        timeout=rt.callbacks.ring_timeout,
        record="record-from-answer-dual",
        recording_status_callback=public_url_for("voice.recording_status"),
        recording_status_callback_event="completed",
    )
    dial.number(attempt.callback.number,
                url=public_url_for("voice.callback_screen", rid=rid), method="POST",
                machine_detection="Enable")


@bp.post("/callback/<int:rid>/screen")
def callback_screen(rid: int) -> Response:
    """Runs on the customer's leg once it answers: a machine is hung up on (not reached)."""
    answered_by = request.form.get("AnsweredBy", "").strip() or "unknown"
    customer_sid = request.form.get("CallSid", "")
    rt = current()

    def work(session: Session) -> str:
        _, attempt = loaded(session, rid)
        response = VoiceResponse()
        if attempt is not None:
            attempt.customer_call_sid = customer_sid
            attempt.answered_by = answered_by
            events.record(session, "callback.answered_by", at=rt.clock.now(),
                          call_id=attempt.callback.call_id, attempt_id=attempt.id,
                          answered_by=answered_by)
        if answered_by_machine(answered_by):
            response.hangup()
            return str(response)
        call = session.get(Call, attempt.callback.call_id) if attempt else None
        language = language_or_default((call.vars or {}).get("language") if call else None)
        response.say(prompt("callback_hello", language), language=language)
        return str(response)

    return twiml_response(rt.db.run(work))


@bp.post("/callback/<int:rid>/done")
def callback_done(rid: int) -> Response:
    """The customer's leg ended: reached (and talked), or not."""
    dial_status = request.form.get("DialCallStatus", "").strip()
    rt = current()

    def work(session: Session) -> str:
        reservation, attempt = loaded(session, rid)
        response = VoiceResponse()
        if reservation is None or attempt is None:
            response.hangup()
            return str(response)
        now = rt.clock.now()
        result = customer_result(attempt, dial_status)
        if result == "agent-missed":
            agent_left(session, rt, reservation, attempt, now=now)
            response.hangup()
            return str(response)
        customer_leg_ended(session, rt, reservation, attempt, result=result, now=now)
        if result != "completed":
            response.say(prompt("callback_not_reached", "en-US"), language="en-US")
        response.hangup()
        return str(response)

    return answer(rt, work)


@bp.post("/callback/<int:rid>/agent-status")
def callback_agent_status(rid: int) -> Response:
    """The agent's leg: not answered means the agent goes not-ready and the customer keeps
    their place for the next agent."""
    status = form_field("CallStatus")
    rt = current()
    changed = rt.db.run(lambda session: apply_agent_leg_status(session, rt, rid, status=status))
    rt.poke_router()
    return Response("", status=204 if changed else 200)
