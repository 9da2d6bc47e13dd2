"""The telephony port: what the service needs from a carrier, in the service's words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

CALL_NOT_IN_PROGRESS = 21220  # Twilio: the call's state does not allow the change


def answered_by_machine(answered_by: str) -> bool:
    """Twilio's AnsweredBy: machine_start, machine_end_beep (…), fax, human or unknown. An
    unknown one is taken for a person: hanging up on a real agent is the worse mistake."""
    return answered_by.startswith("machine") or answered_by == "fax"


class TelephonyError(RuntimeError):
    """The carrier refused or failed a request; the message says what and why. `status` is
    the carrier's HTTP status when it answered (404: it does not know the call), `code` its
    error code (21220: the call is no longer in progress)."""

    def __init__(self, message: str, *, status: int | None = None,
                 code: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    @property
    def call_gone(self) -> bool:
        """The call this request was about has ended at the carrier."""
        return self.status == 404 or self.code == CALL_NOT_IN_PROGRESS


@dataclass(frozen=True)
class SentText:
    """A text the carrier holds: its sid, what it says and when the carrier took it."""

    sid: str
    body: str
    created_at: datetime


class Telephony(Protocol):
    def redirect(self, call_sid: str, url: str) -> None:
        """Stop what the live call is doing and fetch new TwiML from `url`."""

    def hangup(self, call_sid: str) -> None:
        """End a live call."""

    def call_status(self, call_sid: str) -> tuple[str, int | None]:
        """The carrier's status of a call and its duration in seconds once it is over."""

    def dial(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        machine_detection: bool = False,
        timeout: int = 30,
    ) -> str:
        """Place an outbound call that runs the TwiML at `url` once answered; returns its sid."""

    def fetch_recording(self, recording_url: str, *, media_format: str = "wav") -> bytes:
        """The recording's audio, from the RecordingUrl the carrier gave."""

    def delete_recording(self, recording_sid: str) -> None:
        """Delete the carrier's copy of a recording."""

    def update_recording(
        self, call_sid: str, status: str, *, recording_sid: str = "Twilio.CURRENT"
    ) -> str:
        """Pause (`paused`), resume (`in-progress`) or stop a call's live recording; returns
        the recording's sid. A paused span is silence in the recording."""

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        """Send a text message; returns its sid."""

    def texts_to(self, to: str, *, limit: int = 20) -> list[SentText]:
        """The carrier's latest texts to `to`, newest first: what it took, whatever we
        recorded."""
