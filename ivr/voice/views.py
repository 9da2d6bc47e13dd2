"""The IVR and the queue: the caller's webhooks from the first ring to a queue entry. Each
handler parses the request, runs one transaction of domain work and answers TwiML."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callback import service as callbacks
from callflows import engine
from callflows.engine import Enqueue, FlowError
from ivr import casework, events
from ivr.call_end import apply_carrier_status
from ivr.calls import flowsteps
from ivr.calls.models import STATUS_ORDER, Call, CallEvent
from ivr.calls.service import (
    find_call,
    identify_caller,
    normalize_number,
    open_inbound_call,
)
from ivr.routing import queue
from ivr.routing.estimate import WaitEstimate, estimate, rounded_minutes
from ivr.runtime import current
from ivr.voice import cases as voice_cases
from ivr.voice import twiml
from ivr.voice.blueprint import (
    answer,
    bp,
    call_or_adopt,
    form_field,
    int_arg,
    log,
    public_url_for,
    twiml_response,
    wakes_router,
)
from ivr.voice.callbacks import add_offer, should_offer
from ivr.voice.prompts import language_or_default, prompt
from recordings import service as ingest

MAX_RECOVERY_ATTEMPTS = 3


def render_step(session: Session, call: Call, step: engine.Step) -> str:
    now = current().clock.now()
    entry = flowsteps.apply_step(session, call=call, step=step, now=now)
    queue_name = entry.queue_name if entry is not None else None
    actions = step.actions
    if actions and isinstance(actions[-1], engine.CaseCheck):
        before = twiml.render(actions[:-1], url_for=public_url_for)
        return voice_cases.render_case_check(session, call, actions[-1], before)
    incident = casework.incident_for(session, call, entry.skills) if entry else None
    if incident is None:
        return twiml.render(actions, url_for=public_url_for, queue_name=queue_name)
    # An outage on what the caller chose: its message first, then the queue.
    return twiml.join(
        twiml.render(actions[:-1], url_for=public_url_for),
        voice_cases.incident_preamble(session, call, incident),
        twiml.render(actions[-1:], url_for=public_url_for, queue_name=queue_name),
    )


@bp.post("/incoming")
def incoming() -> Response:
    sid = form_field("CallSid")
    from_number = normalize_number(request.form.get("From"))
    to_number = normalize_number(request.form.get("To"))
    rt = current()

    def work(session: Session) -> str:
        now = rt.clock.now()
        call, created = open_inbound_call(
            session, sid=sid, from_number=from_number, to_number=to_number, now=now
        )
        if not created and call.path:
            # The carrier repeated the request: carry on where the call is, do not restart it.
            return resume(session, call)
        caller = identify_caller(session, number=from_number, now=now, tz=rt.calendar.tz)
        flowsteps.remember_caller(call, caller)
        step = engine.start(
            rt.flows.current(), flowsteps.context(call), now=now, calendar=rt.calendar
        )
        return render_step(session, call, step)

    return answer(rt, work)


@bp.post("/menu/<node>")
def menu_answer(node: str) -> Response:
    sid = form_field("CallSid")
    attempt = int_arg("attempt", 1)
    digits = request.form.get("Digits", "").strip() or None
    speech = request.form.get("SpeechResult", "").strip() or None
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        now = rt.clock.now()
        flow = rt.flows.current()
        try:
            step = engine.answer(
                flow,
                node,
                flowsteps.context(call),
                digits=digits,
                speech=speech,
                attempt=attempt,
                now=now,
                calendar=rt.calendar,
            )
        except FlowError as exc:
            # A node that is not (or no longer) in the flow: start the caller's menu again.
            log.warning("call %s answered unknown menu %r: %s", sid, node, exc)
            step = engine.start(flow, flowsteps.context(call), now=now, calendar=rt.calendar)
        return render_step(session, call, step)

    return answer(rt, work)


@bp.post("/menu/<node>/silence")
def menu_silence(node: str) -> Response:
    sid = form_field("CallSid")
    attempt = int_arg("attempt", 1)
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        now = rt.clock.now()
        flow = rt.flows.current()
        try:
            step = engine.no_input(
                flow, node, flowsteps.context(call), attempt=attempt, now=now, calendar=rt.calendar
            )
        except FlowError as exc:
            log.warning("call %s: silence at unknown menu %r: %s", sid, node, exc)
            step = engine.start(flow, flowsteps.context(call), now=now, calendar=rt.calendar)
        return render_step(session, call, step)

    return answer(rt, work)


@bp.post("/queue/wait")
def queue_wait() -> Response:
    sid = form_field("CallSid")
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        entry = queue.open_entry(session, call=call)
        if entry is None:
            entry = _enqueue_stray(session, call)
        if entry.status != "waiting":
            # Reserved: the router is putting the call through right now.
            return twiml.hold_with_estimate(
                lines=[prompt("still_here", language)],
                language=language,
                music_url=None,
                pause_seconds=5,
            )
        now = rt.clock.now()
        wait = estimate(session, entry=entry, now=now, policy=rt.policy)
        events.record(
            session,
            "queue.announced",
            at=now,
            call_id=call.id,
            entry_id=entry.id,
            position=wait.position,
            estimate=wait.seconds,
            eligible_agents=wait.eligible_agents,
        )
        lines = wait_lines(wait, language)
        settings = rt.flows.current().settings
        offer = should_offer(call, entry, waited=now.timestamp() - entry.entered_epoch,
                             estimate=wait.seconds,
                             offer_after=settings.callback_offer_after,
                             offer_above=settings.callback_offer_above)
        if not offer:
            return twiml.hold_with_estimate(
                lines=lines,
                language=language,
                music_url=None,
                pause_seconds=rt.settings.wait_announce_seconds,
            )
        if not entry.extra.get("callback_offered"):
            entry.extra = {**entry.extra, "callback_offered": True}
            events.record(session, "callback.offered", at=now, call_id=call.id,
                          entry_id=entry.id, estimate=wait.seconds)
        response = VoiceResponse()
        for line in lines:
            response.say(line, language=language)
        add_offer(response, language=language, hold_seconds=rt.settings.wait_announce_seconds)
        return str(response)

    return answer(rt, work)


def wait_lines(wait: WaitEstimate, language: str) -> list[str]:
    """Position first, then the estimate in round words."""
    if wait.position == 1:
        lines = [prompt("next", language)]
    else:
        lines = [prompt("position", language, position=wait.position)]
    if wait.seconds is None:
        lines.append(prompt("wait_unknown", language))
        return lines
    minutes = rounded_minutes(wait.seconds)
    if minutes is None:
        lines.append(prompt("wait_soon", language))
    elif minutes == 1:
        lines.append(prompt("wait_one_minute", language))
    else:
        lines.append(prompt("wait_minutes", language, minutes=minutes))
    return lines


def _enqueue_stray(session: Session, call: Call) -> Any:
    """A caller holding in the carrier's queue without an entry of ours (adopted, or put there
    by the recovery path): give them one with the flow's general skill so they are served."""
    rt = current()
    flow = rt.flows.current()
    step = engine.to_person(flow, flowsteps.context(call), now=rt.clock.now(), calendar=rt.calendar)
    target = next((a for a in step.actions if isinstance(a, Enqueue)), None)
    skills = dict(target.skills) if target else {"general": 1}
    return queue.enqueue(
        session,
        call=call,
        skills=skills,
        priority=target.priority if target else 0,
        reasons=["recovered into the queue"],
        now=rt.clock.now(),
    )


