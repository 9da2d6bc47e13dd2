"""What an agent hears on their own leg before being bridged (who is waiting, about what, for
how long), and whether answering machine detection heard a person or a voicemail."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ivr.calls.models import Call
from ivr.routing.estimate import rounded_minutes
from ivr.routing.models import Reservation
from ivr.runtime import current
from ivr.voice.prompts import prompt


def answered_by_machine(answered_by: str) -> bool:
    """Twilio's AnsweredBy: machine_start, machine_end_beep (…), fax, human or unknown. An
    unknown one is taken for a person: hanging up on a real agent is the worse mistake."""
    return answered_by.startswith("machine") or answered_by == "fax"


def whisper_text(session: Session, reservation: Reservation, *, template: str) -> str:
    """`template`: callback_whisper (the agent calls the customer back) or agent_whisper (a
    caller is put through to the agent's phone)."""
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
