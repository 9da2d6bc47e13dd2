"""What happened to each call, read from the carrier's events for it (the caller's view:
what they heard and when), in simulated seconds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.traffic.plan import PlannedCall

# The carrier's view -> the outcome the service must have recorded for the same call.
SERVICE_OUTCOME = {
    "answered": "answered",
    "abandoned": "abandoned",
    "ivr_hangup": "ivr_hangup",
    "voicemail": "voicemail",
    "callback": "callback",
}
# Outcomes that mean the simulator does not know how the call ended.
UNFINISHED = ("unfinished", "not_placed")


@dataclass
class CallResult:
    """One call, once it is over. `wait` runs from entering the queue to the agent answering
    (answered) or to the caller hanging up (abandoned); `talk` from the agent answering to
    the end of the conversation."""

    index: int
    skill: str
    number: str
    sid: str | None
    outcome: str
    wait: float | None = None
    talk: float | None = None
    agent: str | None = None
    agent_leg: str | None = None
    detail: str = ""
    service_outcome: str | None = None
    agrees: bool | None = None  # with the service's record; None until checked
    callback_offered: bool = False  # heard the callback offer while waiting
    # The callback the caller took ("callback" outcome): its status and attempts at the end.
    callback: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "sid": self.sid,
            "skill": self.skill,
            "from": self.number,
            "outcome": self.outcome,
            "wait": _round(self.wait),
            "talk": _round(self.talk),
            "agent": self.agent,
            "detail": self.detail or None,
            "service_outcome": self.service_outcome,
            "agrees": self.agrees,
            "callback_offered": self.callback_offered,
            "callback": self.callback,
        }


def not_placed(call: PlannedCall, why: str) -> CallResult:
    return CallResult(call.index, call.skill, call.number, None, "not_placed", detail=why)


def unfinished(call: PlannedCall, sid: str, why: str) -> CallResult:
    return CallResult(call.index, call.skill, call.number, sid, "unfinished", detail=why)


def classify(call: PlannedCall, sid: str, events: list[dict[str, Any]]) -> CallResult:
    """The one outcome of an ended call, from its events in order."""
    result = CallResult(call.index, call.skill, call.number, sid, "other")
    first = _first_of(events)
    hangup = first.get("hangup")
    enqueued = first.get("enqueued")
    answered = first.get("answered")
    queued_at = queue_start(events)
    result.callback_offered = offered_callback(events)
    if hangup is None:
        result.outcome, result.detail = "unfinished", "no hang-up event"
        return result
    if answered is not None:
        result.outcome = "answered"
        result.agent = str(answered.get("to", "")).removeprefix("client:") or None
        result.agent_leg = answered.get("call_sid")
        if queued_at is not None:
            result.wait = answered["t"] - queued_at
        result.talk = hangup["t"] - answered["t"]  # refined from the agent's leg if known
        return result
    by = hangup.get("by")
    if "error" in first:
        result.outcome = "error"
        result.detail = str(first["error"].get("text", ""))
    elif enqueued is not None and by == "service" and call.accepts_callback and (
        result.callback_offered
    ):
        # Took the offer (keep my place), heard it confirmed, and the service hung up.
        result.outcome = "callback"
        result.wait = hangup["t"] - (queued_at if queued_at is not None else enqueued["t"])
    elif enqueued is not None and by == "caller":
        result.outcome = "abandoned"
        result.wait = hangup["t"] - (queued_at if queued_at is not None else enqueued["t"])
    elif _queue_full(events):
        result.outcome = "queue_full"
    elif "record" in first:
        result.outcome = "voicemail"
    elif enqueued is None and by == "caller":
        result.outcome = "ivr_hangup"
    else:
        where = "in the queue" if enqueued is not None else "before any queue"
        result.detail = f"ended by {by} {where} ({hangup.get('status')})"
    return result


def queue_start(events: list[dict[str, Any]]) -> float | None:
    """When the caller joined the service's queue: when the document after their last menu
    answer began (the service makes the queue entry in that request, and the router may
    connect them before the carrier's <Enqueue> is even reached); else the first <Enqueue>."""
    last_gather = None
    for position, event in enumerate(events):
        if event["type"] in ("enqueued", "dial"):
            break
        if event["type"] == "gather":
            last_gather = position
    if last_gather is not None and last_gather + 1 < len(events):
        return float(events[last_gather + 1]["t"])
    enqueued = next((e for e in events if e["type"] == "enqueued"), None)
    return float(enqueued["t"]) if enqueued else None


def offered_callback(events: list[dict[str, Any]]) -> bool:
    """Whether the caller heard the callback offer: the wait loop's only question, so a
    Gather after the caller joined the carrier's queue."""
    enqueued = False
    for event in events:
        enqueued = enqueued or event["type"] == "enqueued"
        if enqueued and event["type"] == "gather":
            return True
    return False


def talk_from_agent_leg(events: list[dict[str, Any]]) -> float | None:
    """Talk time on the agent's leg: from its answer to its hang-up."""
    first = _first_of(events)
    if "answered" in first and "hangup" in first:
        return first["hangup"]["t"] - first["answered"]["t"]
    return None


def _first_of(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    first: dict[str, dict[str, Any]] = {}
    for event in events:
        first.setdefault(event["type"], event)
    return first


def _queue_full(events: list[dict[str, Any]]) -> bool:
    return any(e["type"] == "dequeued" and e.get("result") == "queue-full" for e in events)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)
