"""The flow engine: given a flow, where the call is and what the caller did, the next step.

Stateless and pure: the web layer keeps the node id, the menu attempt and the flow variables
between webhooks and passes them back in, with `now` and the business calendar. Nodes that
do not wait for the caller (say, caller_lookup, hours) are chained within one step, so every
step ends with the caller asked, queued, recorded, dialled or let go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from callflows import language as lang
from callflows.actions import (
    INTERACTIVE,
    Action,
    CaseCheck,
    Dial,
    Enqueue,
    Gather,
    Hangup,
    Pause,
    Play,
    RecordVoicemail,
    Say,
)
from callflows.schema import (
    CallerLookupNode,
    CaseNode,
    Flow,
    HangupNode,
    HoursNode,
    MenuNode,
    MenuOption,
    Node,
    Prompt,
    QueueNode,
    SayNode,
    TransferNode,
    VoicemailNode,
)
from ivr.calendar import BusinessCalendar

__all__ = [
    "Action", "CallContext", "CaseCheck", "Dial", "Enqueue", "FlowError", "Gather", "Hangup",
    "Pause", "PathEntry", "Play", "RecordVoicemail", "Say", "Step", "after_case_check",
    "after_transfer_failed", "after_voicemail", "answer", "goodbye", "no_input", "resume",
    "start", "to_person",
]

# More nodes than this in one step means a loop the linter should have caught.
MAX_NODES_PER_STEP = 50
OPENS_FALLBACK = {"en": "during business hours", "es": "en nuestro horario de atención"}


class FlowError(Exception):
    """The engine was asked for something the flow does not have (an unknown node, an answer
    to a node that is not a menu). The web layer restarts the caller's flow."""


@dataclass(frozen=True)
class CallContext:
    """What the web layer knows about the call when it asks for the next step."""

    caller_number: str
    caller_name: str | None = None
    vip: bool = False
    repeat_today: bool = False
    vars: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PathEntry:
    """One node passed: its kind, what happened there ("matched 1", "agent requested",
    "no input, retry 2", "closed", ...) and what the caller gave (digits or speech). The field
    names stay clear of `kind` and `at` so an entry can be spread into an event record."""

    node: str
    node_kind: str
    event: str
    input: str | None = None


@dataclass(frozen=True)
class Step:
    """What happens next: `actions` end with an interactive one; `outcome` is set when the
    IVR's part of the call is over ("queued", "voicemail", "transferred", "goodbye")."""

    actions: list[Action]
    path: list[PathEntry]
    vars: dict[str, str]
    outcome: str | None = None


# --- the webhook entry points ------------------------------------------------------------------


def start(flow: Flow, ctx: CallContext, *, now: datetime,
          calendar: BusinessCalendar | None) -> Step:
    """The first step of a new call, from the flow's start node."""
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    return walk.run(flow.start)


def answer(flow: Flow, node_id: str, ctx: CallContext, *, digits: str | None = None,
           speech: str | None = None, attempt: int = 1, now: datetime,
           calendar: BusinessCalendar | None) -> Step:
    """The caller answered menu `node_id` (offered for the `attempt`-th time). 0 or an agent
    word goes to a person; a key or word of an option follows it; anything else re-prompts
    with an apology, and after the menu's retries goes to its fallback. Raises FlowError when
    `node_id` is not a menu of this flow."""
    menu = _menu(flow, node_id)
    said = (digits or "").strip() or None
    heard = (speech or "").strip() or None
    if said is None and heard is None:
        return no_input(flow, node_id, ctx, attempt=attempt, now=now, calendar=calendar)
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    given = said if said is not None else heard
    choice = lang.choose(flow, menu, digits=said, speech=heard)
    if choice == "agent":
        walk.note(menu, "agent requested", given)
        return walk.run(_required(flow.agent_target(menu), menu, "agent"))
    if isinstance(choice, MenuOption):
        walk.note(menu, f"matched {choice.key}", given)
        walk.vars.update(choice.set)
        return walk.run(choice.next)
    return _retry_or_fall_back(walk, menu, attempt, "no match", given, apologise=True)


