"""<Dial> through the offline carrier: child legs, agents' devices answering or not,
recordings of the conversation, and the action's DialCallStatus."""

from __future__ import annotations

import io
import wave

import requests
from twilio.twiml.voice_response import Dial, VoiceResponse

from ivr.sim.callers import CallerScript, Device

CALLER = "+15551230004"


def dial_client(identity: str = "alice", *, action: str | None = "/voice/dial/done",
                timeout: int = 20, **options: object) -> str:
    response = VoiceResponse()
    dial = Dial(action=action, timeout=timeout, **options)
    dial.client(identity)
    response.append(dial)
    response.say("after the dial")
    return str(response)


def test_an_answering_agent_is_bridged_and_the_action_gets_completed(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=2, talk_time=30))
    sim.service.on("/voice/incoming", dial_client())
    sim.service.on("/voice/dial/done", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (done,) = sim.service.hits_to("/voice/dial/done")
    form = done.form
    assert (form["DialCallStatus"], form["DialBridged"]) == ("completed", "true")
    assert int(form["DialCallDuration"]) >= 30  # the agent's talk time
    child = sim.client().calls(form["DialCallSid"]).fetch()
    assert (child.parent_call_sid, child.direction, child.to) == (sid, "outbound-dial",
                                                                 "client:alice")
    assert (child.status, child._from) == ("completed", CALLER)
    assert sim.kinds(sid)[:4] == ["status", "dial", "ringing", "answered"]


def test_an_agent_who_does_not_answer_gives_no_answer_after_the_timeout(sim, wait_for):
    sim.carrier.set_device(Device("alice", "off"))
    sim.service.on("/voice/incoming", dial_client(timeout=10))
    sim.service.on("/voice/dial/done", "<Response><Say>nobody there</Say></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    form = sim.service.hits_to("/voice/dial/done")[0].form
    assert (form["DialCallStatus"], form["DialBridged"]) == ("no-answer", "false")
    assert "DialCallDuration" not in form
    assert sim.carrier.call(form["DialCallSid"]).status == "no-answer"
    assert [e["text"] for e in sim.events(sid, "say")] == ["nobody there"]


def test_unregistered_clients_follow_the_carriers_policy(sim_factory, wait_for):
    sim = sim_factory(unregistered_clients="no-answer")
    sim.service.on("/voice/incoming", dial_client("nobody", timeout=5))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/dial/done")[0].form["DialCallStatus"] == "no-answer"


def test_without_an_action_the_next_verb_runs(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=3))
    sim.service.on("/voice/incoming", dial_client(action=None))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert [e["text"] for e in sim.events(sid, "say")] == ["after the dial"]


def test_record_from_answer_dual_makes_a_stereo_recording(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=20))
    sim.service.on("/voice/incoming", dial_client(
        record="record-from-answer-dual", recording_status_callback="/voice/recording"))
    sim.service.on("/voice/dial/done", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.service.hits_to("/voice/recording"), what="the recording callback")

    (callback,) = sim.service.hits_to("/voice/recording")
    form = callback.form
    assert callback.signed and form["CallSid"] == sid
    assert (form["RecordingStatus"], form["RecordingChannels"], form["RecordingSource"]) == (
        "completed", "2", "DialVerb")
    assert form["RecordingSid"].startswith("RE")
    assert form["RecordingUrl"] == (f"{sim.api_url}/2010-04-01/Accounts/{sim.account_sid}"
                                    f"/Recordings/{form['RecordingSid']}")
    wait_for(lambda: sim.service.hits_to("/voice/dial/done"), what="the dial action")
    done = sim.service.hits_to("/voice/dial/done")[0].form
    assert done["RecordingSid"] == form["RecordingSid"]

    audio = requests.get(form["RecordingUrl"] + ".wav", auth=(sim.account_sid, sim.auth_token),
                         timeout=10)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/x-wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnchannels() == 2
        assert round(wav.getnframes() / wav.getframerate()) == int(form["RecordingDuration"])
    assert int(form["RecordingDuration"]) >= 18


def test_a_manual_device_answers_and_hangs_up_through_the_control_api(sim, wait_for):
    devices = f"{sim.api_url}/devices/bob"
    requests.put(devices, json={"mode": "manual"}, timeout=5).raise_for_status()
    sim.service.on("/voice/incoming", dial_client("bob", timeout=600))
    sim.service.on("/voice/dial/done", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())

    ringing = wait_for(lambda: requests.get(f"{devices}/calls", timeout=5).json()["calls"],
                       what="bob's phone to ring")
    (call,) = ringing
    assert (call["status"], call["parent_call_sid"], call["from"]) == ("ringing", sid, CALLER)
    answered = requests.post(f"{devices}/calls/{call['sid']}/answer", timeout=5)
    assert answered.status_code == 200
    wait_for(lambda: sim.events(sid, "answered"), what="the bridge")
    requests.post(f"{devices}/calls/{call['sid']}/hangup", timeout=5).raise_for_status()
    wait_for(lambda: sim.ended(sid), what="the call to end")

    form = sim.service.hits_to("/voice/dial/done")[0].form
    assert (form["DialCallStatus"], form["DialCallSid"]) == ("completed", call["sid"])
    assert sim.events(call["sid"], "hangup")[0]["by"] == "agent"


