"""The calls of a period as facts, read from the call events in one pass: when each call
started, the skills its caller queued for, whether it was answered (and after what wait) or
abandoned, its conversations with agents (talk, hold, wrap-up), transfers, callbacks, missed
calls and the wrap-up category. The KPIs and the charts are both computed from these facts,
so they cannot disagree with each other.

Every time here is on the service's clock (the events' timestamps). The carrier's own figure
for a conversation (`call.handled`'s `talk_seconds`, from Twilio's DialCallDuration) is not
used: the offline carrier reports it in simulated seconds, and a KPI mixing two clocks would
be wrong on both."""

from __future__ import annotations

import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.calls.models import Call, CallEvent, CallWrapUp

CALL_KINDS = (
    "call.started", "queue.entered", "call.answered", "call.handled", "queue.abandoned",
    "call.ended", "routing.transferred", "callback.offered", "callback.accepted",
    "callback.completed", "missed.call", "call.adopted",
)
WRAP_UP_MATCH = timedelta(seconds=1)  # a wrap-up starts when its conversation ends


@dataclass
class Conversation:
    """One agent talking to the caller: from the agent's answer to the end of their part
    (the call's end, or the transfer), then the agent's wrap-up."""

    reservation_id: int | None
    agent_id: int
    answered_at: datetime
    waited: float  # seconds from entering the queue to this answer
    handled_at: datetime | None = None
    hold: float = 0.0
    wrap_up: float | None = None  # seconds in wrap-up after it; None until it has begun

    @property
    def talk(self) -> float | None:
        if self.handled_at is None:
            return None
        return max(0.0, (self.handled_at - self.answered_at).total_seconds() - self.hold)

    @property
    def handle(self) -> float | None:
        """Talk + hold + wrap-up: None while the conversation is still going on."""
        if self.talk is None:
            return None
        return self.talk + self.hold + (self.wrap_up or 0.0)


@dataclass
class WrapUpNote:
    agent_id: int | None
    category: str
    at: datetime


@dataclass
class CallFacts:
    call_id: int
    started_at: datetime
    number: str
    skills: tuple[str, ...] = ()  # what the caller first queued for
    conversations: list[Conversation] = field(default_factory=list)
    abandoned_wait: float | None = None  # the caller hung up in the queue, never answered
    ended: bool = False
    transfers: list[int | None] = field(default_factory=list)  # the agents who transferred
    callbacks_offered: int = 0
    callbacks_accepted: int = 0
    callbacks_completed: int = 0
    missed: bool = False
    wrap_ups: list[WrapUpNote] = field(default_factory=list)
    adopted: bool = False  # the service saw this call first on a later webhook
    in_flow: bool = False  # the call went through the IVR (it has a node)

    @property
    def answered(self) -> bool:
        return bool(self.conversations)

    def conversations_of(self, agent_id: int | None) -> list[Conversation]:
        if agent_id is None:
            return self.conversations
        return [c for c in self.conversations if c.agent_id == agent_id]

    def category(self, agent_id: int | None = None) -> str | None:
        """The request category of the latest wrap-up (by this agent, if one is named)."""
        notes = [n for n in self.wrap_ups if agent_id is None or n.agent_id == agent_id]
        return max(notes, key=lambda n: n.at).category if notes else None


def load_calls(
    session: Session, *, start: datetime, end: datetime, now: datetime | None = None
) -> list[CallFacts]:
    """The inbound calls started in [start, end), with everything that happened to them (also
    after `end`). A wrap-up still running counts up to `now` when it is given.

    A call the service adopted (a webhook for a CallSid it had no record of) is a call only if
    a caller was on it: it went through the IVR, queued or was answered. Other webhooks name
    SIDs too (a callback's agent leg, in its recording callback), and those are no calls."""
    rows = session.execute(
        select(CallEvent.call_id, CallEvent.kind, CallEvent.at, CallEvent.agent_id,
               CallEvent.data, Call.from_number, Call.node)
        .join(Call, Call.id == CallEvent.call_id)
        .where(Call.direction == "inbound", Call.started_at >= start, Call.started_at < end,
               CallEvent.kind.in_(CALL_KINDS))
        .order_by(CallEvent.id)
    )
    calls: dict[int, CallFacts] = {}
    open_talks: dict[int, Conversation] = {}  # by reservation id
    for call_id, kind, at, agent_id, data, number, node in rows:
        data = data or {}
        if kind == "call.started":
            calls[call_id] = CallFacts(call_id=call_id, started_at=at, number=number,
                                       in_flow=node is not None)
            continue
        facts = calls.get(call_id)
        if facts is not None:
            _apply(facts, kind, at, agent_id, data, open_talks)
    calls = {i: f for i, f in calls.items()
             if not f.adopted or f.in_flow or f.skills or f.conversations}
    facts_list = sorted(calls.values(), key=lambda f: (f.started_at, f.call_id))
    _add_wrap_up_times(session, facts_list, now=now)
    _add_categories(session, calls, start=start, end=end)
    return facts_list


