"""Connecting a reserved caller to the agent: the Dial to the agent's endpoint, the agent's
leg answering, and the end of the Dial (completed, or not answered: back to the queue)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from flask import Response, abort, request
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callback import followups
from ivr import casework, events
from ivr.calls.models import Call
from ivr.calls.service import find_call
from ivr.routing import reservations
from ivr.routing.models import Reservation
from ivr.runtime import current
from ivr.telephony import answered_by_machine
from ivr.voice import twiml
from ivr.voice.blueprint import (
    answer,
    bp,
    call_or_adopt,
    form_field,
    log,
    public_url_for,
    twiml_response,
)
from ivr.voice.prompts import language_or_default, prompt
from ivr.voice.whisper import accepted, ask_to_accept, whisper_text
from recordings import service as ingest

MISSED = {"no-answer", "busy", "failed"}
# What the agent's leg of an offered reservation is told (its TwiML), from the reservation.
LegDecision = Callable[[Session, Reservation, datetime], str]


def _reservation(session: Session, rid: int) -> Reservation | None:
    return session.get(Reservation, rid)


def _back_to_queue(call, entry_queue: str, message: str | None) -> str:
    language = language_or_default(call.vars.get("language"))
    return twiml.back_to_queue(
        queue_name=entry_queue,
        wait_url=public_url_for("voice.queue_wait"),
        action=public_url_for("voice.queue_result"),
        message=message,
        language=language,
    )


@bp.post("/connect/<int:rid>")
def connect(rid: int) -> Response:
    """Where the router redirects a reserved caller: dial the agent."""
    sid = form_field("CallSid")
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        reservation = _reservation(session, rid)
        if reservation is None or reservation.call_id != call.id:
            log.warning("call %s redirected to reservation %s that is not its own", sid, rid)
            return _back_to_queue(call, "general", None)
        if reservation.status != "offered":
            return _back_to_queue(call, reservation.entry.queue_name, None)
        language = language_or_default(call.vars.get("language"))
        events.record(
            session,
            "routing.dialing",
            at=rt.clock.now(),
            call_id=call.id,
            agent_id=reservation.agent_id,
            reservation_id=rid,
            endpoint=reservation.agent.endpoint,
        )
        case_words = casework.on_connect(session, rt, reservation, call)
        announce = " ".join(filter(None, [case_words, prompt("connecting", language)]))
        return twiml.dial_agent(
            endpoint=reservation.agent.endpoint,
            announce=announce,
            language=language,
            action=public_url_for("voice.connect_done", rid=rid),
            leg_callback=public_url_for("voice.connect_leg", rid=rid),
            recording_callback=public_url_for("voice.recording_status"),
            screen=public_url_for("voice.connect_screen", rid=rid),
            timeout=rt.policy.ring_timeout,
        )

    return twiml_response(rt.db.run(work))


def talking_to_a_person(session: Session, rt, reservation: Reservation, now) -> None:
    """The caller reached an agent: their case has its first response, and their open
    follow-up is done (they called in and talked to someone)."""
    casework.on_answered(session, rt, reservation)
    followups.close_for_number(session, number=reservation.entry.call.from_number, now=now,
                               by="answered inbound call")


@bp.post("/connect/<int:rid>/leg")
def connect_leg(rid: int) -> Response:
    """Status of the agent's leg: `in-progress` means the agent answered."""
    status = form_field("CallStatus")
    leg_sid = form_field("CallSid")
    rt = current()

    def work(session: Session) -> bool:
        reservation = _reservation(session, rid)
        if reservation is None:
            return False
        if status not in ("in-progress", "answered"):
            return False
        now = rt.clock.now()
        if not reservations.answered(
            session, reservation=reservation, now=now, agent_call_sid=leg_sid
        ):
            return False
        talking_to_a_person(session, rt, reservation, now)
        return True

    changed = rt.db.run(work)
    return Response("", status=204 if changed else 200)


@bp.post("/connect/<int:rid>/screen")
def connect_screen(rid: int) -> Response:
    """Runs on an agent's phone number once it answers, before the caller is bridged: a
    person hears who is waiting and takes the call with a key (`connect_accept`); a voicemail
    is hung up on and counts as the agent not answering (not-ready, the caller keeps their
    place). Not caller-facing: if it fails, the carrier fails this leg and the Dial's action
    puts the caller back in the queue."""
    answered_by = request.form.get("AnsweredBy", "").strip() or "unknown"

    def decide(session: Session, reservation: Reservation, now: datetime) -> str:
        events.record(session, "routing.screened", at=now, call_id=reservation.call_id,
                      agent_id=reservation.agent_id, reservation_id=rid,
                      answered_by=answered_by)
        if answered_by_machine(answered_by):
            return _agent_missed(session, reservation, now, result="voicemail")
        text = whisper_text(session, reservation, template="agent_whisper_accept")
        return ask_to_accept(text, action=public_url_for("voice.connect_accept", rid=rid),
                             seconds=current().settings.agent_accept_seconds)

    return _offered_leg(rid, decide)


@bp.post("/connect/<int:rid>/accept")
def connect_accept(rid: int) -> Response:
    """The agent on a phone number pressed the key: put through (they answered). No key (a
    voicemail detection took for a person, a phone in a pocket): hung up on, the agent did
    not answer, and the caller keeps their place. Not caller-facing, as `connect_screen`."""
    digits = request.form.get("Digits", "")
    leg_sid = form_field("CallSid")
    rt = current()

    def decide(session: Session, reservation: Reservation, now: datetime) -> str:
        if not accepted(digits):
            return _agent_missed(session, reservation, now, result="not-accepted")
        reservations.answered(session, reservation=reservation, now=now, agent_call_sid=leg_sid)
        talking_to_a_person(session, rt, reservation, now)
        return str(VoiceResponse())  # the whisper is over: the carrier bridges

    return _offered_leg(rid, decide)


