"""Reading typed fields from composed YAML mappings, keeping the line of each field.

The flow files are read with PyYAML's compose API (not `safe_load`) so that every value still
knows where it was written; each reader here reports a problem at that line instead of
raising, so one pass finds every flaw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

NULL_TAG = "tag:yaml.org,2002:null"
INT_TAG = "tag:yaml.org,2002:int"
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

# report(line, message, breaks): `breaks` says the value is unusable, not merely wrong.
Report = Callable[[int, str, bool], None]


def line_of(node: Node) -> int:
    """The 1-based line where a YAML node starts."""
    return node.start_mark.line + 1


def describe(node: Node) -> str:
    """How a value looks to the person who wrote it, for messages."""
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL_TAG:
        return "empty"
    return f"'{node.value}'"


@dataclass
class Fields:
    """The fields of one YAML mapping. Readers return None (and report) when a value is
    missing or unusable; `broken` then tells the caller to give up on the whole thing."""

    mapping: MappingNode
    report_to: Report
    # Where the thing starts for the person reading: a node's id line, not its first field.
    start_line: int | None = None
    values: dict[str, Node] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    broken: bool = False

    def __post_init__(self) -> None:
        for key, value in self.mapping.value:
            name = key.value if isinstance(key, ScalarNode) else str(key)
            if name in self.values:
                self.report(line_of(key), f"'{name}' is written twice", breaks=False)
                continue
            self.values[name] = value
            self.lines[name] = line_of(key)

    @property
    def line(self) -> int:
        return self.start_line or line_of(self.mapping)

    def report(self, line: int, message: str, *, breaks: bool) -> None:
        if breaks:
            self.broken = True
        self.report_to(line, message, breaks)

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)

    def check_known(self, allowed: Iterable[str], what: str) -> None:
        """Report every field that is not in `allowed` (typos would otherwise be ignored)."""
        known = list(allowed)
        for name in self.values:
            if name not in known:
                self.report(
                    self.lines[name],
                    f"unknown field '{name}' for {what} (known: {', '.join(known)})",
                    breaks=False,
                )

    def require(self, name: str, what: str) -> Node | None:
        if name not in self.values:
            self.report(self.line, f"{what} needs '{name}'", breaks=True)
            return None
        return self.values[name]

    def text(self, name: str, *, required: str | None = None) -> str | None:
        """A scalar as text (`key: 1` reads as "1"). `required` names what needs it."""
        node = self.require(name, required) if required else self.values.get(name)
        if node is None:
            return None
        if not isinstance(node, ScalarNode) or node.tag == NULL_TAG or node.value == "":
            self.report(self.lines[name], f"'{name}' must be text, not {describe(node)}",
                        breaks=True)
            return None
        return node.value

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        """A whole number between `low` and `high`; `default` when absent or wrong."""
        node = self.values.get(name)
        if node is None:
            return default
        if not isinstance(node, ScalarNode) or node.tag != INT_TAG:
            self.report(self.lines[name], f"'{name}' must be a whole number, not {describe(node)}",
                        breaks=True)
            return default
        value = _CONSTRUCTOR.construct_yaml_int(node)
        if not low <= value <= high:
            self.report(self.lines[name], f"'{name}' is {value}; use {low} to {high}",
                        breaks=False)
            return default
        return value

    def mapping_of(self, name: str, *, required: str | None = None) -> MappingNode | None:
        node = self.require(name, required) if required else self.values.get(name)
        if node is None:
            return None
        if not isinstance(node, MappingNode):
            self.report(self.lines[name], f"'{name}' must be a mapping, not {describe(node)}",
                        breaks=True)
            return None
        return node

    def sequence_of(self, name: str, *, required: str | None = None) -> SequenceNode | None:
        node = self.require(name, required) if required else self.values.get(name)
        if node is None:
            return None
        if not isinstance(node, SequenceNode):
            self.report(self.lines[name], f"'{name}' must be a list, not {describe(node)}",
                        breaks=True)
            return None
        return node

    def words(self, name: str) -> tuple[str, ...] | None:
        """A list of words or phrases, lower-cased."""
        node = self.sequence_of(name)
        if node is None:
            return None
        return self.words_in(node, name)

    def words_in(self, node: SequenceNode, name: str) -> tuple[str, ...] | None:
        found = self.texts_in(node, name)
        return None if found is None else tuple(word.lower() for word in found)

    def texts_in(self, node: SequenceNode, name: str) -> tuple[str, ...] | None:
        """The items of a list of texts, stripped."""
        found = []
        for item in node.value:
            if not isinstance(item, ScalarNode) or item.tag == NULL_TAG or not item.value.strip():
                self.report(line_of(item), f"'{name}' must list texts, not {describe(item)}",
                            breaks=True)
                return None
            found.append(item.value.strip())
        return tuple(found)


def compose(text: str) -> Node | None:
    """The YAML node tree of a single-document text (None for an empty file).
    Raises yaml.YAMLError (with a mark) on a syntax error."""
    return yaml.compose(text, Loader=yaml.SafeLoader)
