"""A call's life on its engine thread: ringing, the first request, answer (or <Reject>), the
documents one after another, REST redirects, application errors and the end."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

from ivr.sim.callers import CallerScript
from ivr.sim.line import CallEnded, Redirected, Target
from ivr.sim.resources import CallLeg
from ivr.sim.twiml import Document, Interpreter, say_seconds
from ivr.sim.webhooks import ApplicationError

if TYPE_CHECKING:
    from ivr.sim.carrier import Carrier

log = logging.getLogger(__name__)
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."
AMD_SECONDS = 2.5  # how long detection listens before the call's TwiML is requested


class CallSession:
    """Runs one inbound or REST-created call on its own thread (`run`)."""

    def __init__(self, carrier: Carrier, leg: CallLeg, first: Target, *,
                 ring_timeout: float = 60.0, machine_detection: str | None = None) -> None:
        self.carrier = carrier
        self.leg = leg
        self.line = leg.line
        self.first = first
        self.ring_timeout = ring_timeout
        self.machine_detection = machine_detection
        self.interp = Interpreter(carrier, leg)

    def run(self) -> None:
        status, by = "completed", "service"
        try:
            if isinstance(self.leg.party, CallerScript):
                self.line.hang_up_after("caller", self.leg.party.hangup_after)
            if self.leg.direction == "inbound":
                self._inbound()
            else:
                self._outbound()
        except CallEnded as ended:
            status, by = ended.status, ended.by
        except Exception:
            log.exception("offline carrier: call %s failed", self.leg.sid)
            self.carrier.record_error(ApplicationError(0, "offline carrier failure"), self.leg.sid,
                                      fatal=True)
            status, by = "failed", "carrier"
        finally:
            if self.leg.answered_at is None and status == "completed":
                status = "canceled"  # hung up before anyone answered
            self.carrier.end_leg(self.leg, status, by=by)

    def _inbound(self) -> None:
        self.carrier.progress(self.leg, "initiated")
        self.carrier.progress(self.leg, "ringing")
        try:
            doc = self.interp.fetch(self.first)
        except ApplicationError as exc:
            self.carrier.progress(self.leg, "answered")  # Twilio answers to say the error
            self._application_error(exc)
        except Redirected as redirect:
            doc = None
            self.first = redirect.target
        if doc is not None and doc.verbs and doc.verbs[0].name == "Reject":
            reason = doc.verbs[0].attr("reason", "rejected")
            raise CallEnded("service", "busy" if reason == "busy" else "no-answer")
        self.carrier.progress(self.leg, "answered")
        self._execute(doc, self.first)

    def _outbound(self) -> None:
        self.carrier.progress(self.leg, "initiated")
        self.carrier.progress(self.leg, "ringing")
        self.line.emit("ringing", to=self.leg.to)
        self._wait_for_answer()
        extra: dict[str, str] = {}
        if self.machine_detection:
            self.leg.answered_by = self._answered_by()
            extra["MachineDetectionDuration"] = str(int(AMD_SECONDS * 1000))
        self.carrier.progress(self.leg, "answered")
        self.line.emit("answered", to=self.leg.to)
        # An agent's device talks for its talk time from the moment its <Dial> bridges the
        # customer (dialing._bridge), not from its own answer: the whisper and the customer's
        # ringing come first, and a person holds on through them.
        if self.machine_detection:
            self._ring_or_detect(AMD_SECONDS)  # detection listens before the TwiML runs
        first = self.first
        self._execute(None, Target(first.url, first.method, first.params | extra, first.twiml))

    def _wait_for_answer(self) -> None:
        """Ring the callee until it answers; CallEnded (no-answer, busy) if it does not."""
        device, party = self.leg.device, self.leg.party
        if device is not None:
            answer_at = device.answer_after if device.mode == "auto" else math.inf
        elif isinstance(party, CallerScript) and party.answer:
            answer_at = party.answer_after
        else:
            answer_at = math.inf
        started = time.monotonic()
        while (elapsed := self.line.elapsed(started)) < min(answer_at, self.ring_timeout):
            if self._ring_or_detect(min(answer_at, self.ring_timeout) - elapsed) != "signal":
                continue
            signal = self.line.take_signal()
            if signal == ("answer", self.leg.sid):
                return
            if signal in (("decline", self.leg.sid), ("hangup", self.leg.sid)):
                raise CallEnded("callee", "busy")
        if answer_at > self.ring_timeout:
            raise CallEnded("callee", "no-answer")

    def _ring_or_detect(self, seconds: float) -> str:
        """Wait before the call's TwiML runs; a REST redirect now changes what will run."""
        try:
            return self.line.wait(seconds, for_signal=True)
        except Redirected as redirect:
            self.first = redirect.target
            return "redirected"

    def _answered_by(self) -> str:
        party = self.leg.party
        if not isinstance(party, CallerScript) or party.answered_by == "human":
            return "human"
        return "machine_end_beep" if self.machine_detection == "DetectMessageEnd" else (
            "machine_start")

    def _execute(self, doc: Document | None, target: Target) -> None:
        """Run documents until the call ends; a document that runs out hangs up."""
        while True:
            try:
                if doc is None:
                    doc = self.interp.fetch(target)
                next_target = self.interp.run(doc)
            except Redirected as redirect:
                doc, target = None, redirect.target
                continue
            except ApplicationError as exc:
                self._application_error(exc)
            if next_target is None:
                raise CallEnded("service")
            doc, target = None, next_target

    def _application_error(self, exc: ApplicationError) -> None:
        """What Twilio does when the service's answer is unusable: apologise and hang up."""
        log.warning("offline carrier: call %s: application error %s", self.leg.sid, exc)
        self.carrier.record_error(exc, self.leg.sid, fatal=True)
        self.line.emit("error", text=f"{exc.code}: {exc.message}", code=exc.code, url=exc.url)
        self.line.emit("say", text=APPLICATION_ERROR, language="en-US")
        try:
            self.line.wait(say_seconds(APPLICATION_ERROR))
        except Redirected:
            pass  # the call is ending: too late to go anywhere else
        raise CallEnded("carrier")

