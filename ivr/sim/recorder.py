"""Making recordings: the <Record> verb, and the start, end and status callbacks of every
recording (a <Dial record=...> one too). `ivr.sim.recordings` keeps them; `ivr.sim.audio` makes
the audio on request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import format_datetime
from typing import TYPE_CHECKING

from ivr.sim import audio
from ivr.sim.callers import CallerScript, is_digits
from ivr.sim.line import CallEnded, Target
from ivr.sim.resources import Recording, new_sid
from ivr.sim.twiml import say_seconds

if TYPE_CHECKING:
    from ivr.sim.carrier import Carrier
    from ivr.sim.twiml import Document, Interpreter, Verb

BEEP_SECONDS = 0.5


@dataclass(frozen=True)
class RecordingCallback:
    """Where recording status callbacks go, and for which events."""

    url: str | None
    method: str = "POST"
    events: frozenset[str] = frozenset({"completed"})

    @classmethod
    def of(cls, verb: Verb, doc: Document) -> RecordingCallback:
        url = verb.attr("recordingStatusCallback")
        events = verb.attr("recordingStatusCallbackEvent", "completed").replace(",", " ")
        return cls(
            url=doc.resolve(url) if url else None,
            method=verb.attr("recordingStatusCallbackMethod", "POST"),
            events=frozenset(events.split()),
        )


def start(carrier: Carrier, *, call_sid: str, source: str, channels: int,
          callback: RecordingCallback) -> Recording:
    recording = Recording(
        sid=new_sid("RE"),
        account_sid=carrier.account_sid,
        call_sid=call_sid,
        source=source,
        channels=channels,
        started_at=time.monotonic(),
        speed=carrier.speed,
    )
    carrier.recordings.add(recording)
    _callback(carrier, recording, callback, "in-progress")
    return recording


def finish(carrier: Carrier, recording: Recording, callback: RecordingCallback,
           seconds: float | None = None) -> None:
    """End the recording (`seconds` of audio, default: as long as it ran) and report it."""
    with carrier.lock:
        recording.finish(seconds)
    _callback(carrier, recording, callback, recording.status)


def url_of(carrier: Carrier, recording: Recording) -> str:
    """The RecordingUrl Twilio hands out: the REST resource without an extension."""
    return f"{carrier.api_url}/2010-04-01/Accounts/{carrier.account_sid}/Recordings/{recording.sid}"


def action_params(carrier: Carrier, recording: Recording) -> dict[str, str]:
    return {
        "RecordingUrl": url_of(carrier, recording),
        "RecordingSid": recording.sid,
        "RecordingDuration": str(recording.duration or 0),
    }


def _callback(carrier: Carrier, recording: Recording, callback: RecordingCallback,
              event: str) -> None:
    if not callback.url or event not in callback.events:
        return
    params = {
        "AccountSid": carrier.account_sid,
        "CallSid": recording.call_sid,
        "RecordingSid": recording.sid,
        "RecordingUrl": url_of(carrier, recording),
        "RecordingStatus": event,
        "RecordingDuration": str(recording.duration or 0),
        "RecordingChannels": str(recording.channels),
        "RecordingStartTime": format_datetime(recording.start_time),
        "RecordingSource": recording.source,
        "RecordingTrack": "both",
        "ErrorCode": "0",
    }
    carrier.webhooks.notify(callback.url, callback.method, params, call_sid=recording.call_sid)


def record(interp: Interpreter, verb: Verb, doc: Document) -> Target | None:
    """<Record>: the far end speaks until silence (timeout), a finishOnKey key, maxLength or
    hang-up. An empty recording falls through to the next verb, as on Twilio."""
    carrier, line = interp.carrier, interp.line
    callback = RecordingCallback.of(verb, doc)
    line.emit("record", max_length=verb.number("maxLength", 3600),
              timeout=verb.number("timeout", 5))
    if verb.attr("playBeep", "true").lower() != "false":
        line.emit("beep")
        line.wait(BEEP_SECONDS)
    party = interp.leg.party
    if isinstance(party, CallerScript) and party.voicemail:
        line.give(party.voicemail)
    recording = start(carrier, call_sid=interp.leg.sid, source="RecordVerb", channels=1,
                      callback=callback)
    trim = verb.attr("trim", "trim-silence") != "do-not-trim"
    try:
        key = _listen(interp, verb, recording)
    except CallEnded:
        finish(carrier, recording, callback, _spoken_seconds(verb, recording) if trim else None)
        if recording.duration:
            params = action_params(carrier, recording) | {"Digits": "hangup",
                                                          "CallStatus": "completed"}
            interp.notify(_action(verb, doc), verb.attr("method", "POST"), params)
        raise
    finish(carrier, recording, callback, _spoken_seconds(verb, recording) if trim else None)
    if not recording.duration:
        carrier.recordings.forget(recording.sid)
        return None
    params = action_params(carrier, recording)
    if key:
        params["Digits"] = key
    return Target(_action(verb, doc), verb.attr("method", "POST"), params)


def _listen(interp: Interpreter, verb: Verb, recording: Recording) -> str:
    """Take the far end's words until it stops; returns the key that ended it, if any."""
    line = interp.line
    max_length = verb.number("maxLength", 3600)
    silence = verb.number("timeout", 5)
    finish_keys = verb.attrs.get("finishOnKey", "1234567890*#")
    started = time.monotonic()
    while (remaining := max_length - line.elapsed(started)) > 0:
        if line.wait(min(silence, remaining), for_input=True) == "timeout":
            return ""
        item = line.take_input() or ""
        if is_digits(item):
            pressed = next((key for key in item if key in finish_keys), "")
            if pressed:
                return pressed
            continue
        recording.spoken.append(item)
        line.wait(min(speaking_seconds(item), remaining))
    return ""


