"""<Dial> with <Client>, <Sip> and <Number>: a child leg (ParentCallSid) per noun rings its
device at once; the first to answer is bridged with the caller (optionally recorded) until
one side hangs up; then the action URL gets DialCallStatus, DialCallSid and
DialCallDuration, or, without an action, the next verb runs."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ivr.sim import recorder
from ivr.sim.callers import endpoint_identity
from ivr.sim.line import CallEnded, Redirected, Target
from ivr.sim.resources import CallLeg, Recording
from ivr.sim.webhooks import ApplicationError

if TYPE_CHECKING:
    from ivr.sim.twiml import Document, Interpreter, Verb

RECORD_ALIASES = {"true": "record-from-answer", "false": "do-not-record"}
MAX_WHISPER_DOCUMENTS = 10


@dataclass(frozen=True)
class Noun:
    """One endpoint to ring, with its own (optional) whisper URL and status callback."""

    to: str  # client:alice, sip:alice@example.com, +15551230000
    url: str | None = None
    method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_events: frozenset[str] = frozenset()
    machine_detection: str | None = None  # Enable or DetectMessageEnd: AnsweredBy to `url`


@dataclass
class Outcome:
    status: str = "no-answer"
    bridged: CallLeg | None = None
    bridged_at: float | None = None
    recording: Recording | None = None
    refused: dict[str, str] = field(default_factory=dict)  # sid -> busy or canceled


def nouns_of(verb: Verb, doc: Document) -> list[Noun]:
    if not verb.children:
        return [Noun(verb.text)] if verb.text else []
    found = []
    for child in verb.children:
        address = child.text
        if child.name == "Client":
            identity = next((c.text for c in child.children if c.name == "Identity"), "")
            address = "client:" + (identity or child.text)
        callback = child.attr("statusCallback")
        events = child.attr("statusCallbackEvent").replace(",", " ").split()
        found.append(Noun(
            to=address,
            url=doc.resolve(child.attr("url")) if child.attr("url") else None,
            method=child.attr("method", "POST"),
            status_callback=doc.resolve(callback) if callback else None,
            status_callback_method=child.attr("statusCallbackMethod", "POST"),
            status_events=frozenset(events or (["completed"] if callback else [])),
            machine_detection=child.attr("machineDetection") or None,
        ))
    return found


def dial(interp: Interpreter, verb: Verb, doc: Document) -> Target | None:
    nouns = nouns_of(verb, doc)
    if not nouns or any(noun.to in ("", "client:") for noun in nouns):
        raise ApplicationError(12200, "<Dial> needs a number, a client identity or a SIP URI",
                               doc.url)
    action = doc.resolve(verb.attr("action")) if verb.attr("action") else None
    method = verb.attr("method", "POST")
    mode = verb.attr("record", "do-not-record")
    mode = RECORD_ALIASES.get(mode, mode)
    callback = recorder.RecordingCallback.of(verb, doc)
    caller_id = verb.attr("callerId") or interp.leg.from_
    children = [interp.carrier.open_dial_leg(interp.leg, noun, caller_id) for noun in nouns]
    interp.line.emit("dial", to=", ".join(noun.to for noun in nouns))
    outcome = Outcome()
    try:
        if mode.startswith("record-from-ringing"):
            outcome.recording = _start_recording(interp, mode, callback)
        winner = _ring(interp, children, verb.number("timeout", 30), outcome)
        if winner is not None and _whisper(interp, winner, nouns[children.index(winner)]):
            _bridge(interp, winner, outcome, mode, callback)
    except CallEnded as ended:
        params = _finish(interp, children, outcome, callback, interrupted_by=ended.by)
        if action:
            interp.notify(action, method, params | {"CallStatus": "completed"})
        raise
    except Redirected:
        _finish(interp, children, outcome, callback, interrupted_by="api")
        raise
    params = _finish(interp, children, outcome, callback, interrupted_by=None)
    return Target(action, method, params) if action else None


def _ring(interp: Interpreter, children: list[CallLeg], timeout: float,
          outcome: Outcome) -> CallLeg | None:
    carrier, line = interp.carrier, interp.line
    for child in children:
        carrier.progress(child, "initiated")
        carrier.progress(child, "ringing")
        child.line.emit("ringing", to=child.to)
        line.emit("ringing", to=child.to)
    started = time.monotonic()
    ringing = list(children)
    while ringing:
        elapsed = line.elapsed(started)
        answers = {c.sid: after for c in ringing if (after := _answers_after(c)) is not None}
        due = [c for c in ringing if answers.get(c.sid, math.inf) <= elapsed]
        if due:
            return due[0]
        if elapsed >= timeout:
            return None
        next_answer = min(answers.values(), default=math.inf)
        if line.wait(min(timeout, next_answer) - elapsed, for_signal=True) != "signal":
            continue
        signal = line.take_signal()
        child = next((c for c in ringing if signal and c.sid == signal[1]), None)
        if child is None or signal is None:
            continue  # about a leg of an earlier <Dial>
        if signal[0] == "answer":
            return child
        ringing.remove(child)
        # Declined on the device: busy. Canceled through the REST API: canceled.
        status = "canceled" if signal[0] == "cancel" else "busy"
        outcome.refused[child.sid] = status
        carrier.end_leg(child, status, by="api" if status == "canceled" else "agent")
    outcome.status = "canceled" if set(outcome.refused.values()) == {"canceled"} else "busy"
    return None


def _answers_after(leg: CallLeg) -> float | None:
    """Seconds of ringing before the leg answers by itself; None: it does not."""
    if leg.device is not None:
        return leg.device.answer_after if leg.device.mode == "auto" else None
    party = leg.party
    if party is not None and party.answer:
        return party.answer_after
    return None


def _detect_machine(child: CallLeg, noun: Noun) -> None:
    """Answering machine detection on a <Number>: AnsweredBy goes to the noun's url."""
    if not noun.machine_detection:
        return
    party = child.party
    if party is None or party.answered_by == "human":
        child.answered_by = "human"
    elif noun.machine_detection == "DetectMessageEnd":
        child.answered_by = "machine_end_beep"
    else:
        child.answered_by = "machine_start"


