"""The TwiML interpreter: parses a document and executes its verbs on one call leg as Twilio
documents them. Say, Play, Pause, Gather, Redirect, Leave, Hangup and Reject live here;
Enqueue, Dial and Record have modules of their own."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from ivr.sim.callers import CallerScript, is_digits
from ivr.sim.line import CallEnded, Target
from ivr.sim.resources import CallLeg, CarrierQueue
from ivr.sim.webhooks import ApplicationError, voice_params

if TYPE_CHECKING:
    from ivr.sim.carrier import Carrier

SECONDS_PER_WORD = 0.4
LOOP_FOREVER = 1000  # what Twilio does with loop="0"
CONFIDENCE = "0.92"
VERBS = frozenset({"Say", "Play", "Pause", "Gather", "Redirect", "Enqueue", "Leave", "Dial",
                   "Record", "Hangup", "Reject"})
# Valid TwiML the offline carrier does not emulate: reported as such, not as unknown.
NOT_EMULATED = frozenset({"Connect", "Conference", "Echo", "Message", "Pay", "Prompt", "Queue",
                          "Refer", "Sms", "Start", "Stop", "Stream", "Siprec", "Transcription",
                          "Sim", "Application"})
NESTED = {"Gather": frozenset({"Say", "Play", "Pause"}),
          "Dial": frozenset({"Client", "Sip", "Number"}),
          "Client": frozenset({"Identity", "Parameter"})}
WAIT_VERBS = frozenset({"Play", "Say", "Pause", "Gather", "Redirect", "Leave", "Hangup"})


@dataclass
class Verb:
    name: str
    attrs: dict[str, str]
    text: str
    children: list[Verb] = field(default_factory=list)

    def attr(self, name: str, default: str = "") -> str:
        return self.attrs.get(name, default).strip()

    def number(self, name: str, default: float) -> float:
        raw = self.attr(name)
        try:
            return float(raw) if raw else default
        except ValueError:
            raise ApplicationError(12200, f"<{self.name} {name}={raw!r}> is not a number") from None


@dataclass
class Document:
    verbs: list[Verb]
    url: str | None  # where it came from; relative URLs in it resolve against this

    def resolve(self, url: str) -> str:
        """An absolute URL for `url` as written in this document."""
        absolute = urljoin(self.url or "", url.strip())
        if urlsplit(absolute).scheme not in ("http", "https"):
            raise ApplicationError(11200, f"cannot resolve URL {url!r} from inline TwiML")
        return absolute


class LeftQueue(Exception):
    """<Leave> was executed while the call waits in a queue."""


def parse(text: str, url: str | None) -> Document:
    """A document from TwiML text; ApplicationError 12100 (not XML, no <Response>) or 12200
    (a verb or noun Twilio would not accept here, or one the offline carrier lacks)."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ApplicationError(12100, f"Document parse failure: {exc}", url) from None
    if root.tag != "Response":
        raise ApplicationError(12100, f"the root element is <{root.tag}>, not <Response>", url)
    return Document([_verb(element, None, url) for element in root], url)


def _verb(element: ET.Element, parent: str | None, url: str | None) -> Verb:
    name = element.tag
    allowed = VERBS if parent is None else NESTED.get(parent, frozenset())
    if name not in allowed:
        where = f"inside <{parent}>" if parent else "as a verb"
        if name in NOT_EMULATED:
            message = f"<{name}> is valid TwiML but the offline carrier does not emulate it"
        else:
            message = f"<{name}> is not allowed {where}"
        raise ApplicationError(12200, f"Schema validation: {message}", url)
    children = [_verb(child, name, url) for child in element]
    return Verb(name, dict(element.attrib), (element.text or "").strip(), children)


def say_seconds(text: str) -> float:
    return max(0.5, len(text.split()) * SECONDS_PER_WORD)


def loops(verb: Verb) -> int:
    count = int(verb.number("loop", 1))
    return LOOP_FOREVER if count <= 0 else count