def no_input(flow: Flow, node_id: str, ctx: CallContext, *, attempt: int, now: datetime,
             calendar: BusinessCalendar | None) -> Step:
    """Silence at menu `node_id`: offer it again, and after its retries go to its fallback.
    Raises FlowError when `node_id` is not a menu of this flow."""
    menu = _menu(flow, node_id)
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    return _retry_or_fall_back(walk, menu, attempt, "no input", None, apologise=False)


def after_voicemail(flow: Flow, node_id: str, ctx: CallContext, *, now: datetime,
                    calendar: BusinessCalendar | None) -> Step:
    """The caller finished a voicemail at `node_id`: carry on with its `next`, or hang up.
    The outcome stays "voicemail" unless the flow goes on to a person."""
    node = _node(flow, node_id)
    if not isinstance(node, VoicemailNode):
        raise FlowError(f"node '{node_id}' is a {node.kind}, not a voicemail")
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    walk.note(node, "voicemail left")
    if node.next is None:
        walk.actions.append(Hangup())
        return walk.step("voicemail")
    step = walk.run(node.next)
    if step.outcome in (None, "goodbye"):
        return Step(step.actions, step.path, step.vars, "voicemail")
    return step


def after_transfer_failed(flow: Flow, node_id: str, ctx: CallContext, *, now: datetime,
                          calendar: BusinessCalendar | None) -> Step:
    """Nobody answered the transfer at `node_id`: go to its fallback (by default the flow's
    general way to a person)."""
    node = _node(flow, node_id)
    if not isinstance(node, TransferNode):
        raise FlowError(f"node '{node_id}' is a {node.kind}, not a transfer")
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    walk.note(node, "no answer, fallback")
    return walk.run(_required(flow.fallback_target(node), node, "fallback"))


def after_case_check(flow: Flow, node_id: str, ctx: CallContext, *, now: datetime,
                     calendar: BusinessCalendar | None, result: str = "no case") -> Step:
    """The caller is not calling about a case (or gave none): carry on with the node's
    `next`."""
    node = _node(flow, node_id)
    if not isinstance(node, CaseNode):
        raise FlowError(f"node '{node_id}' is a {node.kind}, not a case check")
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    walk.note(node, result)
    return walk.run(_required(node.next, node, "next"))


def to_person(flow: Flow, ctx: CallContext, *, now: datetime,
              calendar: BusinessCalendar | None) -> Step:
    """Straight to the flow's general way to a person (the flow's `agent`, else the first
    menu's agent target): for callers the service must place without a menu."""
    target = flow.general_agent()
    if target is None:
        raise FlowError(f"flow '{flow.name}' has no way to a person")
    return _Walk(flow, ctx, now=now, calendar=calendar).run(target)


def resume(flow: Flow, node_id: str | None, ctx: CallContext, *, now: datetime,
           calendar: BusinessCalendar | None) -> Step:
    """Put a caller back where the call was: a menu is offered again from its first attempt,
    any other node is walked again; an unknown node starts the flow over."""
    node = flow.nodes.get(node_id or "")
    if node is None:
        return start(flow, ctx, now=now, calendar=calendar)
    walk = _Walk(flow, ctx, now=now, calendar=calendar)
    if isinstance(node, MenuNode):
        return walk.offer(node, attempt=1, event="resumed")
    return walk.run(node.id)


def goodbye(flow: Flow, ctx: CallContext) -> Step:
    """A spoken goodbye and hang up, for when the flow cannot go on: the first hangup node
    with words (from the start), else a plain hang up."""
    walk = _Walk(flow, ctx, now=None, calendar=None)
    order = flow.walk_order() + list(flow.nodes)
    node = next((flow.nodes[n] for n in order
                 if isinstance(flow.nodes[n], HangupNode) and flow.nodes[n].say), None)
    if node is None:
        walk.actions.append(Hangup())
        return walk.step("goodbye")
    return walk.run(node.id)


# --- walking ---------------------------------------------------------------------------------


