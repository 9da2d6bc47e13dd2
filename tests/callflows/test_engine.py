"""The engine: pure steps from a flow, a call context, the caller's input and a fixed time."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from callflows import engine
from callflows.actions import INTERACTIVE
from callflows.engine import (
    Dial,
    Enqueue,
    FlowError,
    Gather,
    Hangup,
    PathEntry,
    Pause,
    Play,
    RecordVoicemail,
    Say,
)
from callflows.loader import parse_flow

FLOW = """
flow: engine
start: hello
languages: [en-US, es-US]
agent: people
settings:
  vip_priority: 2
  repeat_priority: 1
  agent_words_by_language: {es-US: [agente]}
nodes:
  hello:
    kind: say
    play: https://example.com/chime.mp3
    say: {en-US: "Hello.", es-US: "Hola."}
    pause: 1
    next: lookup
  lookup:
    kind: caller_lookup
    greet: {en-US: "Welcome back, {name}.", es-US: "Hola de nuevo, {name}."}
    repeat: {en-US: "You called earlier today.", es-US: "Nos llamó hoy."}
    next: menu
  menu:
    kind: menu
    prompt: {en-US: "Billing 1, technical 2, partner 3.", es-US: "Facturación 1, técnico 2."}
    options:
      - {key: "1", words: [billing, my bill], set: {topic: billing}, next: billing}
      - {key: "2", words: [technical, internet], next: check}
      - {key: "3", words: [partner], next: partner}
      - {key: "*", words: [español], set: {language: es-US}, next: menu}
    agent: people
    retries: 2
    timeout: 6
    fallback: fallback_queue
  check:
    kind: hours
    hours: {timezone: America/New_York, weekly: mon-fri 08:00-18:00}
    open: tech
    closed: message
  billing:
    kind: queue
    skills: {billing: 2}
    priority: 1
    say: {en-US: "Connecting you to billing.", es-US: "Le comunicamos con facturación."}
  tech:
    kind: queue
    skills: {technical: 1}
    priority: 2
  people:
    kind: queue
    skills: {general: 1}
  fallback_queue:
    kind: queue
    skills: {general: 1}
    priority: 0
  partner:
    kind: transfer
    number: "+12025550143"
    timeout: 20
    say: {en-US: "Transferring you.", es-US: "Le transferimos."}
  message:
    kind: voicemail
    prompt: {en-US: "We're closed. We open {opens}.", es-US: "Cerrado. Abrimos {opens}."}
    max_length: 90
    next: bye
  bye:
    kind: hangup
    say: {en-US: "Goodbye.", es-US: "Adiós."}
