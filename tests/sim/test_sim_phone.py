"""The control API under /sim and the terminal phone that drives it."""

from __future__ import annotations

import io

import requests
from twilio.twiml.voice_response import Enqueue, Gather, VoiceResponse

from ivr.sim.callers import Device
from ivr.sim.phone import run_phone

CALLER = "+15551230007"


def menu() -> str:
    response = VoiceResponse()
    gather = Gather(action="/voice/menu", num_digits=1, timeout=5)
    gather.say("For billing, press 1")
    response.append(gather)
    return str(response)


def test_an_interactive_call_through_the_control_api(sim, wait_for):
    sim.service.on("/voice/incoming", menu())
    sim.service.on("/voice/menu", "<Response><Say>Billing it is</Say></Response>")
    calls = f"{sim.api_url}/phone/calls"
    placed = requests.post(calls, json={"from": CALLER}, timeout=5)
    assert placed.status_code == 201
    sid = placed.json()["sid"]

    listed = requests.get(calls, timeout=5).json()["calls"]
    assert [(c["sid"], c["interactive"]) for c in listed] == [(sid, True)]
    seen = requests.get(f"{calls}/{sid}/events", params={"after": 0, "wait": 5}, timeout=10)
    events = seen.json()["events"]
    wait_for(lambda: sim.events(sid, "gather"), what="the menu")
    sent = requests.post(f"{calls}/{sid}/input", json={"digits": "1"}, timeout=5)
    assert sent.status_code == 202
    wait_for(lambda: sim.ended(sid), what="the call to end")

    later = requests.get(f"{calls}/{sid}/events", params={"after": events[-1]["seq"]},
                         timeout=10).json()
    assert later["ended"] is True and later["status"] == "completed"
    said = [e["text"] for e in events + later["events"] if e["type"] == "say"]
    assert said == ["For billing, press 1", "Billing it is"]
    assert all(e["seq"] > events[-1]["seq"] for e in later["events"])
    assert requests.get(calls, timeout=5).json()["calls"] == []


def test_a_scripted_call_and_a_hangup_through_the_control_api(sim, wait_for):
    sim.service.on("/voice/incoming", '<Response><Pause length="600"/></Response>')
    calls = f"{sim.api_url}/phone/calls"
    sid = requests.post(calls, json={"from": CALLER, "script": {"answers": ["1"]}},
                        timeout=5).json()["sid"]
    wait_for(lambda: sim.events(sid, "pause"), what="the pause")
    hung_up = requests.post(f"{calls}/{sid}/hangup", timeout=5)
    assert hung_up.status_code == 200
    wait_for(lambda: sim.ended(sid), what="the call to end")
    assert sim.events(sid, "hangup")[0]["by"] == "caller"


def test_the_control_api_explains_bad_requests(sim):
    calls = f"{sim.api_url}/phone/calls"
    bad_script = requests.post(calls, json={"from": CALLER, "script": {"answers": "1"}},
                               timeout=5)
    assert bad_script.status_code == 400 and "answers" in bad_script.json()["error"]
    assert requests.post(calls, json={}, timeout=5).status_code == 400
    missing = requests.get(f"{calls}/CA{'0' * 32}/events", timeout=5)
    assert missing.status_code == 404 and "error" in missing.json()
    bad_mode = requests.put(f"{sim.api_url}/devices/alice", json={"mode": "maybe"}, timeout=5)
    assert bad_mode.status_code == 400


def test_the_terminal_phone_prints_what_the_caller_hears(sim):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=3))
    sim.service.on("/voice/incoming", menu())
    sim.service.on("/voice/menu", "<Response><Say>Connecting you</Say>"
                                  "<Dial><Client>alice</Client></Dial></Response>")
    out = io.StringIO()

    code = run_phone(sim.url, CALLER, stdin=io.StringIO("1\n"), stdout=out)

    printed = out.getvalue()
    assert code == 0, printed
    assert "🔊 For billing, press 1" in printed
    assert "📞 ringing client:alice" in printed
    assert printed.rstrip().splitlines()[-1].startswith("☎ call ended")
    assert sim.service.hits_to("/voice/menu")[0].form["Digits"] == "1"


def test_the_terminal_phone_hangs_up_in_the_queue_at_end_of_input(sim, wait_for):
    hold = VoiceResponse()
    offer = Gather(num_digits=1, timeout=2, action="/voice/queue/offer")
    offer.say("Press 1 for a callback")
    hold.append(offer)
    queue = VoiceResponse()
    queue.append(Enqueue("support", wait_url="/voice/queue/wait", action="/voice/queue/result"))
    sim.service.on("/voice/incoming", menu())
    sim.service.on("/voice/menu", str(queue))
    sim.service.on("/voice/queue/wait", str(hold))
    out = io.StringIO()

    code = run_phone(sim.url, CALLER, stdin=io.StringIO("1\n"), stdout=out)

    printed = out.getvalue()
    assert code == 0, printed
    assert "… waiting in queue support (position 1)" in printed
    assert "☎ call ended (you hung up)" in printed
    wait_for(lambda: sim.service.hits_to("/voice/queue/result"), what="the queue action")
    assert sim.service.hits_to("/voice/queue/result")[0].form["QueueResult"] == "hangup"


def test_the_terminal_phone_reports_an_application_error(sim):
    sim.service.on("/voice/incoming", "<Response><Oops/></Response>")
    out = io.StringIO()
    assert run_phone(sim.url, CALLER, stdin=io.StringIO(""), stdout=out) == 1
    assert "application error" in out.getvalue()


def test_the_terminal_phone_says_when_the_carrier_is_unreachable(sim):
    out = io.StringIO()
    assert run_phone("http://127.0.0.1:9", CALLER, stdin=io.StringIO(""), stdout=out) == 2
    assert "cannot reach the offline carrier" in out.getvalue()
