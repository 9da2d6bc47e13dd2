"""The Twilio REST subset through the real `twilio` client and SimHttpClient: outbound calls
with status callbacks and answering machine detection, live call updates, messages, auth and
Twilio's error shapes."""

from __future__ import annotations

from datetime import datetime
from email.utils import parsedate_to_datetime

import pytest
import requests
from twilio.base.exceptions import TwilioRestException

from ivr.sim.callers import CallerScript, Device
from ivr.sim.httpclient import SimHttpClient

CUSTOMER = "+15551230006"
EVENTS = ["initiated", "ringing", "answered", "completed"]
PROMPT = ('<Response><Gather action="/voice/offer" numDigits="1">'
          "<Say>Press 1 to talk to us</Say></Gather></Response>")


def test_the_http_client_sends_twilio_urls_to_the_sim():
    client = SimHttpClient("http://127.0.0.1:9/sim/")
    assert client.rewrite("https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?Page=2") == (
        "http://127.0.0.1:9/sim/2010-04-01/Accounts/AC1/Calls.json?Page=2")


def test_an_outbound_call_reports_its_progress_in_order(sim, wait_for):
    sim.carrier.set_callee(CUSTOMER, CallerScript(answers=["1"], answer_after=2))
    sim.service.on("/voice/callback", PROMPT)
    sim.service.on("/voice/offer", "<Response><Say>Connecting</Say></Response>")
    call = sim.client().calls.create(
        to=CUSTOMER, from_=sim.number, url=sim.service.at("/voice/callback"),
        status_callback=sim.service.at("/voice/callback-status"), status_callback_event=EVENTS)
    assert call.sid.startswith("CA") and call.direction == "outbound-api"
    assert call.status == "queued" and isinstance(call.date_created, datetime)
    wait_for(lambda: sim.ended(call.sid), what="the call to end")

    hits = sim.service.hits_to("/voice/callback-status")
    assert [h.form["CallStatus"] for h in hits] == ["initiated", "ringing", "in-progress",
                                                    "completed"]
    assert [h.form["SequenceNumber"] for h in hits] == ["0", "1", "2", "3"]
    assert all(h.signed and h.form["CallbackSource"] == "call-progress-events" for h in hits)
    assert all(parsedate_to_datetime(h.form["Timestamp"]) for h in hits)
    assert "CallDuration" in hits[-1].form and "CallDuration" not in hits[0].form
    first = sim.service.hits_to("/voice/callback")[0].form
    assert (first["Direction"], first["CallStatus"], first["To"]) == (
        "outbound-api", "in-progress", CUSTOMER)
    assert sim.service.hits_to("/voice/offer")[0].form["Digits"] == "1"
    fetched = sim.client().calls(call.sid).fetch()
    assert fetched.status == "completed" and fetched.end_time is not None


@pytest.mark.parametrize(("answered_by", "detection", "expected"), [
    ("human", "Enable", "human"),
    ("machine", "Enable", "machine_start"),
    ("machine", "DetectMessageEnd", "machine_end_beep"),
])
def test_machine_detection_reports_who_answered(sim, wait_for, answered_by, detection,
                                                expected):
    sim.carrier.set_callee(CUSTOMER, CallerScript(answered_by=answered_by, answer_after=1))
    sim.service.on("/voice/callback", "<Response><Hangup/></Response>")
    call = sim.client().calls.create(to=CUSTOMER, from_=sim.number, machine_detection=detection,
                                     url=sim.service.at("/voice/callback"))
    wait_for(lambda: sim.ended(call.sid), what="the call to end")

    form = sim.service.hits_to("/voice/callback")[0].form
    assert form["AnsweredBy"] == expected and int(form["MachineDetectionDuration"]) > 0
    assert sim.client().calls(call.sid).fetch().answered_by == expected


def test_a_callee_who_does_not_answer_is_no_answer_after_the_timeout(sim, wait_for):
    sim.carrier.set_callee(CUSTOMER, CallerScript(answer=False))
    call = sim.client().calls.create(to=CUSTOMER, from_=sim.number, timeout=15,
                                     url=sim.service.at("/voice/callback"),
                                     status_callback=sim.service.at("/voice/callback-status"))
    wait_for(lambda: sim.ended(call.sid), what="the call to end")

    (status,) = sim.service.hits_to("/voice/callback-status")  # completed only, by default
    assert (status.form["CallStatus"], status.form["CallDuration"]) == ("no-answer", "0")
    assert sim.service.hits_to("/voice/callback") == []


def test_inline_twiml_runs_without_a_url(sim, wait_for):
    sim.service.on("/voice/offer", "<Response><Hangup/></Response>")
    sim.carrier.set_callee(CUSTOMER, CallerScript(answers=["1"], answer_after=1))
    twiml = PROMPT.replace("/voice/offer", sim.service.at("/voice/offer"))
    call = sim.client().calls.create(to=CUSTOMER, from_=sim.number, twiml=twiml)
    wait_for(lambda: sim.ended(call.sid), what="the call to end")

    assert sim.service.hits_to("/voice/offer")[0].form["Digits"] == "1"


