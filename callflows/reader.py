"""From flow file text to schema objects, with a problem (file, line, node) for every field that
is missing, unknown, of the wrong type or out of range. Links between nodes are the linter's
business; this module reads one node at a time."""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from callflows import schema
from callflows.fields import NULL_TAG, Fields, compose, describe, line_of
from callflows.language import built_in_sorry
from callflows.node_reader import NodeReader
from callflows.problems import Problem

TOP_FIELDS = ("flow", "description", "start", "languages", "settings", "agent", "nodes")
SETTINGS_FIELDS = ("max_menu_depth", "max_menu_options", "vip_priority", "repeat_priority",
                   "agent_words", "agent_words_by_language", "sorry",
                   "callback_offer_after", "callback_offer_above")
KIND_FIELDS = {
    "say": ("say", "play", "pause", "next"),
    "caller_lookup": ("greet", "repeat", "next"),
    "menu": ("prompt", "options", "agent", "retries", "timeout", "fallback"),
    "hours": ("open", "closed", "hours"),
    "queue": ("skills", "priority", "say"),
    "voicemail": ("prompt", "max_length", "next"),
    "transfer": ("number", "timeout", "say", "fallback"),
    "hangup": ("say",),
    "case": ("next", "timeout"),
}
NODE_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass
class Reading:
    """A flow as far as it could be read: `flow` is None when the file is not a flow at all;
    `broken` holds the ids of nodes written but not usable (the linter treats them as
    present, so one flaw is not reported twice)."""

    file: str
    flow: schema.Flow | None = None
    problems: list[Problem] = field(default_factory=list)
    broken: set[str] = field(default_factory=set)

    def reporter(self, node: str | None) -> Callable[[int, str, bool], None]:
        def report(line: int, message: str, breaks: bool) -> None:
            self.problems.append(Problem(self.file, line, node, message))

        return report


def read_flow(text: str, *, filename: str) -> Reading:
    """Read a flow file's text. Never raises for a flaw in the text: the flaws are in
    `problems`."""
    reading = Reading(filename)
    try:
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        line = mark.line + 1 if mark is not None else None
        reading.problems.append(Problem(filename, line, None, f"YAML syntax error: {problem}"))
        return reading
    if not isinstance(root, MappingNode):
        reading.problems.append(
            Problem(filename, 1, None, "a flow file must be a mapping with flow, start and nodes")
        )
        return reading
    FlowReader(reading, Fields(root, reading.reporter(None))).read()
    return reading