def _apply(facts: CallFacts, kind: str, at: datetime, agent_id: int | None, data: dict,
           open_talks: dict[int, Conversation]) -> None:
    if kind == "queue.entered":
        if not facts.skills:
            facts.skills = tuple(sorted(data.get("skills") or {}))
    elif kind == "call.answered":
        # After the caller's call has ended an answer is a callback being made: it is counted
        # as a callback, not as a caller answered while waiting.
        if facts.ended or agent_id is None:
            return
        talk = Conversation(reservation_id=data.get("reservation_id"), agent_id=agent_id,
                            answered_at=at, waited=float(data.get("waited") or 0.0))
        facts.conversations.append(talk)
        if talk.reservation_id is not None:
            open_talks[talk.reservation_id] = talk
    elif kind == "call.handled":
        talk = open_talks.pop(data.get("reservation_id"), None)
        if talk is not None:
            talk.handled_at = at
            talk.hold = float(data.get("hold_seconds") or 0.0)  # no carrier here reports hold
    elif kind == "queue.abandoned":
        if not facts.answered and facts.abandoned_wait is None:
            facts.abandoned_wait = float(data.get("waited") or 0.0)
    elif kind == "call.ended":
        facts.ended = True
    elif kind == "routing.transferred":
        facts.transfers.append(agent_id)
    elif kind == "callback.offered":
        facts.callbacks_offered += 1
    elif kind == "callback.accepted":
        facts.callbacks_accepted += 1
    elif kind == "callback.completed":
        facts.callbacks_completed += 1
    elif kind == "missed.call":
        facts.missed = True
    elif kind == "call.adopted":
        facts.adopted = True


def _add_wrap_up_times(session: Session, calls: list[CallFacts], *, now: datetime | None
                       ) -> None:
    """Each conversation's wrap-up: from the agent entering wrap-up as it ended to their next
    state change (the timer, the wrap-up form, or a state they chose)."""
    by_agent: dict[int, list[Conversation]] = defaultdict(list)
    for facts in calls:
        for talk in facts.conversations:
            if talk.handled_at is not None:
                by_agent[talk.agent_id].append(talk)
    if not by_agent:
        return
    first = min(t.handled_at for talks in by_agent.values() for t in talks)
    last = max(t.handled_at for talks in by_agent.values() for t in talks)
    rows = session.execute(
        select(CallEvent.agent_id, CallEvent.at, CallEvent.data)
        .where(CallEvent.kind == "agent.state", CallEvent.agent_id.in_(list(by_agent)),
               CallEvent.at >= first, CallEvent.at < last + timedelta(days=1))
        .order_by(CallEvent.id)
    )
    states: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    for agent_id, at, data in rows:
        states[agent_id].append((at, (data or {}).get("state")))
    for agent_id, talks in by_agent.items():
        talks.sort(key=lambda t: t.handled_at)
        ends = [t.handled_at for t in talks]
        changes = states.get(agent_id, [])
        for position, (at, state) in enumerate(changes):
            if state != "wrap-up":
                continue
            index = bisect.bisect_right(ends, at) - 1
            if index < 0 or at - ends[index] > WRAP_UP_MATCH or talks[index].wrap_up is not None:
                continue
            following = changes[position + 1][0] if position + 1 < len(changes) else now
            if following is not None:
                talks[index].wrap_up = max(0.0, (following - at).total_seconds())


def _add_categories(session: Session, calls: dict[int, CallFacts], *, start: datetime,
                    end: datetime) -> None:
    if not calls:
        return
    rows = session.execute(
        select(CallWrapUp.call_id, CallWrapUp.agent_id, CallWrapUp.category, CallWrapUp.at)
        .join(Call, Call.id == CallWrapUp.call_id)
        .where(Call.started_at >= start, Call.started_at < end)
    )
    for call_id, agent_id, category, at in rows:
        if call_id in calls:
            calls[call_id].wrap_ups.append(WrapUpNote(agent_id, category, at))


def later_calls(
    session: Session, *, start: datetime, end: datetime
) -> dict[str, list[datetime]]:
    """When each number phoned in [start, end), in order: to see who called again."""
    rows = session.execute(
        select(Call.from_number, Call.started_at)
        .where(Call.direction == "inbound", Call.started_at >= start, Call.started_at < end)
        .order_by(Call.started_at)
    )
    starts: dict[str, list[datetime]] = defaultdict(list)
    for number, at in rows:
        starts[number].append(at)
    return starts
