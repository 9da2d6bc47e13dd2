"""What the engine asks the carrier to do, in words of the domain. The web layer renders these
to TwiML; nothing here knows about TwiML or Twilio."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Say:
    text: str
    language: str


@dataclass(frozen=True)
class Play:
    url: str


@dataclass(frozen=True)
class Pause:
    seconds: int


Prompt = Say | Play | Pause


@dataclass(frozen=True)
class Gather:
    """Ask the caller for a key or a few words at menu `node`; `attempt` counts how many times
    the menu has been offered (1 the first time). Silence comes back as no input."""

    node: str
    attempt: int
    prompts: list[Prompt]
    timeout: int
    language: str
    num_digits: int = 1
    hints: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Enqueue:
    """Put the caller in the queue for a person with these skills (skill -> minimum level).
    `reasons` explain the priority, e.g. ["outage_queue: 5", "VIP caller: +2"]."""

    node: str
    skills: dict[str, int]
    priority: int
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RecordVoicemail:
    node: str
    max_length: int
    prompts: list[Prompt] = field(default_factory=list)


@dataclass(frozen=True)
class Dial:
    node: str
    number: str
    timeout: int


@dataclass(frozen=True)
class Hangup:
    pass


@dataclass(frozen=True)
class CaseCheck:
    """Ask about the caller's open case, or for a case number; the service knows the cases,
    so it words the question and, on no answer, continues with `after_case_check`."""

    node: str
    timeout: int


Action = Say | Play | Pause | Gather | Enqueue | RecordVoicemail | Dial | Hangup | CaseCheck
# A step always ends with one of these: the caller is asked, connected, recorded or let go.
INTERACTIVE = (Gather, Enqueue, RecordVoicemail, Dial, Hangup, CaseCheck)
