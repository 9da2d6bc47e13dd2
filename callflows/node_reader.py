"""Reading one node of a flow file: the fields of each kind, their types and ranges. Problems
go to the node's reporter; a node whose fields cannot be used is left out by the caller."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import phonenumbers
from yaml.nodes import MappingNode, Node, ScalarNode

from callflows import schema
from callflows.fields import NULL_TAG, Fields, describe, line_of
from ivr.calendar import BusinessCalendar, CalendarError

if TYPE_CHECKING:
    from callflows.reader import FlowReader

OPTION_FIELDS = ("key", "words", "set", "next")
HOURS_FIELDS = ("timezone", "weekly", "holidays", "closed")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


class NodeReader:
    """Reads the fields of one node of a known kind into its schema object."""

    def __init__(self, flow_reader: FlowReader, fields: Fields) -> None:
        self.flow = flow_reader
        self.fields = fields

    def build(self, kind: str, common: dict) -> schema.Node | None:
        return getattr(self, f"_{kind}")(common)

    def prompt(self, name: str, *, required: str | None = None,
               template: tuple[str, ...] = schema.TEMPLATE_FIELDS,
               urls: bool = False) -> schema.Prompt | None:
        return self.flow.prompt(self.fields, name, required=required, template=template,
                                urls=urls)

    def _say(self, common: dict) -> schema.Node | None:
        f = self.fields
        node = schema.SayNode(**common, say=self.prompt("say"), play=self.prompt("play", urls=True),
                              pause=f.integer("pause", default=0, low=0, high=10),
                              next=f.text("next"))
        if "say" not in f.values and "play" not in f.values:
            f.report(f.line, "a say node needs 'say' (text) or 'play' (a URL)", breaks=True)
        return node

    def _case(self, common: dict) -> schema.Node | None:
        f = self.fields
        return schema.CaseNode(**common, next=f.text("next", required="a case node"),
                               timeout=f.integer("timeout", default=4, low=2, high=15))

    def _caller_lookup(self, common: dict) -> schema.Node | None:
        return schema.CallerLookupNode(
            **common, greet=self.prompt("greet", template=schema.GREETING_FIELDS),
            repeat=self.prompt("repeat"), next=self.fields.text("next"),
        )

    def _menu(self, common: dict) -> schema.Node | None:
        f = self.fields
        prompt = self.prompt("prompt", required="a menu")
        options = self._options()
        settings = {
            "agent": f.text("agent"), "fallback": f.text("fallback"),
            "retries": f.integer("retries", default=2, low=0, high=5),
            "timeout": f.integer("timeout", default=5, low=1, high=30),
        }
        if prompt is None or options is None:
            return None
        return schema.MenuNode(**common, prompt=prompt, options=options, **settings)

    def _options(self) -> tuple[schema.MenuOption, ...] | None:
        f = self.fields
        items = f.sequence_of("options", required="a menu")
        if items is None:
            return None
        if not items.value:
            f.report(f.line_of("options"), "a menu needs at least one option", breaks=True)
            return None
        options = []
        for item in items.value:
            option = self._option(item)
            if option is not None:
                options.append(option)
        self._check_keys(options)
        return tuple(options)

    def _option(self, item: Node) -> schema.MenuOption | None:
        if not isinstance(item, MappingNode):
            self.fields.report(line_of(item), f"a menu option must be a mapping with key and "
                               f"next, not {describe(item)}", breaks=True)
            return None
        option = Fields(item, self.fields.report_to)
        option.check_known(OPTION_FIELDS, "a menu option")
        key = option.text("key", required="a menu option")
        target = option.text("next", required="a menu option")
        words = option.words("words") or ()
        values = self._variables(option)
        if option.broken or key is None or target is None:
            self.fields.broken = True
            return None
        line = option.line_of("key")
        if key == schema.AGENT_KEY:
            option.report(line, "key 0 is reserved: it always goes to a person", breaks=False)
        elif key not in schema.OPTION_KEYS:
            option.report(line, f"key '{key}' is not a phone key (use 1-9 or *)", breaks=False)
        return schema.MenuOption(key=key, next=target, words=words, set=values, line=option.line)

    def _variables(self, option: Fields) -> dict[str, str]:
        node = option.mapping_of("set")
        if node is None:
            return {}
        values = {}
        for key, value in node.value:
            if not NAME.match(str(key.value)):
                option.report(line_of(key), f"variable name '{key.value}' must be lower case "
                              "letters, digits and _", breaks=False)
            if not isinstance(value, ScalarNode) or value.tag == NULL_TAG:
                option.report(line_of(value), f"variable '{key.value}' must be set to text",
                              breaks=True)
                continue
            if key.value == "language" and value.value not in self.flow.languages:
                option.report(line_of(value), f"language '{value.value}' is not in the flow's "
                              f"languages ({', '.join(self.flow.languages)})", breaks=False)
            values[key.value] = value.value
        return values

    def _check_keys(self, options: list[schema.MenuOption]) -> None:
        keys: dict[str, int] = {}
        words: dict[str, str] = {}
        agent_words = set(self.flow.settings.all_agent_words())
        for option in options:
            if option.key in keys:
                self.fields.report(option.line, f"key {option.key} is used twice in this menu "
                                   f"(first on line {keys[option.key]})", breaks=False)
            keys.setdefault(option.key, option.line)
            for word in option.words:
                if word in agent_words:
                    self.fields.report(option.line, f"word '{word}' is reserved for asking "
                                       "for a person", breaks=False)
                elif word in words and words[word] != option.key:
                    self.fields.report(option.line, f"word '{word}' is used by options "
                                       f"{words[word]} and {option.key}", breaks=False)
                words.setdefault(word, option.key)

    def _hours(self, common: dict) -> schema.Node | None:
        f = self.fields
        return schema.HoursNode(**common, open=f.text("open", required="an hours node") or "",
                                closed=f.text("closed", required="an hours node") or "",
                                calendar=self._calendar())

    def _calendar(self) -> BusinessCalendar | None:
        node = self.fields.mapping_of("hours")
        if node is None:
            return None
        hours = Fields(node, self.fields.report_to)
        hours.check_known(HOURS_FIELDS, "inline hours")
        timezone = hours.text("timezone", required="inline hours")
        weekly = hours.text("weekly", required="inline hours")
        holidays = hours.text("holidays")
        closed = hours.sequence_of("closed")
        closed_texts = hours.texts_in(closed, "closed") if closed is not None else ()
        if hours.broken or timezone is None or weekly is None:
            self.fields.broken = True
            return None
        country, _, subdiv = (holidays or "").partition("-")
        try:
            return BusinessCalendar.from_spec(
                timezone=timezone, hours=weekly, holidays_country=country or None,
                holidays_subdiv=subdiv or None,
                closed=closed_texts or (),
            )
        except CalendarError as exc:
            self.fields.report(self.fields.line_of("hours"), f"hours: {exc}", breaks=True)
            return None

    def _queue(self, common: dict) -> schema.Node | None:
        f = self.fields
        return schema.QueueNode(**common, skills=self._skills(),
                                priority=f.integer("priority", default=1, low=0, high=10),
                                say=self.prompt("say"))

    def _skills(self) -> dict[str, int]:
        f = self.fields
        node = f.mapping_of("skills", required="a queue")
        if node is None:
            return {}
        if not node.value:
            f.report(f.line_of("skills"), "a queue needs at least one skill", breaks=True)
        skills = {}
        for key, value in node.value:
            name = str(key.value)
            if not NAME.match(name):
                f.report(line_of(key), f"skill '{name}' must be lower case letters, digits and _",
                         breaks=False)
            level = _int_value(value)
            if level is None or not 1 <= level <= 5:
                f.report(line_of(value), f"skill '{name}' level is {describe(value)}; "
                         "use a whole number 1 to 5", breaks=False)
                level = 1
            skills[name] = level
        return skills

    def _voicemail(self, common: dict) -> schema.Node | None:
        f = self.fields
        prompt = self.prompt("prompt", required="a voicemail")
        max_length = f.integer("max_length", default=120, low=5, high=600)
        following = f.text("next")
        if prompt is None:
            return None
        return schema.VoicemailNode(**common, prompt=prompt, max_length=max_length,
                                    next=following)

    def _transfer(self, common: dict) -> schema.Node | None:
        f = self.fields
        number = f.text("number", required="a transfer")
        if number is not None and not _valid_number(number):
            f.report(f.line_of("number"), f"'{number}' is not a valid phone number in E.164 "
                     "form (like +12025550143)", breaks=False)
        return schema.TransferNode(**common, number=number or "",
                                   timeout=f.integer("timeout", default=30, low=5, high=120),
                                   say=self.prompt("say"), fallback=f.text("fallback"))

    def _hangup(self, common: dict) -> schema.Node | None:
        return schema.HangupNode(**common, say=self.prompt("say"))


def _int_value(node: Node) -> int | None:
    if isinstance(node, ScalarNode) and re.fullmatch(r"\d+", node.value):
        return int(node.value)
    return None


def _valid_number(number: str) -> bool:
    if not E164.match(number):
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)
