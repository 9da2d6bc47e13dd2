"""The loader: flows come out of YAML with their source lines, and only when they are sound."""

from __future__ import annotations

import re

import pytest

from callflows.loader import FlowInvalid, load_flow, parse_flow
from callflows.schema import (
    CallerLookupNode,
    HangupNode,
    HoursNode,
    MenuNode,
    QueueNode,
    SayNode,
    TransferNode,
    VoicemailNode,
)

FLOW = """
flow: sample
start: hello
languages: [en-US, es-US]
settings:
  vip_priority: 3
  agent_words_by_language: {es-US: [agente]}
nodes:
  hello:
    kind: say
    say:
      - {en-US: "This call may be recorded."}
      - {es-US: "Esta llamada puede ser grabada."}
    play: https://example.com/chime.mp3
    pause: 1
    next: lookup
  lookup:
    kind: caller_lookup
    greet: {en-US: "Welcome back, {name}.", es-US: "Hola, {name}."}
    next: check
  check:
    kind: hours
    hours:
      timezone: America/New_York
      weekly: mon-fri 09:00-17:00
      holidays: US
      closed: ["2026-12-24"]
    open: menu
    closed: message
  menu:
    kind: menu
    prompt: {en-US: "Press 1 for sales.", es-US: "Oprima 1."}
    options:
      - key: 1
        words: [Partner, socio]
        set: {topic: partner}
        next: partner
    agent: people
    retries: 1
    timeout: 7
  partner:
    kind: transfer
    number: +12025550143
    timeout: 20
    fallback: people
  people:
    kind: queue
    skills: {general: 2, billing: 1}
    priority: 3
  message:
    kind: voicemail
    prompt: {en-US: "We open {opens}.", es-US: "Abrimos {opens}."}
    max_length: 60
    next: bye
  bye:
    kind: hangup
    say: {en-US: "Goodbye.", es-US: "Adiós."}
"""


@pytest.fixture
def flow(write_flow):
    return load_flow(write_flow(FLOW))


def test_load_flow_builds_every_node_kind(flow):
    kinds = {node_id: type(node) for node_id, node in flow.nodes.items()}
    assert kinds == {
        "hello": SayNode, "lookup": CallerLookupNode, "check": HoursNode, "menu": MenuNode,
        "partner": TransferNode, "people": QueueNode, "message": VoicemailNode,
        "bye": HangupNode,
    }
    assert (flow.name, flow.start, flow.languages) == ("sample", "hello", ("en-US", "es-US"))
    assert flow.default_language == "en-US"


def test_nodes_and_fields_keep_their_source_lines(flow, line_of):
    assert flow.nodes["menu"].line == line_of(FLOW, "  menu:")
    assert flow.nodes["menu"].line_of("timeout") == line_of(FLOW, "timeout: 7")
    assert flow.nodes["menu"].options[0].line == line_of(FLOW, "- key: 1")
    assert flow.lines["start"] == line_of(FLOW, "start: hello")


def test_fields_are_read_with_their_types(flow):
    menu = flow.nodes["menu"]
    assert (menu.retries, menu.timeout, menu.agent, menu.fallback) == (1, 7, "people", None)
    option = menu.options[0]
    assert (option.key, option.words, dict(option.set)) == ("1", ("partner", "socio"),
                                                            {"topic": "partner"})
    assert flow.nodes["partner"].number == "+12025550143"  # unquoted: still the text written
    assert dict(flow.nodes["people"].skills) == {"general": 2, "billing": 1}
    assert flow.nodes["hello"].pause == 1
    assert flow.settings.vip_priority == 3
    assert flow.settings.max_menu_options == 5  # a default
    assert flow.settings.agent_words_by_language == {"es-US": ("agente",)}


def test_prompts_keep_each_language_and_fixed_language_parts(flow):
    say = flow.nodes["hello"].say
    assert [(p.fixed, dict(p.texts)) for p in say.parts] == [
        (True, {"en-US": "This call may be recorded."}),
        (True, {"es-US": "Esta llamada puede ser grabada."}),
    ]
    greet = flow.nodes["lookup"].greet.parts[0]
    assert greet.resolve("es-US", "en-US") == ("Hola, {name}.", "es-US")
    assert greet.resolve("fr-FR", "en-US") == ("Welcome back, {name}.", "en-US")


def test_inline_hours_become_a_business_calendar(flow):
    calendar = flow.nodes["check"].calendar
    assert calendar.timezone == "America/New_York"
    assert calendar.holidays_country == "US"
    assert len(calendar.closed_days) == 1


def test_parse_flow_names_the_file_it_was_given():
    with pytest.raises(FlowInvalid) as raised:
        parse_flow("flow: x\nstart: a\nnodes: {a: {kind: say, say: Hi}}\n",
                   filename="callflows/x.yaml")
    assert str(raised.value.problems[0]).startswith("callflows/x.yaml:3: node 'a': dead end")


def test_a_flow_with_any_problem_is_never_loaded(write_flow):
    text = FLOW.replace("skills: {general: 2, billing: 1}", "skills: {general: 6}")
    with pytest.raises(FlowInvalid) as raised:
        load_flow(write_flow(text))
    (problem,) = raised.value.problems
    assert "level is '6'" in problem.message
    assert str(problem) in str(raised.value)


def test_a_yaml_syntax_error_is_a_flow_invalid_with_its_line(write_flow):
    with pytest.raises(FlowInvalid) as raised:
        load_flow(write_flow("flow: x\nstart: a\nnodes:\n  a: [unclosed\n"))
    (problem,) = raised.value.problems
    assert problem.message.startswith("YAML syntax error")
    assert problem.line is not None


def test_a_file_that_is_not_a_mapping_is_refused(write_flow):
    with pytest.raises(FlowInvalid, match="must be a mapping"):
        load_flow(write_flow("- just\n- a list\n"))


def test_an_empty_file_is_refused(write_flow):
    with pytest.raises(FlowInvalid, match="must be a mapping"):
        load_flow(write_flow(""))


def test_a_missing_file_raises_os_error(tmp_path):
    with pytest.raises(OSError):
        load_flow(tmp_path / "nowhere.yaml")


def test_the_default_support_flow_loads(support):
    assert support.name == "support"
    assert support.languages == ("en-US", "es-US")


def test_the_example_in_the_readme_is_a_sound_flow(support_path):
    readme = (support_path.parent / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    flow = parse_flow(example, filename="callflows/README.md")
    assert flow.name == "support"
