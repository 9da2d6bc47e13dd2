"""The linter: one small broken flow per flaw, each problem naming file, line and node."""

from __future__ import annotations

import pytest

from callflows.linter import check_flow
from callflows.problems import Problem

BASE = """
flow: test
start: menu
nodes:
  menu:
    kind: menu
    prompt: "For billing, press 1."
    options:
      - {key: "1", words: [billing], next: billing}
    agent: people
  billing:
    kind: queue
    skills: {billing: 1}
  people:
    kind: queue
    skills: {general: 1}
"""


def problem_with(problems: list[Problem], fragment: str) -> Problem:
    matching = [p for p in problems if fragment in p.message]
    assert matching, f"no problem mentions {fragment!r}: {[str(p) for p in problems]}"
    return matching[0]


@pytest.fixture
def assert_problem(write_flow, line_of):
    """Lint `text` and return the problem mentioning `fragment`, after checking it names the
    file, the node and the line holding `marker`."""

    def check(text: str, fragment: str, *, node: str | None, marker: str,
              occurrence: int = 1) -> Problem:
        path = write_flow(text)
        problem = problem_with(check_flow(path), fragment)
        assert problem.file == str(path)
        assert problem.node == node
        assert problem.line == line_of(text, marker, occurrence)
        return problem

    return check


def test_a_sound_flow_has_no_problem(write_flow):
    assert check_flow(write_flow(BASE)) == []


def test_the_default_support_flow_has_no_problem(support_path):
    assert check_flow(support_path) == []


def test_problems_print_as_file_line_node_message(write_flow):
    problem = Problem("callflows/support.yaml", 42, "tech_menu",
                      "menu offers 6 options (at most 5)")
    assert str(problem) == (
        "callflows/support.yaml:42: node 'tech_menu': menu offers 6 options (at most 5)"
    )
    assert str(Problem("f.yaml", 3, None, "unknown field 'x'")) == "f.yaml:3: unknown field 'x'"


# --- reading ----------------------------------------------------------------------------------


def test_a_yaml_syntax_error_names_its_line(write_flow, line_of):
    text = BASE.replace("    skills: {general: 1}", "    skills: {general: 1\n    bad: [")
    path = write_flow(text)
    (problem,) = check_flow(path)
    assert problem.message.startswith("YAML syntax error")
    assert problem.line is not None and problem.line >= line_of(text, "skills: {general: 1")
    assert str(problem).startswith(f"{path}:{problem.line}: YAML syntax error")


def test_a_file_that_cannot_be_read_is_a_problem_not_a_crash(tmp_path):
    (problem,) = check_flow(tmp_path / "missing.yaml")
    assert "cannot read" in problem.message


def test_an_unknown_node_kind_is_named(assert_problem):
    text = BASE + "  extra:\n    kind: survey\n"
    problem = assert_problem(text, "unknown kind 'survey'", node="extra",
                             marker="kind: survey")
    assert "queue" in problem.message


def test_an_unknown_field_is_named(assert_problem):
    text = BASE.replace("    skills: {billing: 1}", "    skills: {billing: 1}\n    upsell: yes")
    assert_problem(text, "unknown field 'upsell'", node="billing", marker="upsell")


def test_an_unknown_top_level_field_is_named_without_a_node(assert_problem):
    text = BASE.replace("flow: test", "flow: test\nstrat: menu")
    assert_problem(text, "unknown field 'strat'", node=None, marker="strat")


def test_a_missing_required_field_is_named(assert_problem):
    text = BASE.replace("    skills: {billing: 1}\n", "")
    assert_problem(text, "a queue needs 'skills'", node="billing", marker="  billing:")


def test_a_menu_without_a_prompt_is_named(assert_problem):
    text = BASE.replace('    prompt: "For billing, press 1."\n', "")
    assert_problem(text, "a menu needs 'prompt'", node="menu", marker="  menu:")