class Interpreter:
    """Executes documents on one leg. `run` returns the next thing to request (an action, a
    Redirect) or None when the document runs out; CallEnded and Redirected propagate."""

    def __init__(self, carrier: Carrier, leg: CallLeg) -> None:
        self.carrier = carrier
        self.leg = leg
        self.line = leg.line
        self.queue: CarrierQueue | None = None  # set while waiting in a queue

    def fetch(self, target: Target) -> Document:
        """The document at `target` (requested with the standard parameters and the target's
        own), or the inline TwiML it carries."""
        if target.twiml is not None:
            return parse(target.twiml, None)
        assert target.url is not None
        params = voice_params(self.leg) | target.params
        text = self.carrier.webhooks.fetch_twiml(target.url, target.method, params)
        self.line.check()  # hung up or redirected while the service was thinking
        return parse(text, target.url)

    def notify(self, url: str, method: str, params: dict[str, str]) -> None:
        """Request an action whose TwiML the call will not execute (it has hung up or been
        redirected), as Twilio still does."""
        self.carrier.webhooks.notify(url, method, voice_params(self.leg) | params,
                                     call_sid=self.leg.sid)

    def run(self, doc: Document, *, wait_loop: bool = False) -> Target | None:
        for verb in doc.verbs:
            self.line.check()
            if wait_loop and verb.name not in WAIT_VERBS:
                raise ApplicationError(12200, f"<{verb.name}> is not allowed in a waitUrl document",
                                       doc.url)
            target = self._handler(verb.name)(verb, doc)
            if target is not None:
                return target
        return None

    def _handler(self, name: str) -> Callable[[Verb, Document], Target | None]:
        from ivr.sim import dialing, queueing, recorder

        handlers: dict[str, Callable[[Verb, Document], Target | None]] = {
            "Say": self._say_verb,
            "Play": self._play_verb,
            "Pause": self._pause_verb,
            "Gather": self.gather,
            "Redirect": self.redirect,
            "Leave": self.leave,
            "Hangup": self.hangup,
            "Reject": self.hangup,  # once the call is answered a Reject can only hang up
            "Enqueue": lambda verb, doc: queueing.enqueue(self, verb, doc),
            "Dial": lambda verb, doc: dialing.dial(self, verb, doc),
            "Record": lambda verb, doc: recorder.record(self, verb, doc),
        }
        return handlers[name]

    def _say_verb(self, verb: Verb, doc: Document) -> None:
        self.say(verb)

    def _play_verb(self, verb: Verb, doc: Document) -> None:
        self.play(verb, doc)

    def _pause_verb(self, verb: Verb, doc: Document) -> None:
        self.pause(verb)

    # -- audio: each returns True when the caller barged in (only when interruptible) --------

    def say(self, verb: Verb, *, interruptible: bool = False) -> bool:
        text = verb.text
        language = verb.attr("language", "en-US")
        for _ in range(loops(verb)):
            self.line.emit("say", text=text, language=language, voice=verb.attr("voice") or None)
            if self.line.wait(say_seconds(text), for_input=interruptible) == "input":
                return True
        return False

    def play(self, verb: Verb, doc: Document, *, interruptible: bool = False) -> bool:
        digits = verb.attr("digits")
        if digits:
            self.line.emit("play", digits=digits)
            return self.line.wait(0.5 * len(digits), for_input=interruptible) == "input"
        url = doc.resolve(verb.text)
        seconds = self.carrier.media_seconds(url, call_sid=self.leg.sid)
        for _ in range(loops(verb)):
            self.line.emit("play", url=url, seconds=round(seconds, 2))
            if self.line.wait(seconds, for_input=interruptible) == "input":
                return True
        return False

    def pause(self, verb: Verb, *, interruptible: bool = False) -> bool:
        seconds = verb.number("length", 1)
        self.line.emit("pause", seconds=seconds)
        return self.line.wait(seconds, for_input=interruptible) == "input"

    # -- input -----------------------------------------------------------------------------

    def listen(self) -> None:
        """A scripted party answers the Gather that is listening now."""
        if isinstance(self.leg.party, CallerScript):
            answer = self.leg.party.next_answer()
            if answer:
                if self.queue is not None:
                    # Answering the wait loop's question (taking the callback offer), the
                    # caller is dealing with the service now, not holding: their patience
                    # stops, and they hear the confirmation out.
                    self.line.hang_up_after("patience", None)
                self.line.give(answer)

    def gather(self, verb: Verb, doc: Document) -> Target | None:
        modes = set(verb.attr("input", "dtmf").split())
        script = self.leg.party if isinstance(self.leg.party, CallerScript) else None
        if script is not None and script.barge_in:
            self.listen()
        for nested in verb.children:
            prompt = {"Say": lambda v: self.say(v, interruptible=True),
                      "Play": lambda v: self.play(v, doc, interruptible=True),
                      "Pause": lambda v: self.pause(v, interruptible=True)}[nested.name]
            if prompt(nested):
                break
        # The caller's turn: after the prompts (or when they barged in), as a person hears it.
        self.line.emit("gather", input=" ".join(sorted(modes)), timeout=verb.number("timeout", 5),
                       num_digits=verb.attr("numDigits") or None)
        if script is not None and not script.barge_in:
            self.listen()
        params = self._collect(verb, modes)
        if params is None:
            if verb.attr("actionOnEmptyResult").lower() != "true":
                return None  # no input: fall through to the next verb
            params = {"Digits": ""} if "dtmf" in modes else {}
        action = doc.resolve(verb.attr("action")) if verb.attr("action") else doc.resolve("")
        return Target(action, verb.attr("method", "POST"), params)

    def _collect(self, verb: Verb, modes: set[str]) -> dict[str, str] | None:
        timeout = verb.number("timeout", 5)
        finish = verb.attrs.get("finishOnKey", "#")
        num_digits = int(verb.number("numDigits", 0)) or None
        digits = ""
        while self.line.wait(timeout, for_input=True) == "input":
            item = self.line.take_input()
            if item is None:
                continue
            if not is_digits(item):
                if "speech" in modes:
                    return {"SpeechResult": item, "Confidence": CONFIDENCE}
                continue
            if "dtmf" not in modes:
                continue
            for key in item:
                if finish and key in finish:
                    return {"Digits": digits} if digits else None
                digits += key
                if num_digits and len(digits) >= num_digits:
                    return {"Digits": digits}
        return {"Digits": digits} if digits else None

    # -- flow ------------------------------------------------------------------------------

    def redirect(self, verb: Verb, doc: Document) -> Target:
        if not verb.text:
            raise ApplicationError(12200, "<Redirect> needs a URL", doc.url)
        return Target(doc.resolve(verb.text), verb.attr("method", "POST"))

    def leave(self, verb: Verb, doc: Document) -> None:
        if self.queue is not None:
            raise LeftQueue()
        return None  # not in a queue: nothing to leave

    def hangup(self, verb: Verb, doc: Document) -> None:
        raise CallEnded("service")
