"""Making a callback: the agent is called first and hears who, why and how long they waited
(the whisper); then the customer is dialled and bridged. Answering machines are detected and
count as not reached."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callback import service as callbacks
from ivr import events
from ivr.callback_leg_end import agent_left, agent_not_reached, apply_agent_leg_status, loaded
from ivr.calls.models import Call
from ivr.cases import service as cases
from ivr.routing import reservations
from ivr.runtime import current
from ivr.voice.blueprint import answer, bp, form_field, public_url_for, twiml_response
from ivr.voice.prompts import language_or_default, prompt
from ivr.voice.whisper import answered_by_machine, whisper_text


@bp.post("/callback/<int:rid>/agent")
def callback_agent(rid: int) -> Response:
    """The agent picked up the callback: tell them who it is, then dial the customer. An agent
    on a phone number is dialled with answering machine detection: their voicemail is no
    agent, and the customer is not rung into it."""
    leg_sid = form_field("CallSid")
    answered_by = request.form.get("AnsweredBy", "").strip()
    rt = current()

    def work(session: Session) -> str:
        reservation, attempt = loaded(session, rid)
        response = VoiceResponse()
        if reservation is None or attempt is None or reservation.status != "offered":
            response.hangup()
            return str(response)
        if answered_by_machine(answered_by):
            agent_not_reached(session, rt, reservation, attempt, result="voicemail")
            response.hangup()
            return str(response)
        reservations.answered(session, reservation=reservation, now=rt.clock.now(),
                              agent_call_sid=leg_sid)
        response.say(whisper_text(session, reservation, template="callback_whisper"),
                     language="en-US")
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
        return str(response)

    return answer(rt, work)


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
        machine = answered_by_machine(attempt.answered_by or "")
        if dial_status == "completed" and not machine:
            result = "completed"
        elif dial_status == "canceled":
            result = "agent-missed"  # the agent hung up before the customer answered
        else:
            result = "machine" if machine else (dial_status or "failed")
        if result == "agent-missed":
            agent_left(session, rt, reservation, attempt, now=now)
            response.hangup()
            return str(response)
        callbacks.finish_attempt(session, attempt=attempt, result=result, now=now,
                                 calendar=rt.calendar, policy=rt.callbacks)
        if result == "completed":
            case = cases.for_call(session, attempt.callback.call_id)
            if case is not None:
                cases.first_response(session, case=case, now=now,
                                     agent_id=reservation.agent_id)
        wrap_up = rt.policy.wrap_up_seconds if result == "completed" else 0
        reservations.finished(session, reservation=reservation, now=now,
                              wrap_up_seconds=wrap_up)
        if attempt.callback.status == "scheduled":  # to be tried again later
            callbacks.wait_for_next_attempt(reservation.entry)
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