def test_a_field_of_the_wrong_type_is_named(assert_problem):
    text = BASE.replace("    agent: people", "    agent: people\n    timeout: soon")
    assert_problem(text, "'timeout' must be a whole number, not 'soon'", node="menu",
                   marker="timeout")


def test_a_number_out_of_range_is_named(assert_problem):
    text = BASE.replace("    agent: people", "    agent: people\n    retries: 9")
    assert_problem(text, "'retries' is 9; use 0 to 5", node="menu", marker="retries")


def test_options_that_are_not_a_list_are_named(assert_problem):
    text = BASE.replace('      - {key: "1", words: [billing], next: billing}',
                        "      key: 1")
    assert_problem(text, "'options' must be a list", node="menu", marker="options")


def test_a_node_written_twice_is_named(assert_problem):
    text = BASE + "  people:\n    kind: queue\n    skills: {general: 2}\n"
    assert_problem(text, "written twice", node="people", marker="  people:",
                   occurrence=2)


def test_a_field_written_twice_is_named(assert_problem):
    text = BASE.replace("    agent: people", "    agent: people\n    agent: billing")
    assert_problem(text, "'agent' is written twice", node="menu",
                   marker="agent: billing")


# --- links ------------------------------------------------------------------------------------


def test_a_reference_to_a_missing_node_is_named_with_a_suggestion(assert_problem):
    text = BASE.replace("next: billing}", "next: biling}")
    problem = assert_problem(text, "'option 1' goes to 'biling', which is not a node",
                             node="menu", marker="next: biling")
    assert "did you mean 'billing'" in problem.message


def test_a_missing_start_node_is_named(assert_problem):
    text = BASE.replace("start: menu", "start: welcome")
    assert_problem(text, "'start' goes to 'welcome'", node=None, marker="start:")


def test_an_unreachable_node_is_named(assert_problem):
    text = BASE + "  orphan:\n    kind: queue\n    skills: {general: 1}\n"
    assert_problem(text, "unreachable from start 'menu'", node="orphan",
                   marker="orphan:")


def test_a_say_without_next_is_a_dead_end(assert_problem):
    text = BASE.replace("start: menu", "start: hello") + (
        "  hello:\n    kind: say\n    say: Hello.\n"
    )
    assert_problem(text, "dead end", node="hello", marker="hello:")


def test_a_hangup_without_words_is_a_dead_end(assert_problem):
    text = BASE.replace("next: billing}", "next: bye}") + "  bye:\n    kind: hangup\n"
    problem = assert_problem(text, "dead end", node="bye", marker="bye:")
    assert "without a word" in problem.message


def test_a_hangup_with_a_goodbye_is_a_good_end(write_flow):
    text = BASE.replace("next: billing}", "next: bye}") + (
        "  bye:\n    kind: hangup\n    say: Thanks for calling. Goodbye.\n"
    )
    assert [p.message for p in check_flow(write_flow(text))] == [
        "unreachable from start 'menu'"
    ]  # only billing, which nothing uses any more


def test_a_loop_with_no_way_out_is_named(assert_problem):
    text = BASE.replace("next: billing}", "next: message}") + (
        "  message:\n    kind: voicemail\n    prompt: Leave a message.\n    next: again\n"
        "  again:\n    kind: say\n    say: One more time.\n    next: message\n"
    )
    assert_problem(text, "no way out", node="message", marker="message:")


def test_a_loop_that_never_waits_for_the_caller_is_named(assert_problem):
    text = BASE.replace("start: menu", "start: one") + (
        "  one:\n    kind: say\n    say: One.\n    next: check\n"
        "  check:\n    kind: hours\n    open: one\n    closed: menu\n"
    )
    problem = assert_problem(text, "loops without waiting", node="one",
                             marker="one:")
    assert "one → check → one" in problem.message


def test_a_menu_without_an_agent_target_has_no_way_to_a_person(assert_problem):
    text = BASE.replace("    agent: people\n", "")
    assert_problem(text, "menu has no way to a person", node="menu",
                   marker="  menu:")