class _Walk:
    """One step in the making: the actions so far, the path and the variables."""

    def __init__(self, flow: Flow, ctx: CallContext, *, now: datetime | None,
                 calendar: BusinessCalendar | None) -> None:
        self.flow = flow
        self.ctx = ctx
        self.now = now
        self.calendar = calendar
        self.vars = dict(ctx.vars)
        self.actions: list[Action] = []
        self.path: list[PathEntry] = []

    @property
    def language(self) -> str:
        chosen = self.vars.get("language")
        return chosen if chosen in self.flow.languages else self.flow.default_language

    def note(self, node: Node, event: str, given: str | None = None) -> None:
        self.path.append(PathEntry(node=node.id, node_kind=node.kind, event=event, input=given))

    def step(self, outcome: str | None) -> Step:
        return Step(actions=self.actions, path=self.path, vars=self.vars, outcome=outcome)

    def run(self, node_id: str) -> Step:
        """Walk from `node_id` until a node that waits for the caller or ends the IVR."""
        for _ in range(MAX_NODES_PER_STEP):
            node = _node(self.flow, node_id)
            following = self.visit(node)
            if self.actions and isinstance(self.actions[-1], INTERACTIVE):
                return self.step(_OUTCOMES.get(type(self.actions[-1])))
            if following is None:
                raise FlowError(f"node '{node.id}' leads nowhere")
            node_id = following
        raise FlowError(f"flow '{self.flow.name}' loops without waiting for the caller "
                        f"(at node '{node_id}')")

    def visit(self, node: Node) -> str | None:
        """Act out one node; returns the next node id for nodes that do not wait."""
        if isinstance(node, SayNode):
            if node.play:
                self.actions.extend(Play(text) for text, _ in self.texts(node.play))
            if node.say:
                self.actions.extend(self.say(node.say))
            if node.pause:
                self.actions.append(Pause(node.pause))
            self.note(node, "played" if node.play and not node.say else "said")
            return node.next
        if isinstance(node, CallerLookupNode):
            return self.look_up(node)
        if isinstance(node, HoursNode):
            return self.check_hours(node)
        if isinstance(node, MenuNode):
            self.offer(node, attempt=1, event="offered")
        elif isinstance(node, QueueNode):
            self.enqueue(node)
        elif isinstance(node, VoicemailNode):
            self.actions.append(RecordVoicemail(node.id, node.max_length, self.say(node.prompt)))
            self.note(node, "recording")
        elif isinstance(node, TransferNode):
            if node.say:
                self.actions.extend(self.say(node.say))
            self.actions.append(Dial(node.id, node.number, node.timeout))
            self.note(node, f"dialing {node.number}")
        elif isinstance(node, CaseNode):
            self.actions.append(CaseCheck(node.id, node.timeout))
            self.note(node, "case check")
        elif isinstance(node, HangupNode):
            if node.say:
                self.actions.extend(self.say(node.say))
            self.actions.append(Hangup())
            self.note(node, "goodbye")
        return None

    def look_up(self, node: CallerLookupNode) -> str | None:
        ctx = self.ctx
        happened = []
        if ctx.caller_name:
            happened.append("greeted")
            if node.greet:
                self.actions.extend(self.say(node.greet))
        else:
            happened.append("unknown caller")
        if ctx.vip:
            happened.append("VIP")
        if ctx.repeat_today:
            happened.append("repeat caller today")
            if node.repeat:
                self.actions.extend(self.say(node.repeat))
        self.vars["vip"] = "yes" if ctx.vip else "no"
        self.vars["repeat"] = "yes" if ctx.repeat_today else "no"
        self.note(node, ", ".join(happened))
        return node.next

    def check_hours(self, node: HoursNode) -> str:
        calendar = node.calendar or self.calendar
        if calendar is None or self.now is None:
            raise FlowError(f"node '{node.id}' needs a business calendar and the time")
        is_open = calendar.is_open(self.now)
        # A later {opens} in this step speaks this node's calendar, not the service's.
        self.calendar = calendar
        self.note(node, "open" if is_open else "closed")
        return node.open if is_open else node.closed

    def enqueue(self, node: QueueNode) -> None:
        settings = self.flow.settings
        priority = node.priority
        reasons = [f"{node.id}: {node.priority}"]
        if self.ctx.vip and settings.vip_priority:
            priority += settings.vip_priority
            reasons.append(f"VIP caller: +{settings.vip_priority}")
        if self.ctx.repeat_today and settings.repeat_priority:
            priority += settings.repeat_priority
            reasons.append(f"repeat caller today: +{settings.repeat_priority}")
        if node.say:
            self.actions.extend(self.say(node.say))
        self.actions.append(Enqueue(node.id, dict(node.skills), priority, reasons))
        self.note(node, f"queued at priority {priority}")

    def offer(self, menu: MenuNode, *, attempt: int, event: str,
              apology: list[Say] | None = None) -> Step:
        """Offer a menu (again); `event` says why, for the path (empty: already noted)."""
        words = [word for option in menu.options for word in option.words]
        settings = self.flow.settings
        agent_words = [*settings.agent_words,
                       *settings.agent_words_by_language.get(self.language, ())]
        self.actions.append(Gather(
            node=menu.id, attempt=attempt, prompts=[*(apology or []), *self.say(menu.prompt)],
            timeout=menu.timeout, language=self.language, num_digits=1,
            hints=list(dict.fromkeys([*words, *agent_words])),
        ))
        if event:
            self.note(menu, event)
        return self.step(None)

    # --- prompts -----------------------------------------------------------------------------

    def texts(self, prompt: Prompt) -> list[tuple[str, str]]:
        """(text, language) of each part of a prompt for this caller, templates filled in."""
        found = []
        for part in prompt.parts:
            text, spoken_in = part.resolve(self.language, self.flow.default_language)
            if "{" in text:
                text = text.format_map(_Values(self, spoken_in))
            found.append((text, spoken_in))
        return found

    def say(self, prompt: Prompt) -> list[Say]:
        return [Say(text, spoken_in) for text, spoken_in in self.texts(prompt)]

    def sorry(self) -> list[Say]:
        if self.flow.settings.sorry is not None:
            return self.say(self.flow.settings.sorry)
        text = lang.built_in_sorry(self.language) or lang.BUILT_IN_SORRY["en"]
        return [Say(text, self.language)]

    def opens(self, language: str) -> str:
        if self.calendar is None:
            return OPENS_FALLBACK.get(lang.base_language(language), OPENS_FALLBACK["en"])
        if self.now is None:
            # A goodbye after a failure has no time to count from: speak of the hours instead.
            return OPENS_FALLBACK.get(lang.base_language(language), OPENS_FALLBACK["en"])
        moment = self.calendar.next_open(self.now)
        return lang.speak_opening(moment, calendar=self.calendar, language=language, now=self.now)