def test_a_declined_call_is_busy(sim, wait_for):
    sim.carrier.set_device(Device("bob", "manual"))
    sim.service.on("/voice/incoming", dial_client("bob", timeout=600))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    (call,) = wait_for(lambda: sim.carrier.device_calls("bob"), what="bob's phone to ring")
    sim.carrier.device_action("bob", call.sid, "decline")
    wait_for(lambda: sim.service.hits_to("/voice/dial/done"), what="the dial action")

    assert sim.service.hits_to("/voice/dial/done")[0].form["DialCallStatus"] == "busy"
    assert sim.carrier.call(call.sid).status == "busy"
    sim.carrier.hang_up(sid)


def test_the_child_legs_status_callbacks_come_in_order(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=2))
    response = VoiceResponse()
    dial = Dial(action="/voice/dial/done")
    dial.client("alice", status_callback="/voice/agent-status",
                status_callback_event="initiated ringing answered completed")
    response.append(dial)
    sim.service.on("/voice/incoming", str(response))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    hits = sim.service.hits_to("/voice/agent-status")
    assert [h.form["CallStatus"] for h in hits] == ["initiated", "ringing", "in-progress",
                                                    "completed"]
    assert [h.form["SequenceNumber"] for h in hits] == ["0", "1", "2", "3"]
    assert {h.form["ParentCallSid"] for h in hits} == {sid}
    assert {h.form["Direction"] for h in hits} == {"outbound-dial"}
    assert int(hits[-1].form["CallDuration"]) >= 2


def test_a_caller_hanging_up_mid_conversation_still_gets_the_action(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=600))
    sim.service.on("/voice/incoming", dial_client())
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(hangup_after=10))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    form = sim.service.hits_to("/voice/dial/done")[0].form
    assert (form["DialCallStatus"], form["CallStatus"]) == ("completed", "completed")
    assert sim.carrier.call(form["DialCallSid"]).status == "completed"
    assert [h.form["CallStatus"] for h in sim.service.hits_to("/voice/status")] == ["completed"]


def test_hanging_up_the_agents_leg_by_rest_ends_the_bridge(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=600))
    sim.service.on("/voice/incoming", dial_client())
    sim.service.on("/voice/dial/done", "<Response><Say>thanks</Say></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.events(sid, "answered"), what="the bridge")
    (child,) = [leg for leg in sim.carrier.calls() if leg.parent_sid == sid]

    sim.client().calls(child.sid).update(status="completed")
    wait_for(lambda: sim.ended(sid), what="the call to end")
    assert sim.service.hits_to("/voice/dial/done")[0].form["DialCallStatus"] == "completed"
    assert sim.events(sid, "say")[-1]["text"] == "thanks"


def test_redirecting_a_bridged_caller_ends_the_agents_leg(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=600))
    sim.service.on("/voice/incoming", dial_client())
    sim.service.on("/voice/survey", "<Response><Say>One question about your call</Say></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.events(sid, "answered"), what="the bridge")

    sim.client().calls(sid).update(url=sim.service.at("/voice/survey"))
    wait_for(lambda: sim.ended(sid), what="the call to end")
    (child,) = [leg for leg in sim.carrier.calls() if leg.parent_sid == sid]
    assert child.status == "completed"
    assert sim.events(sid, "say")[-1]["text"] == "One question about your call"
    assert sim.service.hits_to("/voice/dial/done") == []


def test_canceling_a_ringing_agent_leg_by_rest_gives_canceled(sim, wait_for):
    sim.carrier.set_device(Device("bob", "manual"))
    sim.service.on("/voice/incoming", dial_client("bob", timeout=600))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    (call,) = wait_for(lambda: sim.carrier.device_calls("bob"), what="bob's phone to ring")

    sim.client().calls(call.sid).update(status="canceled")
    wait_for(lambda: sim.service.hits_to("/voice/dial/done"), what="the dial action")
    assert sim.service.hits_to("/voice/dial/done")[0].form["DialCallStatus"] == "canceled"
    assert sim.carrier.call(call.sid).status == "canceled"
    sim.carrier.hang_up(sid)