def test_a_flow_level_agent_that_is_not_a_person_is_named_once(write_flow):
    text = BASE.replace("    agent: people\n", "").replace(
        "start: menu", "start: menu\nagent: message"
    ) + "  message:\n    kind: voicemail\n    prompt: Leave a message.\n"
    problems = [p for p in check_flow(write_flow(text)) if "does not lead" in p.message]
    assert [(p.line, p.node) for p in problems] == [(3, None)]


def test_a_flow_level_agent_serves_every_menu(write_flow):
    text = BASE.replace("    agent: people\n", "")
    text = text.replace("start: menu", "start: menu\nagent: people")
    assert check_flow(write_flow(text)) == []


def test_an_agent_target_that_is_not_a_person_is_named(assert_problem):
    text = BASE.replace("    agent: people", "    agent: message") + (
        "  message:\n    kind: voicemail\n    prompt: Leave a message.\n"
    )
    assert_problem(text, "does not lead straight to a person", node="menu",
                   marker="agent: message")


def test_key_0_is_reserved_for_a_person(assert_problem):
    text = BASE.replace('key: "1"', 'key: "0"')
    assert_problem(text, "key 0 is reserved", node="menu", marker='key: "0"')


def test_a_key_used_twice_is_named(assert_problem):
    text = BASE.replace(
        '      - {key: "1", words: [billing], next: billing}',
        '      - {key: "1", words: [billing], next: billing}\n'
        '      - {key: "1", words: [general], next: people}',
    )
    assert_problem(text, "key 1 is used twice", node="menu", marker="[general]")


def test_an_agent_word_cannot_choose_an_option(assert_problem):
    text = BASE.replace("words: [billing]", "words: [billing, agent]")
    assert_problem(text, "word 'agent' is reserved", node="menu", marker="agent]")


def test_a_menu_with_too_many_options_is_named(assert_problem):
    options = "".join(f'      - {{key: "{k}", next: billing}}\n' for k in range(1, 7))
    text = BASE.replace('      - {key: "1", words: [billing], next: billing}\n', options)
    assert_problem(text, "menu offers 6 options (at most 5)", node="menu",
                   marker="options:")


def test_the_option_limit_can_be_overridden(write_flow):
    two = BASE.replace(
        '      - {key: "1", words: [billing], next: billing}',
        '      - {key: "1", words: [billing], next: billing}\n      - {key: "2", next: people}',
    )
    assert check_flow(write_flow(two)) == []
    (problem,) = check_flow(write_flow(two), max_menu_options=1)
    assert problem.message == "menu offers 2 options (at most 1)"


DEEP = """
flow: deep
start: m1
agent: people
nodes:
  m1:
    kind: menu
    prompt: One.
    options: [{key: "1", next: m2}]
  m2:
    kind: menu
    prompt: Two.
    options: [{key: "1", next: m3}]
  m3:
    kind: menu
    prompt: Three.
    options: [{key: "1", next: m4}]
  m4:
    kind: menu
    prompt: Four.
    options: [{key: "1", next: people}, {key: "2", next: m1}]
  people:
    kind: queue
    skills: {general: 1}
"""


def test_menus_nested_deeper_than_the_limit_are_named(assert_problem):
    problem = assert_problem(DEEP, "menu nested 4 deep (at most 3)", node="m4",
                             marker="  m4:")
    assert "m1 → m2 → m3 → m4" in problem.message


def test_the_depth_limit_comes_from_the_flow_settings_or_the_arguments(write_flow):
    relaxed = DEEP.replace("agent: people", "agent: people\nsettings: {max_menu_depth: 4}")
    assert check_flow(write_flow(relaxed)) == []
    (problem,) = check_flow(write_flow(relaxed), max_menu_depth=2)
    assert problem.node == "m3"


def test_an_invalid_skill_level_is_named(assert_problem):
    text = BASE.replace("skills: {billing: 1}", "skills: {billing: 7}")
    assert_problem(text, "skill 'billing' level is '7'; use a whole number 1 to 5",
                   node="billing", marker="billing: 7")