class _Values(dict):
    """Template values, computed only when a prompt uses them."""

    def __init__(self, walk: _Walk, language: str) -> None:
        super().__init__(name=walk.ctx.caller_name or "")
        self.walk = walk
        self.language = language

    def __missing__(self, key: str) -> str:
        if key == "opens":
            return self.walk.opens(self.language)
        raise FlowError(f"prompt uses an unknown template {{{key}}}")


_OUTCOMES = {Enqueue: "queued", RecordVoicemail: "voicemail", Dial: "transferred",
             Hangup: "goodbye", Gather: None, CaseCheck: None}


def _retry_or_fall_back(walk: _Walk, menu: MenuNode, attempt: int, what: str,
                        given: str | None, *, apologise: bool) -> Step:
    if attempt <= menu.retries:
        walk.note(menu, f"{what}, retry {attempt + 1}", given)
        apology = walk.sorry() if apologise else []
        return walk.offer(menu, attempt=attempt + 1, event="", apology=apology)
    walk.note(menu, f"{what}, fallback", given)
    return walk.run(_required(walk.flow.fallback_target(menu), menu, "fallback"))


def _node(flow: Flow, node_id: str) -> Node:
    node = flow.nodes.get(node_id)
    if node is None:
        raise FlowError(f"flow '{flow.name}' has no node '{node_id}'")
    return node


def _menu(flow: Flow, node_id: str) -> MenuNode:
    node = _node(flow, node_id)
    if not isinstance(node, MenuNode):
        raise FlowError(f"node '{node_id}' is a {node.kind}, not a menu")
    return node


def _required(target: str | None, node: Node, why: str) -> str:
    if target is None:
        raise FlowError(f"node '{node.id}' has no {why} target")
    return target
