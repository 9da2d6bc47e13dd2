"""A call flow as data: the flow, its settings, its nodes and their prompts.

The loader builds these from YAML (keeping each node's and field's source line for the
linter); the engine walks them. Objects here are only ever built from a flow that passed the
linter, so their fields hold checked values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivr.calendar import BusinessCalendar

KINDS = ("say", "caller_lookup", "menu", "hours", "queue", "voicemail", "transfer", "hangup",
         "case")
AGENT_KEY = "0"
OPTION_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "*")
DEFAULT_AGENT_WORDS = ("agent", "operator", "person", "representative", "human")
# Templates a prompt may use, and where; `{opens}` is the next opening time, spoken.
TEMPLATE_FIELDS = ("opens",)
GREETING_FIELDS = ("name", "opens")


@dataclass(frozen=True)
class PromptPart:
    """One piece of a prompt. `text` is the same in every language; otherwise `texts` maps a
    language to its text. A `fixed` part is always spoken in its only language (as in "Para
    español, oprima 2" inside an English prompt)."""

    text: str | None = None
    texts: Mapping[str, str] = field(default_factory=dict)
    fixed: bool = False

    def resolve(self, language: str, default: str) -> tuple[str, str]:
        """(text, language it is spoken in) for a caller whose language is `language`."""
        if self.text is not None:
            return self.text, language
        if self.fixed:
            only = next(iter(self.texts))
            return self.texts[only], only
        if language in self.texts:
            return self.texts[language], language
        if default in self.texts:
            return self.texts[default], default
        first = next(iter(self.texts))
        return self.texts[first], first


@dataclass(frozen=True)
class Prompt:
    """What the caller hears: parts spoken in order."""

    parts: tuple[PromptPart, ...]


@dataclass(frozen=True, kw_only=True)
class Node:
    """What every node has: its id, its kind and where it is written."""

    id: str
    line: int
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    kind = "node"

    def line_of(self, name: str) -> int:
        """The source line of a field, or of the node when the field is not written."""
        return self.lines.get(name, self.line)

    def targets(self) -> list[tuple[str, str]]:
        """(field, node id) for every node this one can lead to, in reading order."""
        names = ("next", "open", "closed", "agent", "fallback")
        return [(name, getattr(self, name)) for name in names if getattr(self, name, None)]


@dataclass(frozen=True, kw_only=True)
class SayNode(Node):
    kind = "say"
    play: Prompt | None = None
    say: Prompt | None = None
    pause: int = 0
    next: str | None = None


@dataclass(frozen=True, kw_only=True)
class CaseNode(Node):
    """Asks a caller with an open case whether they call about it (anyone may key a case
    number): the service then routes the call to the case's owner. Otherwise `next`."""

    kind = "case"
    next: str | None = None
    timeout: int = 4


@dataclass(frozen=True, kw_only=True)
class CallerLookupNode(Node):
    kind = "caller_lookup"
    greet: Prompt | None = None
    repeat: Prompt | None = None
    next: str | None = None


@dataclass(frozen=True, kw_only=True)
class MenuOption:
    key: str
    next: str
    words: tuple[str, ...] = ()
    set: Mapping[str, str] = field(default_factory=dict)
    line: int = 0


@dataclass(frozen=True, kw_only=True)
class MenuNode(Node):
    kind = "menu"
    prompt: Prompt
    options: tuple[MenuOption, ...]
    agent: str | None = None
    retries: int = 2
    timeout: int = 5
    fallback: str | None = None

    def targets(self) -> list[tuple[str, str]]:
        chosen = [(f"option {option.key}", option.next) for option in self.options]
        return chosen + super().targets()


@dataclass(frozen=True, kw_only=True)
class HoursNode(Node):
    kind = "hours"
    open: str
    closed: str
    calendar: BusinessCalendar | None = None


@dataclass(frozen=True, kw_only=True)
class QueueNode(Node):
    kind = "queue"
    skills: Mapping[str, int]
    priority: int = 1
    say: Prompt | None = None


@dataclass(frozen=True, kw_only=True)
class VoicemailNode(Node):
    kind = "voicemail"
    prompt: Prompt
    max_length: int = 120
    next: str | None = None


@dataclass(frozen=True, kw_only=True)
class TransferNode(Node):
    kind = "transfer"
    number: str
    timeout: int = 30
    say: Prompt | None = None
    fallback: str | None = None


@dataclass(frozen=True, kw_only=True)
class HangupNode(Node):
    kind = "hangup"
    say: Prompt | None = None


@dataclass(frozen=True)
class FlowSettings:
    max_menu_depth: int = 3
    max_menu_options: int = 5
    vip_priority: int = 2
    repeat_priority: int = 0
    agent_words: tuple[str, ...] = DEFAULT_AGENT_WORDS
    agent_words_by_language: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sorry: Prompt | None = None
    # A waiting caller is offered a callback once they have waited this long, or at once when
    # the estimated wait is above `callback_offer_above` (seconds; 0 turns either off).
    callback_offer_after: int = 120
    callback_offer_above: int = 180

    def all_agent_words(self) -> tuple[str, ...]:
        """Every word that asks for a person, whatever the caller's language."""
        extra = [w for words in self.agent_words_by_language.values() for w in words]
        return (*self.agent_words, *extra)


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    languages: tuple[str, ...]
    nodes: Mapping[str, Node]
    settings: FlowSettings = field(default_factory=FlowSettings)
    agent: str | None = None
    file: str = "<flow>"
    line: int = 1
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def agent_target(self, menu: MenuNode) -> str | None:
        """Where 0 or an agent word goes from this menu."""
        return menu.agent or self.agent

    def fallback_target(self, node: MenuNode | TransferNode) -> str | None:
        """Where a menu goes after its retries, or a transfer nobody answered."""
        if isinstance(node, MenuNode):
            return node.fallback or self.agent_target(node)
        return node.fallback or self.general_agent()

    def successors(self, node: Node) -> list[tuple[str, str]]:
        """(why, node id) for every way out of a node, defaults included."""
        found = node.targets()
        if isinstance(node, MenuNode) and not node.agent and self.agent:
            found.append(("agent", self.agent))
        if isinstance(node, TransferNode) and not node.fallback:
            general = self.general_agent()
            if general:
                found.append(("fallback", general))
        return [(why, target) for why, target in found if target]

    def general_agent(self) -> str | None:
        """The flow's way to a person for anything that has no better one: the flow's `agent`,
        else the agent target of the first menu from the start, else the first queue."""
        if self.agent:
            return self.agent
        order = self.walk_order()
        for node_id in order:
            node = self.nodes[node_id]
            if isinstance(node, MenuNode) and node.agent:
                return node.agent
        return next((n for n in order if isinstance(self.nodes[n], QueueNode)), None)

    def walk_order(self) -> list[str]:
        """Node ids reachable from the start, breadth first (explicit targets only)."""
        seen = [self.start] if self.start in self.nodes else []
        for node_id in seen:
            for _, target in self.nodes[node_id].targets():
                if target in self.nodes and target not in seen:
                    seen.append(target)
        return seen