@bp.post("/queue/result")
def queue_result() -> Response:
    sid = form_field("CallSid")
    result = request.form.get("QueueResult", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        now = rt.clock.now()
        events.record(
            session,
            "queue.result",
            at=now,
            call_id=call.id,
            result=result,
            queue_time=request.form.get("QueueTime"),
        )
        entry = queue.waiting_entry(session, call=call)
        if result == "hangup":
            if entry is not None:
                queue.abandon(session, entry=entry, now=now)
            call.outcome = "abandoned" if entry is not None else call.outcome
            return twiml.render([], url_for=public_url_for)
        if result in ("bridged", "redirected", "redirected-from-bridged"):
            return twiml.render([], url_for=public_url_for)
        if result == "leave" and callbacks.for_call(session, call_id=call.id) is not None:
            # They left the line with a callback booked: nothing more to say.
            return twiml.render([engine.Hangup()], url_for=public_url_for)
        # Still on the line (leave, error, queue-full): back into the queue, same entry.
        return resume(session, call)

    return answer(rt, work)


@bp.post("/queue/rejoin")
def queue_rejoin() -> Response:
    """Back into the queue after a transfer to a skill: the new entry is already there."""
    sid = form_field("CallSid")
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        entry = queue.open_entry(session, call=call) or _enqueue_stray(session, call)
        language = language_or_default(call.vars.get("language"))
        return twiml.back_to_queue(
            queue_name=entry.queue_name,
            wait_url=public_url_for("voice.queue_wait"),
            action=public_url_for("voice.queue_result"),
            message=prompt("transferring", language),
            language=language,
        )

    return answer(rt, work)


@bp.post("/voicemail/<node>")
def voicemail_done(node: str) -> Response:
    sid = form_field("CallSid")
    rt = current()

    queued: list[int] = []

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        now = rt.clock.now()
        events.record(
            session,
            "voicemail.left",
            at=now,
            call_id=call.id,
            node=node,
            recording_sid=request.form.get("RecordingSid"),
            recording_url=request.form.get("RecordingUrl"),
            duration=request.form.get("RecordingDuration"),
        )
        queued.clear()
        queued.extend(_note_voicemail(session, call, now))
        call.outcome = "voicemail"
        told = casework.on_voicemail(session, rt, call)
        flow = rt.flows.current()
        try:
            step = engine.after_voicemail(
                flow, node, flowsteps.context(call), now=now, calendar=rt.calendar
            )
        except FlowError:
            step = engine.goodbye(flow, flowsteps.context(call))
        said = engine.Say(told, language_or_default(call.vars.get("language")))
        step = engine.Step([said, *step.actions], step.path, step.vars, step.outcome)
        return render_step(session, call, step)

    body = answer(rt, work)
    for recording_id in queued:
        rt.recordings.submit(recording_id)
    return body


def _note_voicemail(session: Session, call: Call, now: Any) -> list[int]:
    """The voicemail's recording, noted like any other (its download queued once). A bad
    recording field is logged, never held against the caller still on the line."""
    recording_sid = request.form.get("RecordingSid", "").strip()
    recording_url = request.form.get("RecordingUrl", "").strip()
    duration = request.form.get("RecordingDuration", "").strip()
    if not recording_sid or not recording_url:
        return []
    try:
        recording = ingest.note_recording(
            session,
            call=call,
            sid=recording_sid,
            url=recording_url,
            status="completed" if duration != "0" else "absent",
            now=now,
            kind="voicemail",
            channels=1,
            duration=int(duration) if duration.isdigit() else None,
        )
    except ingest.RecordingError as exc:
        log.warning("call %s: voicemail recording not noted: %s", call.sid, exc)
        return []
    return [recording.id] if recording is not None else []


@bp.post("/transfer/<node>")
def transfer_done(node: str) -> Response:
    sid = form_field("CallSid")
    dial_status = request.form.get("DialCallStatus", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        now = rt.clock.now()
        events.record(
            session,
            "transfer.result",
            at=now,
            call_id=call.id,
            node=node,
            status=dial_status,
            duration=request.form.get("DialCallDuration"),
        )
        if dial_status == "completed":
            call.outcome = "transferred"
            return twiml.render([engine.Hangup()], url_for=public_url_for)
        flow = rt.flows.current()
        try:
            step = engine.after_transfer_failed(
                flow, node, flowsteps.context(call), now=now, calendar=rt.calendar
            )
        except FlowError:
            step = engine.to_person(flow, flowsteps.context(call), now=now, calendar=rt.calendar)
        return render_step(session, call, step)

    return answer(rt, work)


@bp.post("/status")
def status() -> Response:
    sid = form_field("CallSid")
    call_status = form_field("CallStatus")
    if call_status not in STATUS_ORDER:
        abort(400, description=f"unknown CallStatus {call_status!r}")
    duration = request.form.get("CallDuration", "").strip()
    if duration and not duration.isdigit():
        abort(400, description=f"CallDuration must be whole seconds, not {duration!r}")
    rt = current()

    recorded: list[CallEvent] = []

    def work(session: Session) -> bool:
        call = find_call(session, sid)
        if call is None:
            abort(404, description=f"unknown CallSid {sid}")
        changed = apply_carrier_status(session, rt, call, status=call_status,
                                       duration=int(duration) if duration else None)
        recorded[:] = events.pending(session)
        return changed

    changed = rt.db.run(work)
    if changed and wakes_router(recorded):
        rt.poke_router()  # an agent freed by the call's end, or its follow-up dialled
    return Response("", status=204 if changed else 200)


@bp.post("/recover")
def recover() -> Response:
    """Where a caller goes after our error: back to where they were once the service works."""
    sid = form_field("CallSid")
    attempt = int_arg("attempt", 1)
    rt = current()
    if attempt > MAX_RECOVERY_ATTEMPTS:
        # The database is still failing: hold the caller in the carrier's queue; the wait loop
        # gives them an entry as soon as the database answers again.
        log.error("call %s still failing after %d recoveries: holding in queue", sid, attempt - 1)
        return twiml_response(
            twiml.render(
                [Enqueue(node="recover", skills={"general": 1}, priority=0, reasons=[])],
                url_for=public_url_for,
                queue_name="general",
            )
        )
    return answer(rt, lambda session: resume(session, call_or_adopt(session, sid)))


def resume(session: Session, call: Call) -> str:
    """TwiML that puts a caller back where the call was: in the queue, or at the last menu."""
    rt = current()
    now = rt.clock.now()
    if queue.waiting_entry(session, call=call) is not None:
        return twiml.render(
            [Enqueue(node=call.node or "queue", skills={"general": 1}, priority=0, reasons=[])],
            url_for=public_url_for,
            queue_name=queue.waiting_entry(session, call=call).queue_name,
        )
    flow = rt.flows.current()
    step = engine.resume(flow, call.node, flowsteps.context(call), now=now, calendar=rt.calendar)
    return render_step(session, call, step)