def test_an_outbound_call_to_an_agents_client_rings_the_device(sim, wait_for):
    """The agent-first call of a callback: the agent's device answers, hears the whisper,
    holds on while the customer's phone rings, and talks its talk time from the bridge."""
    sim.carrier.set_device(Device("carol", "auto", answer_after=1, talk_time=5))
    sim.carrier.set_callee(CUSTOMER, CallerScript(answer_after=8))  # rings past the talk time
    sim.service.on("/voice/agent-first", f"<Response><Say>Callback for Dana, about billing."
                   f"</Say><Dial><Number>{CUSTOMER}</Number></Dial></Response>")
    call = sim.client().calls.create(to="client:carol", from_=sim.number,
                                     url=sim.service.at("/voice/agent-first"))
    wait_for(lambda: sim.ended(call.sid), what="the call to end")

    assert sim.events(call.sid, "hangup")[0]["by"] == "agent"
    assert sim.carrier.call(call.sid).status == "completed"
    (answered,) = sim.events(call.sid, "answered")[1:]  # the customer, after the agent
    talked = sim.events(call.sid, "hangup")[0]["t"] - answered["t"]
    assert talked >= 5


def test_a_twiml_update_interrupts_a_waiting_gather(sim, wait_for):
    sim.service.on("/voice/incoming", '<Response><Gather timeout="600"/></Response>')
    sid = sim.carrier.place_call(CUSTOMER)
    wait_for(lambda: sim.events(sid, "gather"), what="the gather")

    sim.client().calls(sid).update(twiml="<Response><Say>Moved along</Say></Response>")
    wait_for(lambda: sim.ended(sid), what="the call to end")
    assert sim.events(sid, "say")[0]["text"] == "Moved along"


def test_status_completed_hangs_up_a_live_call(sim, wait_for):
    sim.service.on("/voice/incoming", '<Response><Pause length="600"/></Response>')
    sid = sim.carrier.place_call(CUSTOMER)
    wait_for(lambda: sim.events(sid, "pause"), what="the pause")

    sim.client().calls(sid).update(status="completed")
    wait_for(lambda: sim.ended(sid), what="the call to end")
    assert sim.carrier.call(sid).status == "completed"
    assert sim.events(sid, "hangup")[0]["by"] == "api"


def test_status_canceled_stops_a_ringing_call(sim, wait_for):
    sim.carrier.set_callee(CUSTOMER, CallerScript(answer_after=600))
    call = sim.client().calls.create(to=CUSTOMER, from_=sim.number,
                                     url=sim.service.at("/voice/callback"))
    wait_for(lambda: sim.carrier.call(call.sid).status == "ringing", what="ringing")

    sim.client().calls(call.sid).update(status="canceled")
    wait_for(lambda: sim.ended(call.sid), what="the call to end")
    assert sim.carrier.call(call.sid).status == "canceled"


def test_calls_are_listed_with_filters(sim, wait_for):
    sim.service.on("/voice/incoming", '<Response><Pause length="600"/></Response>')
    live = sim.carrier.place_call(CUSTOMER)
    other = sim.carrier.place_call("+15551239999")
    wait_for(lambda: sim.carrier.call(live).status == "in-progress", what="the first call")
    wait_for(lambda: sim.carrier.call(other).status == "in-progress", what="the second call")
    sim.carrier.hang_up(other)
    wait_for(lambda: sim.ended(other), what="the second call to end")

    client = sim.client()
    assert [c.sid for c in client.calls.list(status="in-progress")] == [live]
    assert [c.sid for c in client.calls.list(from_=CUSTOMER)] == [live]
    assert {c.sid for c in client.calls.list(page_size=1)} == {live, other}


def test_messages_are_created_delivered_and_listed(sim, wait_for):
    client = sim.client()
    message = client.messages.create(to=CUSTOMER, from_=sim.number, body="We will call you at 3",
                                     status_callback=sim.service.at("/sms/status"))
    assert message.sid.startswith("SM") and message.status == "queued"
    wait_for(lambda: client.messages(message.sid).fetch().status == "delivered",
             what="delivery")

    assert [m.sid for m in client.messages.list(to=CUSTOMER)] == [message.sid]
    statuses = [h.form["MessageStatus"] for h in sim.service.hits_to("/sms/status")]
    assert statuses == ["sent", "delivered"]
    sent = requests.get(f"{sim.api_url}/messages", timeout=5).json()["messages"]
    assert [(m["to"], m["body"]) for m in sent] == [(CUSTOMER, "We will call you at 3")]


def test_a_wrong_auth_token_is_refused_with_twilios_error(sim):
    with pytest.raises(TwilioRestException) as refused:
        sim.client(auth_token="wrong").calls.create(to=CUSTOMER, from_=sim.number,
                                                    url=sim.service.at("/voice/callback"))
    assert (refused.value.status, refused.value.code) == (401, 20003)
    assert sim.carrier.calls() == []


def test_unknown_calls_and_redirecting_ended_calls_are_refused(sim, wait_for):
    client = sim.client()
    with pytest.raises(TwilioRestException) as missing:
        client.calls("CA" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)

    sim.service.on("/voice/incoming", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CUSTOMER)
    wait_for(lambda: sim.ended(sid), what="the call to end")
    with pytest.raises(TwilioRestException) as ended:
        client.calls(sid).update(url=sim.service.at("/voice/anything"))
    assert (ended.value.status, ended.value.code) == (400, 21220)


def test_all_inbound_status_events_can_be_asked_for(sim_factory, wait_for):
    sim = sim_factory(inbound_status_events=tuple(EVENTS))
    sim.service.on("/voice/incoming", "<Response><Say>hello</Say></Response>")
    sid = sim.carrier.place_call(CUSTOMER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    hits = sim.service.hits_to("/voice/status")
    assert [(h.form["CallStatus"], h.form["SequenceNumber"]) for h in hits] == [
        ("initiated", "0"), ("ringing", "1"), ("in-progress", "2"), ("completed", "3")]
