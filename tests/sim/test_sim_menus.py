"""Inbound calls through the offline carrier: signed webhooks, Gather, Redirect, Hangup,
Reject and what happens when the service answers badly."""

from __future__ import annotations

from flask import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from ivr.sim.callers import CallerScript

CALLER = "+15551230001"


def menu(action: str = "/voice/menu", **options: object) -> str:
    response = VoiceResponse()
    gather = Gather(action=action, timeout=5, **options)
    gather.say("For billing press 1, for sales press 2")
    response.append(gather)
    response.say("We did not hear you")
    return str(response)


def say(text: str) -> str:
    response = VoiceResponse()
    response.say(text)
    return str(response)


def echo(hit: object) -> str:
    form = hit.form  # type: ignore[attr-defined]
    return say(f"You chose {form.get('Digits') or form.get('SpeechResult')}")


def test_every_webhook_is_signed_with_the_standard_voice_parameters(sim, wait_for):
    sim.service.on("/voice/incoming", menu(num_digits=1))
    sim.service.on("/voice/menu", echo)
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["1"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    hits = sim.service.hits
    assert [hit.path for hit in hits] == ["/voice/incoming", "/voice/menu", "/voice/status"]
    assert all(hit.signed for hit in hits)
    first = hits[0].form
    assert first["CallSid"] == sid and sid.startswith("CA") and len(sid) == 34
    assert first["AccountSid"] == sim.account_sid
    assert (first["From"], first["To"], first["Caller"], first["Called"]) == (
        CALLER, sim.number, CALLER, sim.number)
    assert (first["CallStatus"], first["Direction"], first["ApiVersion"]) == (
        "ringing", "inbound", "2010-04-01")
    assert first["FromCountry"] == "US"
    assert hits[1].form["CallStatus"] == "in-progress"
    assert hits[1].form["Digits"] == "1"


def test_a_wrong_auth_token_leads_to_an_application_error(sim_factory, wait_for):
    sim = sim_factory(auth_token="not-the-service-token")
    sim.service.on("/voice/incoming", menu())
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/incoming")[0].signed is False
    said = [event["text"] for event in sim.events(sid, "say")]
    assert said == ["We are sorry, an application error has occurred. Goodbye."]
    (error,) = [e for e in sim.carrier.errors if e["fatal"]]
    assert (error["code"], error["call_sid"]) == (11200, sid)
    assert "403" in error["message"]


def test_keys_are_posted_to_the_gather_action(sim, wait_for):
    sim.service.on("/voice/incoming", menu(finish_on_key="#"))
    sim.service.on("/voice/menu", echo)
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["42#"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/menu")[0].form["Digits"] == "42"
    assert sim.events(sid, "say")[-1]["text"] == "You chose 42"


def test_words_are_posted_as_speech_result_with_confidence(sim, wait_for):
    sim.service.on("/voice/incoming", menu(input="dtmf speech"))
    sim.service.on("/voice/menu", echo)
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["billing please"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    form = sim.service.hits_to("/voice/menu")[0].form
    assert form["SpeechResult"] == "billing please"
    assert 0 < float(form["Confidence"]) <= 1
    assert "Digits" not in form


def test_words_are_not_heard_by_a_keys_only_gather(sim, wait_for):
    sim.service.on("/voice/incoming", menu())
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["billing"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/menu") == []
    assert sim.events(sid, "say")[-1]["text"] == "We did not hear you"


def test_silence_falls_through_to_the_next_verb(sim, wait_for):
    sim.service.on("/voice/incoming", menu())
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=[None]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/menu") == []
    assert sim.kinds(sid)[-4:] == ["say", "gather", "say", "hangup"]
    assert sim.events(sid, "hangup")[0]["by"] == "service"  # the document ran out


def test_action_on_empty_result_requests_the_action_anyway(sim, wait_for):
    sim.service.on("/voice/incoming", menu(action_on_empty_result=True))
    sim.service.on("/voice/menu", echo)
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/menu")[0].form["Digits"] == ""


def test_only_the_finish_key_falls_through(sim, wait_for):
    sim.service.on("/voice/incoming", menu())
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["#"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/menu") == []


def test_a_key_pressed_during_the_prompt_barges_in(sim, wait_for):
    response = VoiceResponse()
    gather = Gather(action="/voice/menu", num_digits=1, timeout=5)
    gather.say("Please listen carefully as our menu options have changed " * 20)
    gather.say("this second prompt is never heard")
    response.append(gather)
    sim.service.on("/voice/incoming", str(response))
    sim.service.on("/voice/menu", echo)
    sid = sim.carrier.place_call(CALLER)  # interactive
    wait_for(lambda: sim.events(sid, "say"), what="the prompt to start")
    sim.carrier.give_input(sid, digits="2")
    wait_for(lambda: sim.ended(sid), what="the call to end")

    said = [event["text"] for event in sim.events(sid, "say")]
    assert said[-1] == "You chose 2"
    assert "this second prompt is never heard" not in said


def test_a_scripted_caller_can_barge_in(sim, wait_for):
    response = VoiceResponse()
    gather = Gather(action="/voice/menu", num_digits=1)
    gather.say("first prompt")
    gather.say("second prompt")
    response.append(gather)
    sim.service.on("/voice/incoming", str(response))
    sim.service.on("/voice/menu", echo)
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["3"], barge_in=True))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert [e["text"] for e in sim.events(sid, "say")] == ["first prompt", "You chose 3"]


def test_gather_without_action_posts_to_the_current_document(sim, wait_for):
    answers = iter([menu(action=None), "<Response><Hangup/></Response>"])  # type: ignore[arg-type]
    sim.service.on("/voice/incoming", lambda hit: next(answers))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["7"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    hits = sim.service.hits_to("/voice/incoming")
    assert [hit.form.get("Digits") for hit in hits] == [None, "7"]


def test_redirect_fetches_the_next_document(sim, wait_for):
    sim.service.on("/voice/incoming",
                   "<Response><Redirect>/voice/next?step=2</Redirect></Response>")
    sim.service.on("/voice/next", say("step two"))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (hit,) = sim.service.hits_to("/voice/next")
    assert hit.signed and hit.url.endswith("/voice/next?step=2")
    assert sim.events(sid, "say")[0]["text"] == "step two"


def test_redirect_with_get_sends_the_parameters_in_the_query(sim, wait_for):
    sim.service.on("/voice/incoming",
                   '<Response><Redirect method="GET">/voice/next</Redirect></Response>')
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (hit,) = sim.service.hits_to("/voice/next")
    assert hit.method == "GET" and hit.signed
    assert hit.form["CallSid"] == sid


def test_hangup_ends_the_call_with_a_completed_status_callback(sim, wait_for):
    response = VoiceResponse()
    response.say("Goodbye")
    response.hangup()
    response.say("never said")
    sim.service.on("/voice/incoming", str(response))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.service.hits_to("/voice/status"), what="the status callback")

    (status,) = sim.service.hits_to("/voice/status")
    assert status.form["CallStatus"] == "completed"
    assert status.form["CallbackSource"] == "call-progress-events"
    assert int(status.form["CallDuration"]) >= 0
    assert [e["text"] for e in sim.events(sid, "say")] == ["Goodbye"]
    assert sim.carrier.call(sid).status == "completed"


def test_reject_busy_never_answers_the_call(sim, wait_for):
    sim.service.on("/voice/incoming", '<Response><Reject reason="busy"/></Response>')
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.service.hits_to("/voice/status"), what="the status callback")

    assert sim.service.hits_to("/voice/status")[0].form["CallStatus"] == "busy"
    leg = sim.carrier.call(sid)
    assert (leg.status, leg.start_time) == ("busy", None)


def test_reject_defaults_to_no_answer(sim, wait_for):
    sim.service.on("/voice/incoming", "<Response><Reject/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.carrier.call(sid).status == "no-answer"


def test_unparseable_twiml_is_an_application_error(sim, wait_for):
    sim.service.on("/voice/incoming", "<Response><Say>unclosed</Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert [e["code"] for e in sim.carrier.errors] == [12100]
    assert sim.events(sid, "error")[0]["code"] == 12100


def test_an_unknown_verb_is_an_application_error(sim, wait_for):
    sim.service.on("/voice/incoming", "<Response><Say>hi</Say><Dance/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (error,) = sim.carrier.errors
    assert error["code"] == 12200 and "<Dance>" in error["message"]
    assert [e["text"] for e in sim.events(sid, "say")] == [
        "We are sorry, an application error has occurred. Goodbye."]


def test_twiml_served_as_html_is_an_application_error(sim, wait_for):
    sim.service.on("/voice/incoming",
                   lambda hit: Response(say("hi"), mimetype="text/html"))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert [e["code"] for e in sim.carrier.errors] == [12300]


def test_a_server_error_on_an_action_ends_the_call_with_an_application_error(sim, wait_for):
    sim.service.on("/voice/incoming", menu())
    sim.service.on("/voice/menu", lambda hit: Response("boom", status=500))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["1"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (error,) = sim.carrier.errors
    assert error["code"] == 11200 and error["url"].endswith("/voice/menu")
    assert sim.carrier.call(sid).status == "completed"


def test_the_caller_hangs_up_after_their_time(sim, wait_for):
    response = VoiceResponse()
    response.pause(length=600)
    sim.service.on("/voice/incoming", str(response))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(hangup_after=3))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.events(sid, "hangup")[0]["by"] == "caller"
    (status,) = sim.service.hits_to("/voice/status")
    assert status.form["CallStatus"] == "completed"
