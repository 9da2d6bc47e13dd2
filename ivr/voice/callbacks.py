"""The callback offer while waiting: press 1 to be called back when it is your turn (keeping
your place), press 2 to choose a time. The number is the caller ID, confirmed, or one the
caller keys in (checked; an invalid one is asked for again)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callback import manners, slots
from callback import service as callbacks
from ivr import casework, events
from ivr.calls.models import Call
from ivr.routing import queue
from ivr.routing.estimate import recent_handle_seconds
from ivr.routing.models import QueueEntry
from ivr.runtime import current
from ivr.voice.blueprint import (
    answer,
    bp,
    call_or_adopt,
    form_field,
    int_arg,
    public_url_for,
)
from ivr.voice.prompts import language_or_default, prompt

MAX_NUMBER_TRIES = 3


def spoken_number(number: str) -> str:
    """Digits a text-to-speech voice reads one by one, grouped like a person would."""
    digits = number.removeprefix("+1") if number.startswith("+1") else number.lstrip("+")
    if len(digits) == 10:
        groups = [digits[:3], digits[3:6], digits[6:]]
    else:
        groups = [digits[i:i + 3] for i in range(0, len(digits), 3)]
    return ", ".join(" ".join(group) for group in groups)


def should_offer(call: Call, entry: QueueEntry, *, waited: float, estimate: float | None,
                 offer_after: int, offer_above: int) -> bool:
    """Offer a callback to a caller on the line who can be called back, once the wait has
    gone on long enough or is expected to be long."""
    if entry.kind != "call" or callbacks.customer_number(call.from_number) is None:
        return False
    long_wait = offer_after > 0 and waited >= offer_after
    long_estimate = offer_above > 0 and (estimate is None or estimate >= offer_above)
    return long_wait or long_estimate


def add_offer(response: VoiceResponse, *, language: str, hold_seconds: int) -> None:
    """The offer, listening for a key for the length of one turn of the wait loop."""
    gather = response.gather(input="dtmf", num_digits=1, timeout=hold_seconds,
                             action=public_url_for("voice.callback_offer"), method="POST")
    gather.say(prompt("callback_offer", language), language=language)


def _response(*lines: str, language: str) -> VoiceResponse:
    response = VoiceResponse()
    for line in lines:
        response.say(line, language=language)
    return response


def _ask_to_confirm(call: Call, choice: str, language: str) -> str:
    caller_id = callbacks.customer_number(call.from_number)
    if caller_id is None:
        return _ask_for_number(choice, language, attempt=1)
    response = VoiceResponse()
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                             action=public_url_for("voice.callback_number", choice=choice))
    gather.say(prompt("callback_confirm", language, number=spoken_number(caller_id)),
               language=language)
    response.say(prompt("callback_stay", language), language=language)
    return str(response)


def _ask_for_number(choice: str, language: str, *, attempt: int, sorry: bool = False) -> str:
    response = VoiceResponse()
    if sorry:
        response.say(prompt("callback_bad_number", language), language=language)
    gather = response.gather(input="dtmf", finish_on_key="#", timeout=10, method="POST",
                             action=public_url_for("voice.callback_keyed", choice=choice,
                                                   attempt=attempt))
    gather.say(prompt("callback_enter_number", language), language=language)
    response.say(prompt("callback_stay", language), language=language)
    return str(response)


def _entry(session: Session, call: Call) -> QueueEntry | None:
    entry = queue.waiting_entry(session, call=call)
    return entry if entry is not None and entry.kind == "call" else None


@bp.post("/callback/offer")
def callback_offer() -> Response:
    """The caller's key at the offer: 1 keeps their place, 2 picks a time."""
    sid = form_field("CallSid")
    digits = request.form.get("Digits", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        if digits not in ("1", "2") or _entry(session, call) is None:
            return str(_response(prompt("callback_stay", language), language=language))
        choice = "keep" if digits == "1" else "slot"
        events.record(session, "callback.chosen", at=rt.clock.now(), call_id=call.id,
                      choice=choice)
        return _ask_to_confirm(call, choice, language)

    return answer(rt, work)


@bp.post("/callback/number")
def callback_number() -> Response:
    """1: the caller ID is right. 2: the caller keys in another number."""
    sid = form_field("CallSid")
    choice = _choice()
    digits = request.form.get("Digits", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        if digits == "1" and (number := callbacks.customer_number(call.from_number)):
            return _proceed(session, call, choice, number, language)
        if digits == "2":
            return _ask_for_number(choice, language, attempt=1)
        return str(_response(prompt("callback_stay", language), language=language))

    return answer(rt, work)


@bp.post("/callback/keyed")
def callback_keyed() -> Response:
    sid = form_field("CallSid")
    choice = _choice()
    attempt = int_arg("attempt", 1)
    keyed = request.form.get("Digits", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        number = callbacks.customer_number(keyed)
        if number is None:
            events.record(session, "callback.number_invalid", at=rt.clock.now(),
                          call_id=call.id, attempt=attempt)
            if attempt >= MAX_NUMBER_TRIES:
                return str(_response(prompt("callback_stay", language), language=language))
            return _ask_for_number(choice, language, attempt=attempt + 1, sorry=True)
        return _proceed(session, call, choice, number, language)

    return answer(rt, work)


def _choice() -> str:
    choice = request.args.get("choice", "keep")
    return choice if choice in ("keep", "slot") else "keep"


def _proceed(session: Session, call: Call, choice: str, number: str, language: str) -> str:
    rt = current()
    now = rt.clock.now()
    entry = _entry(session, call)
    if entry is None:
        return str(_response(prompt("callback_stay", language), language=language))
    if manners.on_do_not_call(session, number):
        return str(_response(prompt("callback_not_possible", language), language=language))
    if choice == "slot":
        offered = slots.offer(session, skills=entry.skills, now=now, calendar=rt.calendar,
                              policy=rt.callbacks,
                              handle_seconds=recent_handle_seconds(session, policy=rt.policy))
        if offered:
            return _offer_slots(offered, number, language)
    case_words = casework.on_callback_booked(session, rt, call, entry)
    callbacks.keep_place(session, call=call, entry=entry, number=number, now=now,
                         policy=rt.callbacks)
    call.outcome = "callback"
    response = _response(case_words,
                         prompt("callback_kept", language, number=spoken_number(number)),
                         language=language)
    response.leave()
    return str(response)


def _offer_slots(offered: list[slots.Slot], number: str, language: str) -> str:
    rt = current()
    now = rt.clock.now()
    response = VoiceResponse()
    starts = ",".join(str(int(slot.start.timestamp())) for slot in offered)
    gather = response.gather(input="dtmf", num_digits=1, timeout=8, method="POST",
                             action=public_url_for("voice.callback_slot", number=number,
                                                   slots=starts))
    for index, slot in enumerate(offered, start=1):
        when = slots.describe(slot.start, now=now, calendar=rt.calendar, language=language)
        gather.say(prompt("callback_slot_option", language, when=when, key=index),
                   language=language)
    response.say(prompt("callback_stay", language), language=language)
    return str(response)


@bp.post("/callback/slot")
def callback_slot() -> Response:
    sid = form_field("CallSid")
    digits = request.form.get("Digits", "").strip()
    number = callbacks.customer_number(request.args.get("number"))
    try:
        starts = [datetime.fromtimestamp(int(v), UTC)
                  for v in request.args.get("slots", "").split(",") if v]
    except ValueError:
        starts = []
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        entry = _entry(session, call)
        chosen = int(digits) - 1 if digits.isdigit() else -1
        if entry is None or number is None or not 0 <= chosen < len(starts):
            return str(_response(prompt("callback_stay", language), language=language))
        start = starts[chosen]
        now = rt.clock.now()
        case_words = casework.on_callback_booked(session, rt, call, entry)
        callbacks.book_slot(session, call=call, entry=entry, number=number, slot_start=start,
                            now=now, policy=rt.callbacks)
        call.outcome = "callback"
        when = slots.describe(start, now=now, calendar=rt.calendar, language=language)
        response = _response(case_words, prompt("callback_booked", language, when=when),
                             language=language)
        response.leave()
        return str(response)

    return answer(rt, work)
