"""The flow engine's actions rendered as TwiML with the `twilio` library's builders."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from twilio.twiml.voice_response import Gather as TwimlGather
from twilio.twiml.voice_response import VoiceResponse

from callflows.engine import (
    Action,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Play,
    RecordVoicemail,
    Say,
)

# endpoint name and URL values -> the absolute URL the carrier must request
UrlFor = Callable[..., str]


def say(parent: VoiceResponse | TwimlGather, action: Say) -> None:
    parent.say(action.text, language=action.language)


def _prompt(parent: VoiceResponse | TwimlGather, action: Say | Play | Pause) -> None:
    if isinstance(action, Say):
        say(parent, action)
    elif isinstance(action, Play):
        parent.play(action.url)
    else:
        parent.pause(length=action.seconds)


def render(actions: Iterable[Action], *, url_for: UrlFor, queue_name: str | None = None) -> str:
    """TwiML for a step. `queue_name` is the carrier queue an Enqueue action uses."""
    response = VoiceResponse()
    for action in actions:
        _render_one(response, action, url_for=url_for, queue_name=queue_name)
    return str(response)


def _render_one(
    response: VoiceResponse, action: Action, *, url_for: UrlFor, queue_name: str | None
) -> None:
    if isinstance(action, Say | Play | Pause):
        _prompt(response, action)
    elif isinstance(action, Gather):
        gather = response.gather(
            input="dtmf speech",
            action=url_for("voice.menu_answer", node=action.node, attempt=action.attempt),
            method="POST",
            timeout=action.timeout,
            num_digits=action.num_digits,
            hints=", ".join(action.hints) if action.hints else None,
            language=action.language,
            speech_timeout="auto",
        )
        for prompt in action.prompts:
            _prompt(gather, prompt)
        # Silence falls through the Gather to here: the flow decides what comes next.
        response.redirect(
            url_for("voice.menu_silence", node=action.node, attempt=action.attempt), method="POST"
        )
    elif isinstance(action, Enqueue):
        response.enqueue(
            queue_name or min(action.skills),
            wait_url=url_for("voice.queue_wait"),
            wait_url_method="POST",
            action=url_for("voice.queue_result"),
            method="POST",
        )
    elif isinstance(action, RecordVoicemail):
        for prompt in action.prompts:
            _prompt(response, prompt)
        response.record(
            max_length=action.max_length,
            finish_on_key="#",
            play_beep=True,
            action=url_for("voice.voicemail_done", node=action.node),
            method="POST",
        )
    elif isinstance(action, Dial):
        dial = response.dial(
            action=url_for("voice.transfer_done", node=action.node),
            method="POST",
            timeout=action.timeout,
        )
        dial.number(action.number)
    elif isinstance(action, Hangup):
        response.hangup()
    else:
        raise TypeError(f"no TwiML for flow action {action!r}")


def hold(*, position: int, language: str, pause_seconds: int, messages: dict[str, str]) -> str:
    """What a waiting caller hears on each turn of the wait loop."""
    response = VoiceResponse()
    response.say(messages["next"] if position == 1 else messages["position"], language=language)
    response.pause(length=pause_seconds)
    return str(response)


def keep_in_flow(*, message: str, language: str, retry_url: str) -> str:
    """TwiML for when the service itself failed: apologise, wait a moment, try again."""
    response = VoiceResponse()
    response.say(message, language=language)
    response.pause(length=2)
    response.redirect(retry_url, method="POST")
    return str(response)


def dial_agent(
    *,
    endpoint: str,
    announce: str | None,
    language: str,
    action: str,
    leg_callback: str,
    recording_callback: str,
    screen: str,
    timeout: int,
) -> str:
    """Connect the caller to an agent's endpoint (client:, sip: or a number), recording both
    sides on separate channels from the moment the agent answers. A number is screened: once
    it answers, answering machine detection runs and `screen` decides (the agent hears who is
    waiting; their voicemail is hung up on), so the screen, not the leg's answer, says the
    agent answered."""
    response = VoiceResponse()
    if announce:
        response.say(announce, language=language)
    dial = response.dial(
        action=action,
        method="POST",
        timeout=timeout,
        record="record-from-answer-dual",
        recording_status_callback=recording_callback,
        recording_status_callback_method="POST",
        recording_status_callback_event="completed",
    )
    leg = {
        "status_callback": leg_callback,
        "status_callback_method": "POST",
        "status_callback_event": "answered completed",
    }
    if endpoint.startswith("client:"):
        dial.client(endpoint.removeprefix("client:"), **leg)
    elif endpoint.startswith("sip:"):
        dial.sip(endpoint, **leg)
    else:
        dial.number(endpoint, url=screen, method="POST", machine_detection="Enable")
    return str(response)


def hang_up() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)


def back_to_queue(
    *, queue_name: str, wait_url: str, action: str, message: str | None, language: str
) -> str:
    """The caller returns to the queue (their entry keeps its place)."""
    response = VoiceResponse()
    if message:
        response.say(message, language=language)
    response.enqueue(
        queue_name, wait_url=wait_url, wait_url_method="POST", action=action, method="POST"
    )
    return str(response)


def hold_with_estimate(
    *, lines: list[str], language: str, music_url: str | None, pause_seconds: int
) -> str:
    """A turn of the wait loop: where the caller stands, then music (or quiet) until the next."""
    response = VoiceResponse()
    for line in lines:
        response.say(line, language=language)
    if music_url:
        response.play(music_url)
    else:
        response.pause(length=pause_seconds)
    return str(response)


def join(*documents: str) -> str:
    """One TwiML document with the verbs of several, in order (each made by the builders)."""
    import xml.etree.ElementTree as ET

    combined = ET.Element("Response")
    for document in documents:
        combined.extend(list(ET.fromstring(document)))
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(combined, encoding="unicode")
