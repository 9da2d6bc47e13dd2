"""The scorecards file: one or more scorecards, each a list of criteria scored within a range.
Read once and checked; a broken file is refused with its path, line and field."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_SCORECARDS = Path(__file__).with_name("scorecards.yaml")
KEY = re.compile(r"^[a-z][a-z0-9_]*$")
NAME_LENGTH = 64  # call_scores.scorecard
HIGHEST_SCORE = 100


class ScorecardError(ValueError):
    """The scorecards file is wrong; the message names the file, line and field."""


@dataclass(frozen=True)
class Criterion:
    key: str
    label: str
    description: str
    min: int = 1
    max: int = 5
    # What particular scores mean, e.g. {0: "the caller's main question went unanswered"}.
    anchors: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scorecard:
    name: str
    description: str
    criteria: tuple[Criterion, ...]

    @property
    def max_total(self) -> int:
        return sum(c.max for c in self.criteria)

    def criterion(self, key: str) -> Criterion | None:
        return next((c for c in self.criteria if c.key == key), None)


@dataclass(frozen=True)
class Scorecards:
    cards: tuple[Scorecard, ...]
    default: str
    source: str = str(DEFAULT_SCORECARDS)

    def get(self, name: str) -> Scorecard | None:
        return next((card for card in self.cards if card.name == name), None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(card.name for card in self.cards)


class _Reader:
    """Checks the parsed file against its YAML nodes, so that each complaint has a line."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, node: Any, where: str, what: str) -> ScorecardError:
        line = getattr(getattr(node, "start_mark", None), "line", None)
        place = f"{self.source}:{line + 1}" if line is not None else self.source
        return ScorecardError(f"{place}: {where}: {what}" if where else f"{place}: {what}")

    def mapping(self, node: Any, value: Any, where: str, allowed: tuple[str, ...]
                ) -> dict[str, Any]:
        """The node's children by key; refuses a non-mapping and fields it does not know."""
        if not isinstance(value, dict) or not isinstance(node, yaml.MappingNode):
            raise self.fail(node, where, "must be a mapping")
        children = {str(key.value): child for key, child in node.value}
        for key, _ in node.value:
            if str(key.value) not in allowed:
                raise self.fail(key, where, f"unknown field {key.value!r}; use "
                                f"{', '.join(allowed)}")
        return children

    def text(self, nodes: dict[str, Any], parent: Any, data: dict[str, Any], name: str,
             where: str, *, one_line: bool = False) -> str:
        value = data.get(name)
        node = nodes.get(name, parent)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(node, f"{where}.{name}" if where else name,
                            "must be a non-empty string")
        value = value.strip()
        if one_line and "\n" in value:
            raise self.fail(node, f"{where}.{name}", "must be one line")
        return value

    def whole(self, nodes: dict[str, Any], data: dict[str, Any], name: str, where: str,
              default: int) -> int:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(nodes.get(name), f"{where}.{name}", "must be a whole number")
        if not 0 <= value <= HIGHEST_SCORE:
            raise self.fail(nodes.get(name), f"{where}.{name}",
                            f"must be between 0 and {HIGHEST_SCORE}")
        return value


def _criterion(reader: _Reader, node: Any, data: Any, where: str) -> Criterion:
    nodes = reader.mapping(node, data, where,
                           ("key", "label", "description", "min", "max", "anchors"))
    key = reader.text(nodes, node, data, "key", where)
    if not KEY.match(key):
        raise reader.fail(nodes["key"], f"{where}.key",
                          f"{key!r} must be lower case letters, digits and _")
    low = reader.whole(nodes, data, "min", where, 1)
    high = reader.whole(nodes, data, "max", where, 5)
    if low >= high:
        raise reader.fail(nodes.get("max", node), f"{where}.max",
                          f"must be more than min ({low})")
    anchors: dict[int, str] = {}
    if data.get("anchors") is not None:
        anchor_nodes = nodes["anchors"]
        raw = data["anchors"]
        if not isinstance(raw, dict) or not isinstance(anchor_nodes, yaml.MappingNode):
            raise reader.fail(anchor_nodes, f"{where}.anchors",
                              "must map scores to what they mean")
        for (score_node, meaning_node), (score, meaning) in zip(
            anchor_nodes.value, raw.items(), strict=False
        ):
            if isinstance(score, bool) or not isinstance(score, int) or not low <= score <= high:
                raise reader.fail(score_node, f"{where}.anchors",
                                  f"{score!r} is not a score from {low} to {high}")
            if not isinstance(meaning, str) or not meaning.strip():
                raise reader.fail(meaning_node, f"{where}.anchors.{score}",
                                  "must say what the score means")
            anchors[score] = meaning.strip()
    return Criterion(
        key=key,
        label=reader.text(nodes, node, data, "label", where),
        description=reader.text(nodes, node, data, "description", where, one_line=True),
        min=low,
        max=high,
        anchors=anchors,
    )


def _scorecard(reader: _Reader, node: Any, data: Any, where: str) -> Scorecard:
    nodes = reader.mapping(node, data, where, ("name", "description", "criteria"))
    name = reader.text(nodes, node, data, "name", where)
    if len(name) > NAME_LENGTH:
        raise reader.fail(nodes["name"], f"{where}.name",
                          f"must be at most {NAME_LENGTH} characters")
    description = ""
    if data.get("description") is not None:
        description = reader.text(nodes, node, data, "description", where)
    criteria_node, criteria = nodes.get("criteria", node), data.get("criteria")
    if not isinstance(criteria, list) or not criteria:
        raise reader.fail(criteria_node, f"{where}.criteria", "must be a list of criteria")
    made: list[Criterion] = []
    for index, (item_node, item) in enumerate(zip(criteria_node.value, criteria, strict=True)):
        criterion = _criterion(reader, item_node, item, f"{where}.criteria[{index}]")
        if any(c.key == criterion.key for c in made):
            raise reader.fail(item_node, f"{where}.criteria[{index}].key",
                              f"{criterion.key!r} is listed twice")
        made.append(criterion)
    return Scorecard(name=name, description=description, criteria=tuple(made))


def _parse(source: str, text: str) -> tuple[Any, Any]:
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        place = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScorecardError(f"{place}: not valid YAML: {problem}") from None


def load(path: Path | str = DEFAULT_SCORECARDS) -> Scorecards:
    """The scorecards in `path`, checked; ScorecardError names the file, line and field."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ScorecardError(f"{source}: {exc.strerror}") from None
    reader = _Reader(source)
    root, data = _parse(source, text)
    if root is None:
        raise ScorecardError(f"{source}: the file is empty; it needs 'scorecards'")
    nodes = reader.mapping(root, data, "", ("default", "scorecards"))
    cards_node, cards = nodes.get("scorecards", root), data.get("scorecards")
    if not isinstance(cards, list) or not cards:
        raise reader.fail(cards_node, "scorecards", "must be a list of scorecards")
    made: list[Scorecard] = []
    for index, (card_node, card) in enumerate(zip(cards_node.value, cards, strict=True)):
        scorecard = _scorecard(reader, card_node, card, f"scorecards[{index}]")
        if any(c.name == scorecard.name for c in made):
            raise reader.fail(card_node, f"scorecards[{index}].name",
                              f"{scorecard.name!r} is listed twice")
        made.append(scorecard)
    default = made[0].name
    if data.get("default") is not None:
        default = reader.text(nodes, root, data, "default", "")
        if default not in (c.name for c in made):
            raise reader.fail(nodes["default"], "default",
                              f"{default!r} is not one of the scorecards listed")
    return Scorecards(cards=tuple(made), default=default, source=source)
