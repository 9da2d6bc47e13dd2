"""A caller walking the flow through the webhooks with the Flask test client, posting what
the carrier would post, signed."""

from __future__ import annotations

import itertools

from twimlwalk import Twiml

_sids = itertools.count(1)


def new_sid() -> str:
    return f"CA{next(_sids):032x}"


class Caller:
    """A caller walking the flow by posting what the carrier would post."""

    def __init__(self, post, number: str = "+15551230001") -> None:
        self.post = post
        self.sid = new_sid()
        self.number = number

    def form(self, **extra: str) -> dict[str, str]:
        return {
            "CallSid": self.sid,
            "From": self.number,
            "To": "+15005550006",
            "AccountSid": "AC" + "0" * 31 + "1",
            "CallStatus": "in-progress",
            **extra,
        }

    def ring(self) -> Twiml:
        return Twiml.of(self.post("/voice/incoming", self.form()))

    def press(self, twiml: Twiml, digits: str) -> Twiml:
        return Twiml.of(self.post(twiml.gather_path(), self.form(Digits=digits)))

    def say(self, twiml: Twiml, words: str) -> Twiml:
        return Twiml.of(
            self.post(twiml.gather_path(), self.form(SpeechResult=words, Confidence="0.9"))
        )

    def silence(self, twiml: Twiml) -> Twiml:
        return Twiml.of(self.post(twiml.redirect_path(), self.form()))

    def status(self, status: str, **extra: str):
        return self.post("/voice/status", self.form(CallStatus=status, **extra))

    def wait(self) -> Twiml:
        return Twiml.of(self.post("/voice/queue/wait", self.form(QueuePosition="1")))

    def to_main_menu(self, language: str = "1") -> Twiml:
        """Ring, choose the language, and pass the case question with no case."""
        return self.silence(self.press(self.ring(), language))


def in_db(db, statement):
    with db.transaction() as session:
        return session.scalar(statement)