def test_a_prompt_missing_a_declared_language_is_named(assert_problem):
    text = BASE.replace("start: menu", "start: menu\nlanguages: [en-US, es-US]").replace(
        'prompt: "For billing, press 1."', 'prompt: {en-US: "For billing, press 1."}'
    )
    assert_problem(text, "'prompt' has no es-US text", node="menu", marker="prompt:")


def test_a_prompt_in_an_undeclared_language_is_named(assert_problem):
    text = BASE.replace('prompt: "For billing, press 1."',
                        'prompt: {en-US: "For billing, press 1.", fr-FR: "Pour la facture, 1."}')
    assert_problem(text, "'prompt' has text for 'fr-FR'", node="menu",
                   marker="prompt:")


def test_a_one_language_part_of_a_prompt_list_is_spoken_as_is(write_flow):
    text = BASE.replace("start: menu", "start: menu\nlanguages: [en-US, es-US]").replace(
        'prompt: "For billing, press 1."',
        'prompt: [{en-US: "For billing, press 1."}, {es-US: "Facturación, oprima 1."}]',
    )
    assert check_flow(write_flow(text)) == []


def test_an_unknown_template_in_a_prompt_is_named(assert_problem):
    text = BASE.replace('"For billing, press 1."', '"Hi {name}, for billing press 1."')
    assert_problem(text, "uses {name}; it may use {opens}", node="menu",
                   marker="prompt:")


def test_an_invalid_transfer_number_is_named(assert_problem):
    text = BASE.replace("next: billing}", "next: partner}") + (
        '  partner:\n    kind: transfer\n    number: "555-1234"\n'
    )
    assert_problem(text, "'555-1234' is not a valid phone number in E.164",
                   node="partner", marker="number:")


def test_a_number_that_looks_e164_but_does_not_exist_is_named(assert_problem):
    text = BASE.replace("next: billing}", "next: partner}") + (
        '  partner:\n    kind: transfer\n    number: "+15551234567"\n'
    )
    assert_problem(text, "not a valid phone number", node="partner",
                   marker="number:")


def test_a_valid_transfer_is_a_way_to_a_person(write_flow):
    text = BASE.replace("next: billing}", "next: partner}").replace(
        "  billing:\n    kind: queue\n    skills: {billing: 1}\n", ""
    ) + "  partner:\n    kind: transfer\n    number: +12025550143\n    fallback: people\n"
    assert check_flow(write_flow(text)) == []


def test_a_transfer_fallback_must_reach_a_person(assert_problem):
    text = BASE.replace("next: billing}", "next: partner}") + (
        "  partner:\n    kind: transfer\n    number: '+12025550143'\n    fallback: bye\n"
        "  bye:\n    kind: hangup\n    say: Goodbye.\n"
    )
    assert_problem(text, "'fallback' goes to 'bye', which does not lead straight",
                   node="partner", marker="fallback: bye")


def test_inline_hours_that_do_not_parse_are_named(assert_problem):
    text = BASE.replace("start: menu", "start: check") + (
        "  check:\n    kind: hours\n"
        "    hours: {timezone: America/New_York, weekly: mon-fry 09:00-17:00}\n"
        "    open: menu\n    closed: people\n"
    )
    assert_problem(text, "unknown day 'fry'", node="check", marker="hours: {")


@pytest.mark.parametrize("flaw", ["key: 1", "key: '1'"])
def test_keys_may_be_written_as_numbers_or_text(write_flow, flaw):
    text = BASE.replace('key: "1"', flaw)
    assert check_flow(write_flow(text)) == []


def test_every_flaw_is_reported_in_one_pass(write_flow):
    text = BASE.replace("skills: {billing: 1}", "skills: {billing: 9}").replace(
        'key: "1"', 'key: "0"'
    ).replace("    agent: people", "    agent: people\n    colour: blue")
    messages = [p.message for p in check_flow(write_flow(text))]
    assert len(messages) == 3
    assert [p.line for p in check_flow(write_flow(text))] == sorted(
        p.line for p in check_flow(write_flow(text))
    )