def _whisper(interp: Interpreter, child: CallLeg, noun: Noun) -> bool:
    """Run the noun's url on the answering leg before bridging; False if it hung up.
    Simplified: the caller's own hang-up is noticed once the whisper is over."""
    _detect_machine(child, noun)
    if not noun.url:
        return True
    from ivr.sim.twiml import Interpreter

    carrier = interp.carrier
    carrier.progress(child, "answered")
    whisper = Interpreter(carrier, child)
    target: Target | None = Target(noun.url, noun.method)
    try:
        for _ in range(MAX_WHISPER_DOCUMENTS):
            if target is None:
                break
            target = whisper.run(whisper.fetch(target))
    except CallEnded:
        carrier.end_leg(child, "completed", by="agent")
        return False
    except ApplicationError as exc:
        carrier.record_error(exc, child.sid, fatal=True)
        carrier.end_leg(child, "failed", by="carrier")
        return False
    return True


def _bridge(interp: Interpreter, child: CallLeg, outcome: Outcome, mode: str,
            callback: recorder.RecordingCallback) -> None:
    carrier, line = interp.carrier, interp.line
    if child.status != "in-progress":
        carrier.progress(child, "answered")
    child.line.emit("answered", to=child.to)
    line.emit("answered", to=child.to, call_sid=child.sid)
    outcome.status, outcome.bridged, outcome.bridged_at = "completed", child, time.monotonic()
    if mode.startswith("record-from-answer"):
        outcome.recording = _start_recording(interp, mode, callback)
    if outcome.recording is not None:
        recorder.script_conversation(carrier, outcome.recording, caller=interp.leg.party,
                                     agent_identity=endpoint_identity(child.to))
    own = interp.leg.device  # an agent's device that dialled the customer (a callback)
    if own is not None and own.mode == "auto":
        line.hang_up_after("talk", own.talk_time, by="agent")
    device = child.device
    talk = device.talk_time if device is not None and device.mode == "auto" else math.inf
    while (remaining := talk - line.elapsed(outcome.bridged_at)) > 0:
        if line.wait(min(remaining, 3600.0), for_signal=True) == "signal":
            signal = line.take_signal()
            if signal in (("hangup", child.sid), ("cancel", child.sid)):
                break
    carrier.end_leg(child, "completed", by="agent")


def _start_recording(interp: Interpreter, mode: str,
                     callback: recorder.RecordingCallback) -> Recording | None:
    if mode not in ("record-from-answer", "record-from-answer-dual", "record-from-ringing",
                    "record-from-ringing-dual"):
        return None
    return recorder.start(interp.carrier, call_sid=interp.leg.sid, source="DialVerb",
                           channels=2 if mode.endswith("-dual") else 1, callback=callback)


def _finish(interp: Interpreter, children: list[CallLeg], outcome: Outcome,
            callback: recorder.RecordingCallback, *,
            interrupted_by: str | None) -> dict[str, str]:
    """End every leg still up and build the action's parameters. `interrupted_by`: who cut
    the <Dial> short (the caller hanging up, a REST redirect), if anyone."""
    carrier = interp.carrier
    if interrupted_by and outcome.bridged is None:
        outcome.status = "canceled"
    for child in children:
        if not child.ended:
            if child is outcome.bridged:
                status = "completed"
            else:
                status = "canceled" if outcome.bridged or interrupted_by else "no-answer"
            carrier.end_leg(child, status, by=interrupted_by or "carrier")
    params = {"DialCallStatus": outcome.status, "DialBridged": str(bool(outcome.bridged)).lower()}
    last = outcome.bridged or children[-1]
    params["DialCallSid"] = last.sid
    if outcome.bridged is not None:
        params["DialCallDuration"] = str(outcome.bridged.duration or 0)
    if outcome.recording is not None:
        recorder.finish(carrier, outcome.recording, callback)
        params |= recorder.action_params(carrier, outcome.recording)
    return params
