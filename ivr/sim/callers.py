"""Virtual people on the far end of a call: scripted callers and callees, and the endpoints
(softphones, SIP phones, numbers) an agent answers on."""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

DIGITS = re.compile(r"^[0-9*#]+$")
ANSWERED_BY = ("human", "machine")
DEVICE_MODES = ("auto", "manual", "off")
TALK_DISTRIBUTIONS = ("fixed", "exponential")


def is_digits(value: str) -> bool:
    """True when an answer is keys to press rather than words to say."""
    return bool(DIGITS.match(value))


@dataclass
class CallerScript:
    """How a virtual caller (or callee of an outbound call) behaves.

    `answers` are given at successive Gathers, in order, wherever they happen (menus, the
    queue's wait loop, an outbound call's prompt): keys such as "1" or "123#", words such as
    "billing", or None for silence. Once they run out the caller stays silent."""

    answers: list[str | None] = field(default_factory=list)
    # Seconds holding in a queue before hanging up (None = never); answering the queue's
    # question (the callback offer) stops it.
    patience: float | None = None
    hangup_after: float | None = None  # seconds after the call starts; None = never
    barge_in: bool = False  # answer during the prompt rather than after it
    answer: bool = True  # outbound: picks up at all
    answer_after: float = 3.0  # outbound: seconds of ringing before picking up
    answered_by: str = "human"  # outbound: what answering machine detection hears
    lines: list[str] = field(default_factory=list)  # what they say to an agent
    voicemail: str | None = None  # what they say at a <Record>

    def __post_init__(self) -> None:
        if self.answered_by not in ANSWERED_BY:
            raise ValueError(f"answered_by must be one of {ANSWERED_BY}, not {self.answered_by!r}")
        for name in ("patience", "hangup_after"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.answer_after < 0:
            raise ValueError("answer_after must be a positive number of seconds")
        self._next = 0

    def next_answer(self) -> str | None:
        """The answer for the next Gather, or None (silence) once the script is spent."""
        if self._next >= len(self.answers):
            return None
        answer = self.answers[self._next]
        self._next += 1
        return answer or None

    @classmethod
    def from_json(cls, data: Any) -> CallerScript:
        """A script from the control API's JSON; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("script must be a JSON object")
        known = {name for name in cls.__dataclass_fields__ if not name.startswith("_")}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown script fields: {', '.join(sorted(unknown))}")
        answers = data.get("answers", [])
        if not isinstance(answers, list) or not all(
            a is None or isinstance(a, str) for a in answers
        ):
            raise ValueError("answers must be a list of strings or nulls")
        lines = data.get("lines", [])
        if not isinstance(lines, list) or not all(isinstance(line, str) for line in lines):
            raise ValueError("lines must be a list of strings")
        try:
            return cls(
                answers=list(answers),
                patience=_seconds(data.get("patience")),
                hangup_after=_seconds(data.get("hangup_after")),
                barge_in=bool(data.get("barge_in", False)),
                answer=bool(data.get("answer", True)),
                answer_after=_seconds(data.get("answer_after", 3.0)) or 0.0,
                answered_by=str(data.get("answered_by", "human")),
                lines=list(lines),
                voicemail=data.get("voicemail"),
            )
        except TypeError as exc:
            raise ValueError(str(exc)) from None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Device:
    """An endpoint a <Dial> or an outbound call rings: an agent's softphone (`client:`), a SIP
    phone or a number. `auto` answers after `answer_after` seconds and hangs up after
    `talk_time`; `manual` waits for the control API (the browser desktop); `off` never
    answers. With `talk_distribution` "exponential", `talk_time` is the mean and each call
    rung on the device draws its own talk time (from `seed`, so a run can be repeated)."""

    identity: str
    mode: str = "auto"
    answer_after: float = 2.0
    talk_time: float = 60.0
    talk_distribution: str = "fixed"
    seed: int | None = None
    _draws: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in DEVICE_MODES:
            raise ValueError(f"mode must be one of {DEVICE_MODES}, not {self.mode!r}")
        if self.answer_after < 0 or self.talk_time < 0:
            raise ValueError("answer_after and talk_time must be positive numbers of seconds")
        if self.talk_distribution not in TALK_DISTRIBUTIONS:
            raise ValueError(f"talk_distribution must be one of {TALK_DISTRIBUTIONS}, "
                             f"not {self.talk_distribution!r}")
        self._draws = random.Random(self.seed)

    def next_talk_time(self) -> float:
        """The talk time of the next call this device answers."""
        if self.talk_distribution == "fixed" or self.talk_time == 0:
            return self.talk_time
        return self._draws.expovariate(1.0 / self.talk_time)

    @classmethod
    def from_json(cls, identity: str, data: Any) -> Device:
        if not isinstance(data, dict):
            raise ValueError("device must be a JSON object")
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be a whole number, not {seed!r}")
        return cls(
            identity=identity,
            mode=str(data.get("mode", "auto")),
            answer_after=_seconds(data.get("answer_after", 2.0)) or 0.0,
            talk_time=_seconds(data.get("talk_time", 60.0)) or 0.0,
            talk_distribution=str(data.get("talk_distribution", "fixed")),
            seed=seed,
        )

    def to_json(self) -> dict[str, Any]:
        return {"identity": self.identity, "mode": self.mode, "answer_after": self.answer_after,
                "talk_time": self.talk_time, "talk_distribution": self.talk_distribution,
                "seed": self.seed}


def endpoint_identity(to: str) -> str:
    """The key a device is registered under: the client identity for `client:alice`, the
    address itself for SIP URIs and numbers."""
    return to[len("client:"):] if to.startswith("client:") else to


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number of seconds, not {value!r}")
    return float(value)
