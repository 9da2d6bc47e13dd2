"""<Record> and the recording resource through the offline carrier and the `twilio` client."""

from __future__ import annotations

import io
import wave

import pytest
import requests
from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import Dial, Record, VoiceResponse

from ivr.sim.callers import CallerScript, Device

CALLER = "+15551230005"


def voicemail(**options: object) -> str:
    response = VoiceResponse()
    response.say("Leave a message after the beep")
    attributes = {"action": "/voice/voicemail", "max_length": 120, "timeout": 5,
                  "recording_status_callback": "/voice/recording"} | options
    response.append(Record(**attributes))
    response.say("We did not get a message")
    return str(response)


def test_a_voicemail_is_recorded_and_posted_to_the_action(sim, wait_for):
    sim.service.on("/voice/incoming", voicemail())
    sim.service.on("/voice/voicemail", "<Response><Say>Thank you</Say><Hangup/></Response>")
    message = "Hello, this is about my invoice, please call me back today"
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(voicemail=message))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    form = sim.service.hits_to("/voice/voicemail")[0].form
    assert form["RecordingSid"].startswith("RE")
    assert int(form["RecordingDuration"]) >= 4  # 12 words
    assert "Digits" not in form  # ended by silence
    kinds = sim.kinds(sid)
    assert kinds[kinds.index("say"):][:3] == ["say", "record", "beep"]
    callback = sim.service.hits_to("/voice/recording")
    assert [(h.form["RecordingStatus"], h.form["RecordingSource"]) for h in callback] == [
        ("completed", "RecordVerb")]
    recording = sim.client().recordings(form["RecordingSid"]).fetch()
    assert (recording.call_sid, recording.channels, recording.status) == (sid, 1, "completed")
    assert recording.duration == form["RecordingDuration"]
    assert sim.carrier.recordings.get(recording.sid).spoken == [message]


def test_a_key_ends_the_recording_and_is_posted_as_digits(sim, wait_for):
    sim.service.on("/voice/incoming", voicemail(finish_on_key="#"))
    sim.service.on("/voice/voicemail", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER)  # interactive
    wait_for(lambda: sim.events(sid, "beep"), what="the beep")
    sim.carrier.give_input(sid, speech="my card was charged twice")
    sim.carrier.give_input(sid, digits="#")
    wait_for(lambda: sim.ended(sid), what="the call to end")

    form = sim.service.hits_to("/voice/voicemail")[0].form
    assert form["Digits"] == "#" and int(form["RecordingDuration"]) >= 2


def test_an_empty_recording_falls_through_without_the_action(sim, wait_for):
    sim.service.on("/voice/incoming", voicemail())
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/voicemail") == []
    assert sim.events(sid, "say")[-1]["text"] == "We did not get a message"
    assert sim.carrier.recordings.list(sid) == []


def test_hanging_up_during_the_recording_posts_digits_hangup(sim, wait_for):
    sim.service.on("/voice/incoming", voicemail(timeout=600))
    sid = sim.carrier.place_call(CALLER)
    wait_for(lambda: sim.events(sid, "beep"), what="the beep")
    sim.carrier.give_input(sid, speech="please call me back")
    wait_for(lambda: any(r.spoken for r in sim.carrier.recordings.list(sid)),
             what="the words to be heard")
    sim.carrier.hang_up(sid)
    wait_for(lambda: sim.service.hits_to("/voice/voicemail"), what="the voicemail action")

    form = sim.service.hits_to("/voice/voicemail")[0].form
    assert (form["Digits"], form["CallStatus"]) == ("hangup", "completed")


def test_recordings_can_be_fetched_downloaded_and_deleted_with_the_twilio_client(sim, wait_for):
    sim.service.on("/voice/incoming", voicemail())
    sim.service.on("/voice/voicemail", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(voicemail="one two three four five"))
    wait_for(lambda: sim.ended(sid), what="the call to end")
    form = sim.service.hits_to("/voice/voicemail")[0].form
    client = sim.client()

    url = form["RecordingUrl"]
    assert requests.get(url, timeout=5).status_code == 401  # media needs the credentials
    media = requests.get(url, auth=(sim.account_sid, sim.auth_token), timeout=5)
    with wave.open(io.BytesIO(media.content)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (1, 8000)
        assert round(wav.getnframes() / 8000) == int(form["RecordingDuration"])
    listed = client.recordings.list(call_sid=sid)
    assert [r.sid for r in listed] == [form["RecordingSid"]]
    assert client.recordings(form["RecordingSid"]).delete() is True
    with pytest.raises(TwilioRestException) as missing:
        client.recordings(form["RecordingSid"]).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)


def test_a_live_dial_recording_can_be_paused_and_resumed(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=600))
    response = VoiceResponse()
    dial = Dial(record="record-from-answer-dual", action="/voice/dial/done")
    dial.client("alice")
    response.append(dial)
    sim.service.on("/voice/incoming", str(response))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.carrier.recordings.list(sid), what="the recording to start")
    client = sim.client()

    paused = client.calls(sid).recordings("Twilio.CURRENT").update(status="paused")
    assert paused.status == "paused"
    resumed = client.calls(sid).recordings(paused.sid).update(status="in-progress")
    assert resumed.status == "in-progress"
    sim.carrier.hang_up(sid)
    wait_for(lambda: sim.ended(sid), what="the call to end")
    recording = sim.carrier.recordings.get(paused.sid)
    assert recording.status == "completed" and len(recording.pauses) == 1
