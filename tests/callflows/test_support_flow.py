"""The default support flow, walked through the engine: it is a router, every caller gets to a
person (or, after hours, to a voicemail and a goodbye), in English or Spanish."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from callflows import engine
from callflows.engine import Enqueue, Gather, Hangup, RecordVoicemail, Say, Step
from callflows.linter import check_flow
from callflows.schema import MenuNode

ENDS = {"queued": Enqueue, "voicemail": RecordVoicemail, "goodbye": Hangup}


@pytest.fixture
def call(support, caller, calendar, open_now):
    """Drive the support flow like the web layer would, carrying the variables along."""

    class Call:
        def __init__(self, now=open_now, **ctx):
            self.now = now
            self.ctx = ctx
            self.vars: dict[str, str] = dict(ctx.pop("vars", {}))

        def context(self):
            return caller(vars=dict(self.vars), **self.ctx)

        def keep(self, step: Step) -> Step:
            self.vars = dict(step.vars)
            if step.actions and isinstance(step.actions[-1], engine.CaseCheck):
                # The web layer asks about cases; a caller with none stays silent.
                check = step.actions[-1]
                more = engine.after_case_check(support, check.node, self.context(),
                                               now=self.now, calendar=calendar)
                step = Step(step.actions[:-1] + more.actions, step.path + more.path,
                            more.vars, more.outcome)
                self.vars = dict(step.vars)
            return step

        def start(self) -> Step:
            return self.keep(engine.start(support, self.context(), now=self.now,
                                          calendar=calendar))

        def answer(self, step: Step, digits=None, speech=None) -> Step:
            gather = step.actions[-1]
            assert isinstance(gather, Gather), f"not at a menu: {step.actions[-1]}"
            return self.keep(engine.answer(support, gather.node, self.context(), digits=digits,
                                           speech=speech, attempt=gather.attempt, now=self.now,
                                           calendar=calendar))

        def silence(self, step: Step) -> Step:
            gather = step.actions[-1]
            return self.keep(engine.no_input(support, gather.node, self.context(),
                                             attempt=gather.attempt, now=self.now,
                                             calendar=calendar))

        def to_menu(self, menu: str, language: str = "1") -> Step:
            step = self.start()
            if menu == "language":
                return step
            step = self.answer(step, language)
            if menu == "main_menu":
                return step
            return self.answer(step, "2")

    return Call


def said(step: Step) -> list[Say]:
    found = []
    for action in step.actions:
        prompts = action.prompts if isinstance(action, Gather | RecordVoicemail) else [action]
        found.extend(p for p in prompts if isinstance(p, Say))
    return found


def menu_ids(support) -> list[str]:
    return [n for n, node in support.nodes.items() if isinstance(node, MenuNode)]


def test_the_support_flow_passes_the_linter(support_path):
    assert check_flow(support_path) == []


def test_the_support_flow_has_the_three_menus_of_a_short_tree(support):
    assert menu_ids(support) == ["language", "main_menu", "tech_menu"]
    assert all(len(support.nodes[m].options) <= 3 for m in menu_ids(support))


def test_the_call_opens_with_the_recording_notice_in_both_languages(call):
    first, second = said(call().start())[:2]
    assert "recorded" in first.text and first.language == "en-US"
    assert "grabada" in second.text and second.language == "es-US"


# --- every path ends well -----------------------------------------------------------------------


def explore(support, caller, calendar, now, step: Step, depth: int = 0) -> Iterator[Step]:
    """Every step that ends the IVR part, trying at each menu every key, 0, "agent", a wrong
    key and silence."""
    assert depth < 25, "a path that never ends"
    if step.outcome is not None:
        yield step
        return
    gather = step.actions[-1]
    ctx = caller(vars=dict(step.vars))
    if isinstance(gather, engine.CaseCheck):
        # No case to talk about: the flow carries on (a case goes to its owner instead).
        following = engine.after_case_check(support, gather.node, ctx, now=now,
                                            calendar=calendar)
        yield from explore(support, caller, calendar, now, following, depth + 1)
        return
    assert isinstance(gather, Gather)
    keys = [o.key for o in support.nodes[gather.node].options]
    for digits, speech in [(k, None) for k in [*keys, "0", "9"]] + [(None, "agent")]:
        following = engine.answer(support, gather.node, ctx, digits=digits, speech=speech,
                                  attempt=gather.attempt, now=now, calendar=calendar)
        yield from explore(support, caller, calendar, now, following, depth + 1)
    following = engine.no_input(support, gather.node, ctx, attempt=gather.attempt, now=now,
                                calendar=calendar)
    yield from explore(support, caller, calendar, now, following, depth + 1)


@pytest.mark.parametrize("moment", ["open_now", "closed_now"])
def test_every_path_from_the_start_reaches_a_person_a_voicemail_or_a_goodbye(
    support, caller, calendar, request, moment
):
    now = request.getfixturevalue(moment)
    first = engine.start(support, caller(), now=now, calendar=calendar)
    endings = list(explore(support, caller, calendar, now, first))
    for step in endings:
        assert isinstance(step.actions[-1], ENDS[step.outcome]), step.path
    outcomes = {step.outcome for step in endings}
    assert outcomes == ({"queued"} if moment == "open_now" else {"voicemail"})
    languages = {say.language for step in endings for say in said(step)}
    assert languages == {"en-US", "es-US"}


def test_after_a_voicemail_the_caller_hears_a_goodbye_in_both_languages(
    support, caller, calendar, closed_now
):
    step = engine.after_voicemail(support, "after_hours", caller(), now=closed_now,
                                  calendar=calendar)
    assert isinstance(step.actions[-1], Hangup)
    assert [(s.language, "Goodbye" in s.text or "Adiós" in s.text) for s in said(step)] == [
        ("en-US", True), ("es-US", True),
    ]
    assert step.outcome == "voicemail"


# --- a person at every menu ---------------------------------------------------------------------


@pytest.mark.parametrize("menu", ["language", "main_menu", "tech_menu"])
@pytest.mark.parametrize(("digits", "speech"), [("0", None), (None, "agent"),
                                                (None, "Can I talk to a person?")])
def test_zero_or_asking_for_a_person_at_every_menu_reaches_a_queue(call, menu, digits, speech):
    caller = call()
    step = caller.answer(caller.to_menu(menu), digits=digits, speech=speech)
    assert isinstance(step.actions[-1], Enqueue)
    assert step.path[0].event == "agent requested"


def test_spanish_callers_can_ask_for_an_agente(call):
    caller = call()
    step = caller.answer(caller.to_menu("main_menu", language="2"), speech="Un agente, por favor")
    assert step.actions[-1].node == "general_queue"


@pytest.mark.parametrize("menu", ["language", "main_menu", "tech_menu"])
def test_silence_at_every_menu_reaches_a_queue_after_the_retries(support, call, menu):
    caller = call()
    step = caller.to_menu(menu)
    for attempt in range(2, support.nodes[menu].retries + 2):
        step = caller.silence(step)
        assert step.actions[-1].attempt == attempt
    step = caller.silence(step)
    assert isinstance(step.actions[-1], Enqueue)
    assert step.path[0].event == "no input, fallback"


def test_a_wrong_key_is_met_with_an_apology_and_the_menu_again(call):
    caller = call()
    step = caller.answer(caller.to_menu("main_menu"), "7")
    gather = step.actions[-1]
    assert (gather.node, gather.attempt) == ("main_menu", 2)
    assert gather.prompts[0].text.startswith("Sorry")


# --- languages ----------------------------------------------------------------------------------


def test_pressing_2_switches_every_later_prompt_to_spanish(call):
    caller = call()
    step = caller.answer(caller.start(), "2")
    gather = step.actions[-1]
    assert (gather.node, gather.language) == ("main_menu", "es-US")
    assert gather.prompts[0].language == "es-US"
    assert "oprima 1" in gather.prompts[0].text
    queued = caller.answer(step, "1")
    assert said(queued) == [Say("Le comunicamos con facturación.", "es-US")]


def test_saying_espanol_at_the_language_menu_chooses_spanish(call):
    caller = call()
    step = caller.answer(caller.start(), speech="Español")
    assert step.vars["language"] == "es-US"


# --- hours --------------------------------------------------------------------------------------


def test_during_hours_the_caller_is_offered_the_menus(call):
    step = call().start()
    assert step.actions[-1].node == "language"
    assert [(e.node, e.event) for e in step.path[:2]] == [("notice", "said"),
                                                           ("open_check", "open")]


def test_after_hours_the_caller_hears_when_we_open_and_can_leave_a_voicemail(call, closed_now):
    step = call(now=closed_now).start()
    assert isinstance(step.actions[-1], RecordVoicemail)
    assert step.outcome == "voicemail"
    english, spanish = said(step)[-2:]
    assert "We open again tomorrow at 8 AM." in english.text and english.language == "en-US"
    assert "Volvemos a abrir mañana a las 8:00." in spanish.text and spanish.language == "es-US"


def test_after_hours_there_is_no_menu_and_no_promise_of_a_quick_answer(call, closed_now):
    step = call(now=closed_now, caller_name="Dana", repeat_today=True).start()
    assert not any(isinstance(a, Gather) for a in step.actions)
    assert not any("quickly" in s.text for s in said(step))


def test_on_a_holiday_the_line_is_closed_until_the_next_business_day(call):
    thanksgiving = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    step = call(now=thanksgiving).start()
    assert step.outcome == "voicemail"
    assert "We open again tomorrow at 8 AM." in said(step)[-2].text


# --- queues, priority and the caller --------------------------------------------------------------


@pytest.mark.parametrize(("keys", "skills", "priority"), [
    (["1"], {"billing": 1}, 1),
    (["2", "1"], {"technical": 1}, 1),
    (["2", "2"], {"technical": 1}, 1),
    (["3"], {"outage": 1}, 5),
])
def test_each_main_menu_choice_queues_for_its_skill(call, keys, skills, priority):
    caller = call()
    step = caller.to_menu("main_menu")
    for key in keys:
        step = caller.answer(step, key)
    enqueue = step.actions[-1]
    assert (enqueue.skills, enqueue.priority) == (skills, priority)


def test_the_technical_sub_menu_records_the_topic_for_the_agent(call):
    caller = call()
    step = caller.answer(caller.answer(caller.to_menu("main_menu"), "2"), speech="my wifi")
    assert step.vars["topic"] == "internet"


def test_outage_callers_are_more_urgent_than_billing_callers(call):
    billing, outage = call(), call()
    billing_step = billing.answer(billing.to_menu("main_menu"), speech="a question about my bill")
    outage_step = outage.answer(outage.to_menu("main_menu"), speech="there's an outage")
    assert outage_step.actions[-1].priority > billing_step.actions[-1].priority


def test_a_vip_caller_is_queued_higher_with_the_reason(call):
    caller = call(vip=True)
    enqueue = caller.answer(caller.to_menu("main_menu"), "3").actions[-1]
    assert enqueue.priority == 7
    assert enqueue.reasons == ["outage_queue: 5", "VIP caller: +2"]


def test_a_repeat_caller_is_greeted_as_such_and_queued_sooner(call):
    caller = call(caller_name="Dana Reyes", repeat_today=True)
    texts = [s.text for s in said(caller.start())]
    assert "Welcome back, Dana Reyes." in texts
    assert "I see you called earlier today. We'll get you to someone quickly." in texts
    enqueue = caller.answer(caller.to_menu("main_menu"), "1").actions[-1]
    assert enqueue.reasons == ["billing_queue: 1", "repeat caller today: +1"]


def test_a_known_spanish_speaker_is_greeted_in_spanish(call):
    step = call(caller_name="Ana", vars={"language": "es-US"}).start()
    assert Say("Hola, Ana. Gracias por llamarnos de nuevo.", "es-US") in said(step)
