"""<Enqueue> through the offline carrier: the waitUrl loop, positions, <Leave>, REST redirects
out of the queue, and callers who give up."""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Enqueue, Gather, VoiceResponse

from ivr.sim.callers import CallerScript, Device

CALLER = "+15551230002"


def enqueue(name: str = "support", *, action: str | None = "/voice/queue/result") -> str:
    response = VoiceResponse()
    response.append(Enqueue(name, wait_url="/voice/queue/wait", action=action))
    response.say("after the queue")
    return str(response)


def hold(hit: object) -> str:
    response = VoiceResponse()
    response.say(f"You are number {hit.form['QueuePosition']} in line")  # type: ignore[attr-defined]
    response.pause(length=2)
    return str(response)


def test_the_wait_url_is_requested_again_with_the_callers_position(sim, wait_for):
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", hold)
    first = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.events(first, "enqueued"), what="the first caller in the queue")
    second = sim.carrier.place_call("+15551230003", caller=CallerScript())

    def waits_of(sid: str) -> list:
        hits = sim.service.hits_to("/voice/queue/wait")
        return [hit.form for hit in hits if hit.form["CallSid"] == sid]

    wait_for(lambda: len(waits_of(second)) >= 2, what="the wait loop to repeat")
    form = waits_of(second)[-1]
    assert (form["QueuePosition"], form["CurrentQueueSize"]) == ("2", "2")
    assert form["QueueSid"].startswith("QU") and form["MaxQueueSize"] == "1000"
    assert int(form["QueueTime"]) >= 0 and int(form["AvgQueueTime"]) >= 0
    assert waits_of(first)[-1]["QueuePosition"] == "1"
    assert sim.events(second, "enqueued")[0]["position"] == 2
    assert sim.carrier.queue_members("support") == [first, second]
    assert all(hit.signed for hit in sim.service.hits)


def test_leave_requests_the_action_with_queue_result_leave(sim, wait_for):
    waits = iter([hold, lambda hit: "<Response><Leave/></Response>"])
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", lambda hit: next(waits)(hit))
    sim.service.on("/voice/queue/result", "<Response><Say>sorry, we are closed</Say></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (result,) = sim.service.hits_to("/voice/queue/result")
    assert result.form["QueueResult"] == "leave"
    assert result.form["QueueSid"].startswith("QU") and int(result.form["QueueTime"]) >= 0
    said = [e["text"] for e in sim.events(sid, "say")]
    assert said[-1] == "sorry, we are closed"
    assert "after the queue" not in said
    assert sim.carrier.queue_members("support") == []


def test_leave_without_action_continues_after_the_enqueue(sim, wait_for):
    sim.service.on("/voice/incoming", enqueue(action=None))
    sim.service.on("/voice/queue/wait", "<Response><Leave/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert [e["text"] for e in sim.events(sid, "say")] == ["after the queue"]
    assert sim.events(sid, "dequeued")[0]["result"] == "leave"


def test_a_gather_in_the_wait_loop_keeps_the_caller_in_the_queue(sim, wait_for):
    offer = VoiceResponse()
    gather = Gather(action="/voice/queue/offer", num_digits=1, timeout=3)
    gather.say("Press 1 and we will call you back")
    offer.append(gather)
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", str(offer))
    sim.service.on("/voice/queue/offer", "<Response><Say>We will call you</Say><Leave/></Response>")
    sim.service.on("/voice/queue/result", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=[None, "1"]))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (accepted,) = sim.service.hits_to("/voice/queue/offer")
    assert accepted.form["Digits"] == "1" and accepted.form["QueuePosition"] == "1"
    assert len(sim.service.hits_to("/voice/queue/wait")) == 2  # silence, then the offer taken
    assert sim.service.hits_to("/voice/queue/result")[0].form["QueueResult"] == "leave"


def test_a_rest_redirect_takes_the_caller_out_of_the_queue_into_a_dial(sim, wait_for):
    sim.carrier.set_device(Device("alice", "auto", answer_after=1, talk_time=5))
    connect = VoiceResponse()
    dial = Dial(action="/voice/dial/done", timeout=20)
    dial.client("alice")
    connect.append(dial)
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", hold)
    sim.service.on("/voice/connect", str(connect))
    sim.service.on("/voice/dial/done", "<Response><Hangup/></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.service.hits_to("/voice/queue/wait"), what="the caller to hold")

    call = sim.client().calls(sid).update(url=sim.service.at("/voice/connect"), method="POST")
    assert call.sid == sid
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (result,) = sim.service.hits_to("/voice/queue/result")
    assert result.form["QueueResult"] == "redirected"
    assert sim.service.hits_to("/voice/connect")[0].signed
    (done,) = sim.service.hits_to("/voice/dial/done")
    assert done.form["DialCallStatus"] == "completed"
    assert sim.carrier.queue_members("support") == []
    kinds = sim.kinds(sid)
    assert kinds.index("dequeued") < kinds.index("dial") < kinds.index("answered")


def test_a_caller_who_runs_out_of_patience_hangs_up_in_the_queue(sim, wait_for):
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", hold)
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(patience=5))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    (result,) = sim.service.hits_to("/voice/queue/result")
    assert result.form["QueueResult"] == "hangup"
    assert result.form["CallStatus"] == "completed"
    assert int(result.form["QueueTime"]) >= 4
    statuses = sim.service.hits_to("/voice/status")
    assert [hit.form["CallStatus"] for hit in statuses] == ["completed"]
    assert sim.events(sid, "hangup")[0]["by"] == "caller"
    assert sim.carrier.queue_members("support") == []


def test_a_caller_who_takes_the_offer_hears_it_confirmed_whatever_their_patience(sim, wait_for):
    def offer(hit: object) -> str:
        response = VoiceResponse()
        gather = Gather(action="/voice/queue/offer", num_digits=1, timeout=3)
        gather.say("Press 1 for a callback.")
        response.append(gather)
        return str(response)

    confirmed = VoiceResponse()
    confirmed.say("We will call you back.")
    confirmed.pause(length=8)  # longer than the caller would hold
    confirmed.hangup()
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", offer)
    sim.service.on("/voice/queue/offer", str(confirmed))
    sid = sim.carrier.place_call(CALLER, caller=CallerScript(answers=["1"], patience=4))
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert [hit.form["Digits"] for hit in sim.service.hits_to("/voice/queue/offer")] == ["1"]
    assert "We will call you back." in [e["text"] for e in sim.events(sid, "say")]
    assert sim.events(sid, "hangup")[0]["by"] == "service"


def test_an_interactive_caller_hanging_up_leaves_the_queue(sim, wait_for):
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", hold)
    sid = sim.carrier.place_call(CALLER)
    wait_for(lambda: sim.events(sid, "enqueued"), what="the caller in the queue")
    sim.carrier.hang_up(sid)
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/queue/result")[0].form["QueueResult"] == "hangup"
    assert len(sim.service.hits_to("/voice/status")) == 1


def test_a_failing_wait_url_takes_the_caller_out_with_an_error(sim, wait_for):
    sim.service.on("/voice/incoming", enqueue())
    sim.service.on("/voice/queue/wait", "<Response><Dial>+15550000000</Dial></Response>")
    sim.service.on("/voice/queue/result", "<Response><Say>back</Say></Response>")
    sid = sim.carrier.place_call(CALLER, caller=CallerScript())
    wait_for(lambda: sim.ended(sid), what="the call to end")

    assert sim.service.hits_to("/voice/queue/result")[0].form["QueueResult"] == "error"
    (error,) = sim.carrier.errors
    assert error["code"] == 12200 and error["fatal"] is False
