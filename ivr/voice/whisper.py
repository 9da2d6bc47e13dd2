"""What an agent hears on their own leg before being bridged (who is waiting, about what, for
how long), and, on an agent's phone number, the key they press to take the call."""

from __future__ import annotations

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from ivr.calls.models import Call
from ivr.routing.estimate import rounded_minutes
from ivr.routing.models import Reservation
from ivr.runtime import current
from ivr.voice.prompts import prompt

# Detection takes an agent's voicemail for a person now and then (its greeting sounds like
# one; "unknown" is taken for a person), so on a phone number the agent takes the call by
# pressing a key: a voicemail presses none, and is never given the caller.
ACCEPT_KEY = "1"


def ask_to_accept(text: str, *, action: str, seconds: int) -> str:
    """The whisper `text` for an agent on a phone number, then `seconds` for their key, to
    `action` (with no digits when none came: `accepted` says no)."""
    response = VoiceResponse()
    gather = response.gather(num_digits=1, timeout=seconds, action=action,
                             method="POST", action_on_empty_result=True)
    gather.say(text, language="en-US")
    return str(response)


def accepted(digits: str) -> bool:
    return digits.strip() == ACCEPT_KEY


def whisper_text(session: Session, reservation: Reservation, *, template: str) -> str:
    """`template`: callback_whisper (the agent calls the customer back) or agent_whisper (a
    caller is put through to the agent's phone), each with `_accept` for an agent on a phone
    number (`ask_to_accept`)."""
    entry = reservation.entry
    call = session.get(Call, reservation.call_id)
    who = (call.vars or {}).get("caller_name") or call.from_number
    waited_seconds = (current().clock.now() - entry.entered_at).total_seconds()
    minutes = rounded_minutes(waited_seconds)
    waited = "less than a minute" if minutes is None else (
        "1 minute" if minutes == 1 else f"{minutes} minutes")
    topic = " and ".join(entry.skills)
    # Agents hear the service's own language: they are staff, not the caller.
    return prompt(template, "en-US", who=who, topic=topic, waited=waited)
