"""The inbound call path through the real webhooks (signed requests, the default flow): from
ring to a queue entry, with every step written as a call event."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from callback.models import Callback
from ivr.calls.models import Call, CallEvent, Contact
from ivr.cases.models import Case, TextMessage
from ivr.routing.models import QueueEntry

from conftest import MONDAY_10AM
from twimlwalk import Twiml
from webhooks import Caller, in_db, new_sid


def entry_of(db, caller: Caller) -> QueueEntry | None:
    with db.transaction() as session:
        entry = session.scalar(select(QueueEntry).join(Call).where(Call.sid == caller.sid))
        if entry is not None:
            _ = entry.skills
        return entry


def to_main_menu(caller: Caller) -> Twiml:
    """Ring, choose English, and give no case number."""
    return caller.to_main_menu()


def test_incoming_call_answers_with_notice_and_a_menu_and_records_the_call(db, carrier_post):
    caller = Caller(carrier_post)
    twiml = caller.ring()
    assert "record" in twiml.said().lower()
    gather = twiml.find("Gather")
    assert gather is not None and gather.get("input") == "dtmf speech"
    assert twiml.verbs()[-1] == "Redirect", "silence must fall through to the flow"
    with db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == caller.sid))
        assert call.from_number == "+15551230001"
        assert call.path, "the IVR path is recorded"
        kinds = session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call.id)).all()
    assert "call.started" in kinds and "ivr.node" in kinds


def test_pressing_zero_at_the_first_menu_reaches_a_queue_entry(db, carrier_post):
    caller = Caller(carrier_post)
    twiml = caller.press(caller.ring(), "0")
    assert twiml.enqueued()
    entry = entry_of(db, caller)
    assert entry is not None and entry.status == "waiting"


@pytest.mark.parametrize("words", ["agent", "I want to talk to a person please", "Operator!"])
def test_asking_for_a_person_at_any_menu_reaches_a_queue(db, carrier_post, words):
    caller = Caller(carrier_post)
    twiml = caller.say(to_main_menu(caller), words)
    assert twiml.enqueued()
    assert entry_of(db, caller) is not None


def test_silence_reaches_a_queue_after_the_retries(db, carrier_post):
    caller = Caller(carrier_post)
    twiml = caller.ring()
    for _ in range(10):
        if twiml.enqueued():
            break
        twiml = caller.silence(twiml)
    assert twiml.enqueued(), "silence must end in a queue, never a hang-up"
    with db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == caller.sid))
        assert any(step.get("event") == "fallback" or "fallback" in str(step) for step in call.path)


def test_a_wrong_key_is_asked_again_then_the_caller_still_reaches_a_queue(db, carrier_post):
    caller = Caller(carrier_post)
    menu = to_main_menu(caller)
    again = caller.press(menu, "9")
    assert "sorry" in again.said().lower()
    assert again.gather_path() != menu.gather_path(), "the attempt number moves on"
    twiml = again
    for _ in range(10):
        if twiml.enqueued():
            break
        twiml = caller.press(twiml, "9")
    assert twiml.enqueued()


def test_saying_billing_queues_for_the_billing_skill(db, carrier_post):
    caller = Caller(carrier_post)
    twiml = caller.say(to_main_menu(caller), "it's about my bill")
    assert twiml.enqueued()
    entry = entry_of(db, caller)
    assert "billing" in entry.skills


def test_outage_callers_get_a_higher_priority_than_billing(db, carrier_post):
    billing = Caller(carrier_post, "+15551230002")
    outage = Caller(carrier_post, "+15551230003")
    billing.say(to_main_menu(billing), "billing")
    outage.say(to_main_menu(outage), "outage")
    assert entry_of(db, outage).priority > entry_of(db, billing).priority
    assert entry_of(db, outage).reasons


def test_spanish_callers_hear_spanish_after_choosing_it(carrier_post):
    caller = Caller(carrier_post)
    menu = caller.to_main_menu("2")
    gather_says = [el.get("language") for el in menu.root.iter("Say")]
    assert "es-US" in gather_says


def test_the_wait_loop_tells_the_caller_their_position(db, carrier_post):
    first, second = Caller(carrier_post, "+15551230004"), Caller(carrier_post, "+15551230005")
    for caller in (first, second):
        caller.press(caller.ring(), "0")
    assert "next" in first.wait().said().lower()
    said = second.wait().said().lower()
    assert "number 2" in said
    assert second.wait().find("Pause") is not None


def test_hanging_up_in_the_queue_abandons_the_entry_once(db, carrier_post):
    caller = Caller(carrier_post)
    caller.press(caller.ring(), "0")
    assert caller.status("completed", CallDuration="42").status_code == 204
    events_after_first = in_db(db, select(func.count(CallEvent.id)))
    for repeat in ("completed", "in-progress", "ringing"):
        assert caller.status(repeat).status_code == 200
    assert in_db(db, select(func.count(CallEvent.id))) == events_after_first
    entry = entry_of(db, caller)
    assert entry.status == "abandoned"
    with db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == caller.sid))
        assert (call.status, call.outcome, call.duration_seconds) == ("completed", "abandoned", 42)


@pytest.mark.parametrize("queue_result", [True, False], ids=["queue-result", "status-only"])
def test_a_caller_who_hangs_up_waiting_for_billing_gets_a_billing_case(db, carrier_post,
                                                                       queue_result):
    """The missed call's case belongs to the queue the caller left, not to `general`; the
    carrier may or may not post the <Enqueue> action before the final status."""
    caller = Caller(carrier_post, "+12125550123")
    enqueued = caller.say(to_main_menu(caller), "billing")
    if queue_result:
        caller.post(enqueued.enqueue_action_path(),
                    caller.form(CallStatus="completed", QueueResult="hangup", QueueTime="30"))
    assert caller.status("completed", CallDuration="40").status_code == 204
    with db.transaction() as session:
        case = session.scalar(select(Case).where(Case.caller_number == caller.number))
        text = session.scalar(select(TextMessage).where(TextMessage.case_id == case.id))
        assert (case.owner_skill, case.subject) == ("billing", "billing")
        assert text.purpose == "case-missed"
        queued = session.scalar(select(CallEvent).where(CallEvent.kind == "text.queued"))
        assert queued.data["message_id"] == text.id
        # Its follow-up is dialled as soon as the manners allow: 10:00 UTC is before eight
        # in New York, so it waits for the customer's morning.
        callback = session.scalar(select(Callback).where(Callback.number == caller.number))
        deferred = session.scalar(select(CallEvent).where(CallEvent.kind == "callback.deferred"))
        assert (callback.kind, callback.status) == ("follow-up", "scheduled")
        assert deferred.data["callback_id"] == callback.id
        assert callback.due_at == datetime.fromisoformat(deferred.data["until"]) > MONDAY_10AM


def test_hanging_up_in_the_ivr_is_recorded_as_such(db, carrier_post):
    caller = Caller(carrier_post)
    caller.ring()
    caller.status("completed", CallDuration="5")
    with db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == caller.sid))
        assert call.outcome == "ivr_hangup"


def test_a_repeated_incoming_request_does_not_start_the_call_twice(db, carrier_post):
    caller = Caller(carrier_post)
    caller.ring()
    caller.ring()
    assert in_db(db, select(func.count(Call.id))) == 1


def test_a_known_caller_is_greeted_by_name(db, carrier_post, clock):
    with db.transaction() as session:
        session.add(
            Contact(phone="+15551230009", name="Dana Reyes", vip=True, created_at=clock.now())
        )
    caller = Caller(carrier_post, "+15551230009")
    assert "Dana Reyes" in caller.ring().said()
    caller.say(to_main_menu_of(caller), "billing")
    assert any("VIP" in reason for reason in entry_of(db, caller).reasons)


def to_main_menu_of(caller: Caller) -> Twiml:
    return caller.to_main_menu()


# Bad input: a clear 4xx, or TwiML that keeps the caller in the flow; nothing half-written.


def test_missing_callsid_is_a_400_naming_the_field(db, carrier_post):
    response = carrier_post("/voice/incoming", {"From": "+15551230001"})
    assert response.status_code == 400
    assert "CallSid" in response.get_json()["reason"]
    assert in_db(db, select(func.count(Call.id))) == 0


def test_status_for_an_unknown_call_is_a_404(carrier_post):
    response = carrier_post("/voice/status", {"CallSid": new_sid(), "CallStatus": "completed"})
    assert response.status_code == 404
    assert "unknown CallSid" in response.get_json()["reason"]


@pytest.mark.parametrize(
    "form", [{"CallStatus": "exploded"}, {"CallStatus": "completed", "CallDuration": "ten"}]
)
def test_malformed_status_callbacks_are_400s(db, carrier_post, form):
    caller = Caller(carrier_post)
    caller.ring()
    response = carrier_post("/voice/status", caller.form(**form))
    assert response.status_code == 400
    with db.transaction() as session:
        assert session.scalar(select(Call.status).where(Call.sid == caller.sid)) == "in-progress"


def test_an_unreadable_caller_id_is_still_served(db, carrier_post):
    caller = Caller(carrier_post, "not-a-number")
    assert caller.ring().find("Gather") is not None
    with db.transaction() as session:
        assert session.scalar(select(Call.from_number)) == "anonymous"


def test_an_answer_for_a_menu_that_does_not_exist_restarts_the_menus(carrier_post):
    caller = Caller(carrier_post)
    caller.ring()
    twiml = Twiml.of(carrier_post("/voice/menu/no_such_node?attempt=1", caller.form(Digits="1")))
    assert twiml.find("Gather") is not None


def test_an_answer_for_an_unknown_call_is_adopted_not_dropped(db, carrier_post):
    caller = Caller(carrier_post)
    twiml = Twiml.of(carrier_post("/voice/menu/no_such_node?attempt=1", caller.form(Digits="0")))
    assert twiml.find("Gather") is not None or twiml.enqueued()
    with db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == caller.sid))
        assert call is not None
        assert (
            "call.adopted"
            in session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call.id)).all()
        )


def test_a_bad_attempt_number_is_a_400(carrier_post):
    caller = Caller(carrier_post)
    caller.ring()
    response = carrier_post("/voice/menu/main_menu?attempt=lots", caller.form(Digits="1"))
    assert response.status_code == 400
    assert "attempt" in response.get_json()["reason"]