def speaking_seconds(words: str) -> float:
    """How long saying `words` takes: the synthesised speech's length (a recording holds all
    of it), at least the nominal 0.4 s a word."""
    try:
        spoken = audio.speech_seconds(words)
    except audio.SpeechUnavailable:
        spoken = 0.0
    return max(say_seconds(words), spoken)


def _spoken_seconds(verb: Verb, recording: Recording) -> float:
    """How long the far end spoke: the recording's length once silence is trimmed."""
    spoken = sum(speaking_seconds(words) for words in recording.spoken)
    spoken += 0.2 * max(0, len(recording.spoken) - 1)  # the breaths between lines
    return min(spoken, verb.number("maxLength", 3600))


def script_conversation(carrier: Carrier, recording: Recording, *, caller: object,
                        agent_identity: str) -> None:
    """What a recorded <Dial> will hold: the caller's lines on the first channel (the parent
    call) and the agent's on the second (the child call), the agent speaking first, from
    now on in the recording."""
    caller_lines = tuple(caller.lines) if isinstance(caller, CallerScript) else ()
    agent_lines = carrier.recordings.agent_lines(agent_identity)
    channels = (caller_lines, agent_lines) if recording.channels == 2 else (
        _alternate(agent_lines, caller_lines),)
    carrier.recordings.set_script(recording.sid, audio.Script(
        lines=channels, start=recording.offset(), first_channel=2 if recording.channels == 2
        else 1))


def _alternate(first: tuple[str, ...], second: tuple[str, ...]) -> tuple[str, ...]:
    """Both parties' lines in turns, for a mono recording."""
    mixed: list[str] = []
    for index in range(max(len(first), len(second))):
        mixed.extend(lines[index] for lines in (first, second) if index < len(lines))
    return tuple(mixed)


def _action(verb: Verb, doc: Document) -> str:
    return doc.resolve(verb.attr("action")) if verb.attr("action") else doc.resolve("")