"""

# Wednesday 2026-03-04 11:00 in New York; the same day 19:00; Friday 2026-03-06 19:00.
OPEN = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
EVENING = datetime(2026, 3, 5, 0, 0, tzinfo=UTC)
FRIDAY_EVENING = datetime(2026, 3, 7, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def flow():
    return parse_flow(FLOW, filename="engine.yaml")


@pytest.fixture
def walk(flow, caller):
    """Shortcuts to the engine for this flow at an open moment, with no business calendar
    passed (the flow's hours node has its own)."""

    class Walk:
        def start(self, now=OPEN, **ctx):
            return engine.start(flow, caller(**ctx), now=now, calendar=None)

        def answer(self, digits=None, speech=None, attempt=1, now=OPEN, node="menu", **ctx):
            return engine.answer(flow, node, caller(**ctx), digits=digits, speech=speech,
                                 attempt=attempt, now=now, calendar=None)

        def silence(self, attempt=1, now=OPEN, node="menu", **ctx):
            return engine.no_input(flow, node, caller(**ctx), attempt=attempt, now=now,
                                   calendar=None)

    return Walk()


def said(step) -> list[str]:
    texts = []
    for action in step.actions:
        prompts = action.prompts if isinstance(action, Gather | RecordVoicemail) else [action]
        texts.extend(p.text for p in prompts if isinstance(p, Say))
    return texts


def last(step):
    return step.actions[-1]


# --- start and chaining -------------------------------------------------------------------------


def test_start_chains_nodes_that_do_not_wait_until_a_menu(walk):
    step = walk.start()
    assert [entry.node for entry in step.path] == ["hello", "lookup", "menu"]
    assert step.actions[:3] == [Play("https://example.com/chime.mp3"), Say("Hello.", "en-US"),
                                Pause(1)]
    assert isinstance(last(step), Gather)
    assert step.outcome is None


def test_a_menu_is_offered_as_a_gather_with_its_words_as_hints(walk):
    gather = last(walk.start())
    assert (gather.node, gather.attempt, gather.timeout, gather.num_digits) == ("menu", 1, 6, 1)
    assert gather.language == "en-US"
    assert gather.prompts == [Say("Billing 1, technical 2, partner 3.", "en-US")]
    assert {"billing", "my bill", "partner", "agent", "operator"} <= set(gather.hints)
    assert "agente" not in gather.hints  # Spanish agent words are hints in Spanish only


def test_every_step_ends_with_an_interactive_action(walk):
    steps = [walk.start(), walk.answer("1"), walk.answer("3"), walk.answer("2", now=EVENING),
             walk.answer("9"), walk.silence(attempt=3)]
    assert all(isinstance(last(step), INTERACTIVE) for step in steps)


# --- caller lookup ------------------------------------------------------------------------------


def test_a_known_caller_is_greeted_by_name(walk):
    step = walk.start(caller_name="Ann Lee")
    assert "Welcome back, Ann Lee." in said(step)
    assert step.path[1] == PathEntry(node="lookup", node_kind="caller_lookup", event="greeted")


def test_an_unknown_caller_hears_no_greeting(walk):
    step = walk.start()
    assert not any("Welcome" in text for text in said(step))
    assert step.path[1].event == "unknown caller"


def test_a_repeat_caller_hears_that_we_noticed(walk):
    step = walk.start(repeat_today=True, vip=True)
    assert "You called earlier today." in said(step)
    assert step.path[1].event == "unknown caller, VIP, repeat caller today"
    assert step.vars == {"vip": "yes", "repeat": "yes"}


def test_caller_lookup_sets_vip_and_repeat_variables_to_no(walk):
    assert walk.start().vars == {"vip": "no", "repeat": "no"}


# --- menu answers -------------------------------------------------------------------------------


def test_a_key_follows_its_option_and_sets_its_variables(walk):
    step = walk.answer("1", vars={"language": "en-US"})
    assert step.path[0] == PathEntry(node="menu", node_kind="menu", event="matched 1", input="1")
    assert step.vars == {"language": "en-US", "topic": "billing"}
    assert last(step) == Enqueue("billing", {"billing": 2}, 1, ["billing: 1"])
    assert said(step) == ["Connecting you to billing."]
    assert step.outcome == "queued"


def test_zero_goes_to_the_menus_agent_target(walk):
    step = walk.answer("0")
    assert step.path[0].event == "agent requested"
    assert last(step).node == "people"


@pytest.mark.parametrize("speech", ["agent", "Operator!", "I want a real person, please",
                                    "billing agent", "REPRESENTATIVE."])
def test_agent_words_go_to_a_person_and_win_over_option_words(walk, speech):
    step = walk.answer(speech=speech)
    assert last(step).node == "people"
    assert step.path[0].input == speech


def test_agent_words_of_any_language_are_understood(walk):
    assert last(walk.answer(speech="Agente, por favor")).node == "people"


@pytest.mark.parametrize(("speech", "queue"), [
    ("Billing, please!", "billing"),
    ("it's about MY BILL", "billing"),
    ("the internet is down", "tech"),
    ("two", "tech"),
    ("2.", "tech"),
    ("technical, no wait, billing", "tech"),
])
def test_speech_matches_option_words_ignoring_case_and_punctuation(walk, speech, queue):
    assert last(walk.answer(speech=speech)).node == queue


def test_speech_matches_words_with_or_without_accents(walk):
    step = walk.answer(speech="Espanol")
    assert step.vars["language"] == "es-US"
    assert last(step).prompts == [Say("Facturación 1, técnico 2.", "es-US")]


def test_a_wrong_key_apologises_and_offers_the_menu_again(walk):
    step = walk.answer("9")
    gather = last(step)
    assert gather.attempt == 2
    assert gather.prompts[0] == Say("Sorry, I didn't get that.", "en-US")
    assert step.path == [PathEntry(node="menu", node_kind="menu", event="no match, retry 2",
                                   input="9")]


def test_unmatched_speech_apologises_in_the_callers_language(walk):
    gather = last(walk.answer(speech="blah", vars={"language": "es-US"}))
    assert gather.prompts[0] == Say("Perdón, no le entendí.", "es-US")


def test_after_the_retries_a_wrong_key_goes_to_the_fallback(walk):
    assert isinstance(last(walk.answer("9", attempt=2)), Gather)
    step = walk.answer("9", attempt=3)
    assert step.path[0].event == "no match, fallback"
    assert last(step).node == "fallback_queue"


def test_silence_offers_the_menu_again_without_an_apology(walk):
    step = walk.silence(attempt=1)
    gather = last(step)
    assert gather.attempt == 2
    assert gather.prompts == [Say("Billing 1, technical 2, partner 3.", "en-US")]
    assert step.path[0].event == "no input, retry 2"


def test_silence_after_the_retries_reaches_a_queue(walk):
    step = walk.silence(attempt=3)
    assert step.path[0].event == "no input, fallback"
    assert isinstance(last(step), Enqueue)
    assert step.outcome == "queued"


def test_an_empty_answer_counts_as_silence(walk):
    assert walk.answer(digits="", speech="  ").path[0].event == "no input, retry 2"


def test_an_answer_to_an_unknown_node_is_a_flow_error(walk):
    with pytest.raises(FlowError, match="no node 'nope'"):
        walk.answer("1", node="nope")


def test_an_answer_to_a_node_that_is_not_a_menu_is_a_flow_error(walk):
    with pytest.raises(FlowError, match="'billing' is a queue, not a menu"):
        walk.answer("1", node="billing")
    with pytest.raises(FlowError):
        walk.silence(node="billing")


# --- queues and priority ------------------------------------------------------------------------


def test_a_vip_caller_gets_a_higher_priority_with_the_reason(walk):
    step = walk.answer("2", vip=True)
    assert last(step) == Enqueue("tech", {"technical": 1}, 4, ["tech: 2", "VIP caller: +2"])


def test_a_repeat_caller_gets_the_repeat_priority_with_the_reason(walk):
    enqueue = last(walk.answer("2", vip=True, repeat_today=True))
    assert enqueue.priority == 5
    assert enqueue.reasons == ["tech: 2", "VIP caller: +2", "repeat caller today: +1"]


# --- hours, voicemail and goodbye ---------------------------------------------------------------


def test_the_hours_node_branches_on_the_time(walk):
    assert walk.answer("2", now=OPEN).path[1] == PathEntry(node="check", node_kind="hours",
                                                           event="open")
    closed = walk.answer("2", now=EVENING)
    assert closed.path[1].event == "closed"
    assert isinstance(last(closed), RecordVoicemail)
    assert closed.outcome == "voicemail"


def test_after_hours_the_caller_hears_when_the_line_opens(walk):
    assert said(walk.answer("2", now=EVENING)) == ["We're closed. We open tomorrow at 8 AM."]
    assert said(walk.answer("2", now=FRIDAY_EVENING)) == ["We're closed. We open Monday at 8 AM."]
    spanish = walk.answer("2", now=EVENING, vars={"language": "es-US"})
    assert said(spanish) == ["Cerrado. Abrimos mañana a las 8:00."]


def test_an_hours_node_without_a_calendar_is_a_flow_error(caller):
    text = FLOW.replace(
        "    hours: {timezone: America/New_York, weekly: mon-fri 08:00-18:00}\n", ""
    )
    flow = parse_flow(text, filename="no-hours.yaml")
    with pytest.raises(FlowError, match="needs a business calendar"):
        engine.answer(flow, "menu", caller(), digits="2", now=OPEN, calendar=None)


def test_the_service_calendar_is_used_when_the_node_has_none(caller, calendar):
    text = FLOW.replace(
        "    hours: {timezone: America/New_York, weekly: mon-fri 08:00-18:00}\n", ""
    )
    flow = parse_flow(text, filename="no-hours.yaml")
    thanksgiving = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    step = engine.answer(flow, "menu", caller(), digits="2", now=thanksgiving, calendar=calendar)
    assert said(step) == ["We're closed. We open tomorrow at 8 AM."]


def test_voicemail_records_with_its_prompt_and_length(walk):
    record = last(walk.answer("2", now=EVENING))
    assert (record.node, record.max_length) == ("message", 90)


def test_after_a_voicemail_the_flow_says_goodbye_and_the_outcome_stays_voicemail(flow, caller):
    step = engine.after_voicemail(flow, "message", caller(), now=EVENING, calendar=None)
    assert step.actions == [Say("Goodbye.", "en-US"), Hangup()]
    assert step.path[0] == PathEntry(node="message", node_kind="voicemail", event="voicemail left")
    assert step.outcome == "voicemail"


def test_after_voicemail_on_another_kind_of_node_is_a_flow_error(flow, caller):
    with pytest.raises(FlowError, match="not a voicemail"):
        engine.after_voicemail(flow, "menu", caller(), now=EVENING, calendar=None)


def test_goodbye_speaks_the_flows_goodbye_and_hangs_up(flow, caller):
    step = engine.goodbye(flow, caller(vars={"language": "es-US"}))
    assert step.actions == [Say("Adiós.", "es-US"), Hangup()]
    assert step.outcome == "goodbye"


# --- transfers ----------------------------------------------------------------------------------


def test_a_transfer_dials_the_number(walk):
    step = walk.answer("3")
    assert step.actions == [Say("Transferring you.", "en-US"), Dial("partner", "+12025550143", 20)]
    assert step.outcome == "transferred"


def test_an_unanswered_transfer_goes_to_the_flows_way_to_a_person(flow, caller):
    step = engine.after_transfer_failed(flow, "partner", caller(), now=OPEN, calendar=None)
    assert step.path[0].event == "no answer, fallback"
    assert last(step).node == "people"
    with pytest.raises(FlowError, match="not a transfer"):
        engine.after_transfer_failed(flow, "menu", caller(), now=OPEN, calendar=None)


# --- resuming and reaching a person -------------------------------------------------------------


def test_resume_offers_the_last_menu_from_its_first_attempt(flow, caller):
    step = engine.resume(flow, "menu", caller(), now=OPEN, calendar=None)
    assert isinstance(last(step), Gather) and last(step).attempt == 1
    assert step.path == [PathEntry(node="menu", node_kind="menu", event="resumed")]


def test_resume_at_an_unknown_node_starts_over(flow, caller):
    step = engine.resume(flow, None, caller(), now=OPEN, calendar=None)
    assert step.path[0].node == "hello"
    assert engine.resume(flow, "gone", caller(), now=OPEN, calendar=None).path[0].node == "hello"


def test_to_person_goes_to_the_flows_agent_target(flow, caller):
    assert last(engine.to_person(flow, caller(), now=OPEN, calendar=None)).node == "people"


# --- languages ----------------------------------------------------------------------------------


def test_prompts_follow_the_callers_language(walk):
    step = walk.start(vars={"language": "es-US"}, caller_name="Ana")
    assert said(step)[:2] == ["Hola.", "Hola de nuevo, Ana."]
    assert last(step).language == "es-US"
    assert "agente" in last(step).hints


def test_an_unknown_language_falls_back_to_the_default(walk):
    step = walk.start(vars={"language": "fr-FR"})
    assert said(step)[0] == "Hello."
    assert last(step).language == "en-US"


def test_a_goodbye_without_the_time_speaks_of_business_hours_instead(caller):
    flow = parse_flow(
        "flow: bye\nstart: bye\nnodes:\n  bye:\n    kind: hangup\n"
        "    say: We are back {opens}. Goodbye.\n",
        filename="bye.yaml",
    )
    step = engine.goodbye(flow, caller())
    assert step.actions == [Say("We are back during business hours. Goodbye.", "en-US"), Hangup()]