def _offered_leg(rid: int, decide: LegDecision) -> Response:
    """The agent's TwiML from `decide` for a reservation still offered; a leg whose reservation
    is not (the caller left, or the leg is no longer theirs) is hung up on. An agent found
    missing puts the caller back in the queue, which wakes the router (`answer`)."""
    rt = current()

    def work(session: Session) -> str:
        reservation = _reservation(session, rid)
        if reservation is None or reservation.status != "offered":
            return twiml.hang_up()
        return decide(session, reservation, rt.clock.now())

    return answer(rt, work)


def _agent_missed(session: Session, reservation: Reservation, now: datetime, *,
                  result: str) -> str:
    reservations.missed(session, reservation=reservation, now=now, result=result)
    return twiml.hang_up()


@bp.post("/connect/<int:rid>/done")
def connect_done(rid: int) -> Response:
    """The Dial ended: the conversation is over, or the agent did not answer."""
    sid = form_field("CallSid")
    dial_status = request.form.get("DialCallStatus", "").strip()
    duration = request.form.get("DialCallDuration", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        now = rt.clock.now()
        reservation = _reservation(session, rid)
        events.record(
            session,
            "routing.dial_result",
            at=now,
            call_id=call.id,
            reservation_id=rid,
            status=dial_status,
            duration=duration or None,
        )
        if reservation is None or reservation.call_id != call.id:
            return _back_to_queue(call, "general", None)
        language = language_or_default(call.vars.get("language"))
        if reservation.status == "missed":
            # The screen found the agent's voicemail (the leg may still end "completed").
            return _back_to_queue(
                call, reservation.entry.queue_name, prompt("agent_missed", language)
            )
        if dial_status == "completed":
            if reservation.status == "offered" and reservations.answered(
                session,
                reservation=reservation,
                now=now,
                agent_call_sid=request.form.get("DialCallSid"),
            ):  # the leg's answered callback never came
                talking_to_a_person(session, rt, reservation, now)
            reservations.finished(
                session,
                reservation=reservation,
                now=now,
                wrap_up_seconds=rt.policy.wrap_up_seconds,
                talk_seconds=int(duration) if duration.isdigit() else None,
            )
            return twiml.render([], url_for=public_url_for)
        if dial_status in MISSED:
            reservations.missed(session, reservation=reservation, now=now, result=dial_status)
            return _back_to_queue(
                call, reservation.entry.queue_name, prompt("agent_missed", language)
            )
        reservations.canceled(
            session, reservation=reservation, now=now, why=f"dial {dial_status or 'ended'}"
        )
        if reservation.entry.status == "reserved":
            reservation.entry.status = "waiting"
            reservation.entry.agent_id = None
        return _back_to_queue(call, reservation.entry.queue_name, None)

    body = rt.db.run(work)
    rt.poke_router()
    return twiml_response(body)


@bp.post("/recording")
def recording_status() -> Response:
    """A recording's status at the carrier. A completed one is noted and its download queued
    (once, however often the callback comes); the download and transcription happen off this
    request, on the recording worker."""
    sid = form_field("CallSid")
    recording_sid = form_field("RecordingSid")
    status = request.form.get("RecordingStatus", "completed").strip()
    rt = current()

    def work(session: Session) -> int | None:
        call = _recorded_call(session, sid)
        events.record(
            session,
            f"recording.{status}" if status in RECORDING_STATUSES else "recording.completed",
            at=rt.clock.now(),
            call_id=call.id,
            recording_sid=recording_sid,
            recording_url=request.form.get("RecordingUrl"),
            status=status,
            duration=request.form.get("RecordingDuration"),
            channels=request.form.get("RecordingChannels"),
        )
        recording = ingest.note_recording(
            session,
            call=call,
            sid=recording_sid,
            url=form_field("RecordingUrl"),
            status=status,
            now=rt.clock.now(),
            source=request.form.get("RecordingSource"),
            channels=_int_field("RecordingChannels"),
            duration=_int_field("RecordingDuration"),
            started_at=_rfc2822_field("RecordingStartTime"),
        )
        return recording.id if recording is not None else None

    try:
        queued = rt.db.run(work)
    except ingest.RecordingError as exc:
        abort(400, description=str(exc))
    if queued is not None:
        rt.recordings.submit(queued)
    return Response("", status=204)


RECORDING_STATUSES = ("in-progress", "completed", "absent", "failed")


def _recorded_call(session: Session, sid: str) -> Call:
    """The call a recording belongs to. A callback is recorded on the agent's leg (the
    service dialled the agent, then the customer): it belongs to the call the callback is
    for, not to a new call of its own."""
    call = find_call(session, sid)
    if call is not None:
        return call
    reservation = session.scalar(select(Reservation).where(Reservation.agent_call_sid == sid))
    if reservation is not None:
        return session.get(Call, reservation.call_id)
    return call_or_adopt(session, sid)


def _int_field(name: str) -> int | None:
    raw = request.form.get(name, "").strip()
    return int(raw) if raw.isdigit() else None


def _rfc2822_field(name: str) -> datetime | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