class FlowReader:
    """Reads the top of a flow file (name, start, languages, settings) and its prompts, and
    hands each node to a NodeReader."""

    def __init__(self, reading: Reading, top: Fields) -> None:
        self.reading = reading
        self.top = top
        self.languages: tuple[str, ...] = ("en-US",)
        self.settings = schema.FlowSettings()

    def read(self) -> None:
        top = self.top
        top.check_known(TOP_FIELDS, "a flow")
        name = top.text("flow", required="a flow") or ""
        top.text("description")
        start = top.text("start", required="a flow") or ""
        agent = top.text("agent")
        self.languages = self._languages()
        self.settings = self._settings()
        nodes = self._nodes()
        self.reading.flow = schema.Flow(
            name=name, start=start, languages=self.languages, nodes=nodes, settings=self.settings,
            agent=agent, file=self.reading.file, line=top.line, lines=dict(top.lines),
        )

    def _languages(self) -> tuple[str, ...]:
        node = self.top.sequence_of("languages")
        if node is None:
            return ("en-US",)
        tags = self.top.texts_in(node, "languages")
        if not tags:
            self.top.report(self.top.line_of("languages"), "'languages' lists no language",
                            breaks=False)
            return ("en-US",)
        for tag, item in zip(tags, node.value, strict=True):
            if not LANGUAGE.match(tag):
                self.top.report(line_of(item), f"'{tag}' is not a language tag like en-US",
                                breaks=False)
        if len(set(tags)) != len(tags):
            self.top.report(self.top.line_of("languages"), "'languages' lists a language twice",
                            breaks=False)
        return tags

    def _settings(self) -> schema.FlowSettings:
        node = self.top.mapping_of("settings")
        if node is None:
            settings = schema.FlowSettings()
            self._check_sorry(settings, self.top)
            return settings
        fields = Fields(node, self.reading.reporter(None))
        fields.check_known(SETTINGS_FIELDS, "settings")
        defaults = schema.FlowSettings()
        agent_words = fields.words("agent_words")
        if agent_words is not None and not agent_words:
            fields.report(fields.line_of("agent_words"),
                          "'agent_words' is empty: callers need a word that asks for a person",
                          breaks=False)
        settings = schema.FlowSettings(
            max_menu_depth=fields.integer("max_menu_depth", default=3, low=1, high=9),
            max_menu_options=fields.integer("max_menu_options", default=5, low=1, high=9),
            vip_priority=fields.integer("vip_priority", default=2, low=0, high=10),
            repeat_priority=fields.integer("repeat_priority", default=0, low=0, high=10),
            agent_words=agent_words or defaults.agent_words,
            agent_words_by_language=self._words_by_language(fields),
            sorry=self.prompt(fields, "sorry"),
            # 0 turns the callback offer off; otherwise seconds waited / seconds estimated.
            callback_offer_after=fields.integer("callback_offer_after",
                                                default=defaults.callback_offer_after,
                                                low=0, high=3600),
            callback_offer_above=fields.integer("callback_offer_above",
                                                default=defaults.callback_offer_above,
                                                low=0, high=7200),
        )
        self._check_sorry(settings, fields)
        return settings

    def _words_by_language(self, fields: Fields) -> dict[str, tuple[str, ...]]:
        node = fields.mapping_of("agent_words_by_language")
        if node is None:
            return {}
        result = {}
        for key, value in node.value:
            if key.value not in self.languages:
                fields.report(line_of(key), f"agent words for '{key.value}', which is not in "
                              f"the flow's languages ({', '.join(self.languages)})", breaks=False)
            if not isinstance(value, SequenceNode):
                fields.report(line_of(value), f"agent words for '{key.value}' must be a list",
                              breaks=True)
                continue
            result[key.value] = fields.words_in(value, "agent_words_by_language") or ()
        return result

    def _check_sorry(self, settings: schema.FlowSettings, fields: Fields) -> None:
        if settings.sorry is not None:
            return
        for language in self.languages:
            if built_in_sorry(language) is None:
                fields.report(fields.line, f"no built-in \"Sorry, I didn't get that\" for "
                              f"{language}: add settings.sorry with its text", breaks=False)

    def _nodes(self) -> dict[str, schema.Node]:
        mapping = self.top.mapping_of("nodes", required="a flow")
        if mapping is None:
            return {}
        if not mapping.value:
            self.top.report(self.top.line_of("nodes"), "'nodes' is empty", breaks=False)
        nodes: dict[str, schema.Node] = {}
        seen: set[str] = set()
        for key, value in mapping.value:
            node_id = str(key.value)
            report = self.reading.reporter(node_id)
            if node_id in seen:
                report(line_of(key), "node is written twice (node ids must be unique)", True)
                continue
            seen.add(node_id)
            if not NODE_ID.match(node_id):
                report(line_of(key), "node ids use letters, digits, _ and - and start with a "
                       "letter (they appear in webhook URLs)", True)
            built = self._node(node_id, key, value)
            if built is None:
                self.reading.broken.add(node_id)
            else:
                nodes[node_id] = built
        return nodes

    def _node(self, node_id: str, key: ScalarNode, value: Node) -> schema.Node | None:
        report = self.reading.reporter(node_id)
        if not isinstance(value, MappingNode):
            report(line_of(key), f"a node must be a mapping with a 'kind', not {describe(value)}",
                   True)
            return None
        fields = Fields(value, report, start_line=line_of(key))
        kind = fields.text("kind", required="a node")
        if kind is None:
            return None
        if kind not in KIND_FIELDS:
            fields.report(fields.line_of("kind"),
                          f"unknown kind '{kind}' (kinds: {', '.join(schema.KINDS)})", breaks=True)
            return None
        fields.check_known(("kind", *KIND_FIELDS[kind]), f"a {kind} node")
        common = {"id": node_id, "line": line_of(key), "lines": dict(fields.lines)}
        built = NodeReader(self, fields).build(kind, common)
        return None if fields.broken else built

    def prompt(self, fields: Fields, name: str, *, required: str | None = None,
               template: tuple[str, ...] = schema.TEMPLATE_FIELDS,
               urls: bool = False) -> schema.Prompt | None:
        """A prompt: text, a map language -> text, or a list of those (a one-language map in
        a list is a fixed part, spoken in its language whatever the caller's)."""
        node = fields.require(name, required) if required else fields.values.get(name)
        if node is None:
            return None
        if isinstance(node, SequenceNode):
            if not node.value:
                fields.report(line_of(node), f"'{name}' is an empty list", breaks=True)
                return None
            parts = [self._part(fields, name, item, in_list=True, template=template, urls=urls)
                     for item in node.value]
        else:
            parts = [self._part(fields, name, node, in_list=False, template=template, urls=urls)]
        if any(part is None for part in parts):
            return None
        return schema.Prompt(tuple(part for part in parts if part is not None))

    def _part(self, fields: Fields, name: str, node: Node, *, in_list: bool,
              template: tuple[str, ...], urls: bool) -> schema.PromptPart | None:
        if isinstance(node, ScalarNode) and node.tag != NULL_TAG and node.value.strip():
            self._check_text(fields, name, node, node.value, template, urls)
            return schema.PromptPart(text=node.value)
        if not isinstance(node, MappingNode):
            fields.report(line_of(node), f"'{name}' must be text or a map language -> text, "
                          f"not {describe(node)}", breaks=True)
            return None
        texts: dict[str, str] = {}
        for key, value in node.value:
            if key.value not in self.languages:
                fields.report(line_of(key), f"'{name}' has text for '{key.value}', which is not "
                              f"in the flow's languages ({', '.join(self.languages)})",
                              breaks=False)
            if not isinstance(value, ScalarNode) or value.tag == NULL_TAG or not value.value:
                fields.report(line_of(value), f"'{name}' text for '{key.value}' is "
                              f"{describe(value)}", breaks=True)
                continue
            self._check_text(fields, name, value, value.value, template, urls)
            texts[key.value] = value.value
        fixed = in_list and len(node.value) == 1
        missing = [lang for lang in self.languages if lang not in texts]
        if missing and not fixed and texts:
            fields.report(line_of(node), f"'{name}' has no {', '.join(missing)} text",
                          breaks=False)
        return schema.PromptPart(texts=texts, fixed=fixed) if texts else None

    def _check_text(self, fields: Fields, name: str, node: ScalarNode, text: str,
                    template: tuple[str, ...], urls: bool) -> None:
        if urls:
            if not text.startswith(("https://", "http://")):
                fields.report(line_of(node), f"'{name}' must be an http(s) URL, not '{text}'",
                              breaks=False)
            return
        try:
            used = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        except ValueError as exc:
            fields.report(line_of(node), f"'{name}' has a stray brace ({exc}); write {{{{ or }}}} "
                          "for a literal brace", breaks=False)
            return
        for placeholder in used:
            if placeholder not in template:
                allowed = ", ".join("{" + t + "}" for t in template)
                fields.report(line_of(node), f"'{name}' uses {{{placeholder}}}; "
                              f"it may use {allowed}", breaks=False)
