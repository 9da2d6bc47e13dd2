"""Routing through the offline carrier over real HTTP: skills, priority, aging, skill
expansion, ring-no-answer, and transfer with a note."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from flowpaths import TO_BILLING, TO_OUTAGE, write_flow
from support import wait_for


def test_a_caller_needing_a_skill_reaches_an_agent_who_has_it(center):
    center.agent("tim", {"technical": 3})
    center.agent("bill", {"billing": 3})
    sid = center.call(TO_BILLING, "+15551110001")
    call = center.ended(sid)
    assert call.outcome == "answered"
    assert center.answered_by(sid) == ["bill"]
    assert center.carrier.errors == []


def test_a_higher_priority_caller_is_answered_first(center):
    center.agent("gail", {"billing": 2, "outage": 2}, available=False)
    billing = center.call(TO_BILLING, "+15551110002")
    wait_for(lambda: center.waiting(billing), what="the billing caller to wait")
    outage = center.call(TO_OUTAGE, "+15551110003")
    wait_for(lambda: center.waiting(outage), what="the outage caller to wait")
    assert center.entry(outage).priority > center.entry(billing).priority
    center.set_state("gail", "available")
    center.ended(billing)
    assert center.answer_order() == [outage, billing]


def test_aging_lets_an_old_low_priority_caller_through(manual_center, clock):
    center = manual_center
    center.agent("gail", {"billing": 2, "outage": 2}, available=False)
    old = center.call(TO_BILLING, "+15551110004")
    wait_for(lambda: center.waiting(old), what="the billing caller to wait")
    clock.advance(timedelta(minutes=10))  # priority 1 + 0.5/min * 10 = 6 > 5
    urgent = center.call(TO_OUTAGE, "+15551110005")
    wait_for(lambda: center.waiting(urgent), what="the outage caller to wait")
    center.set_state("gail", "available")
    center.ended(urgent)
    assert center.answer_order() == [old, urgent]


def test_skill_expansion_routes_to_a_lower_level_agent_after_its_wait(center_factory, clock,
                                                                       tmp_path: Path):
    flow = write_flow(tmp_path, technical_level=4)
    center = center_factory(clock=clock, flow=flow, skill_expansion_seconds=60)
    center.agent("junior", {"technical": 2})
    sid = center.call(["1"], "+15551110006")
    wait_for(lambda: center.waiting(sid), what="the caller to wait")
    center.live.runtime.dispatcher.run_once()
    clock.advance(timedelta(seconds=119))  # one step: level 3 is asked, junior has 2
    center.live.runtime.dispatcher.run_once()
    assert center.waiting(sid)
    clock.advance(timedelta(seconds=1))  # two steps: level 2
    call = center.ended(sid)
    assert call.outcome == "answered"
    assert center.answered_by(sid) == ["junior"]


def test_an_unanswered_agent_goes_not_ready_and_the_caller_keeps_their_place(center_factory):
    center = center_factory(ring_timeout=5)
    center.agent("sleepy", {"billing": 2}, device="off")
    first = center.call(TO_BILLING, "+15551110007")
    entered = wait_for(lambda: center.entry(first), what="the first caller's entry").entered_at
    wait_for(lambda: center.agent_row("sleepy").state == "not-ready", what="sleepy not-ready")
    sleepy = center.agent_row("sleepy")
    assert sleepy.state_reason == "missed"
    wait_for(lambda: center.waiting(first), what="the caller back in the queue")
    later = center.call(TO_BILLING, "+15551110008")
    wait_for(lambda: center.waiting(later), what="the later caller to wait")
    assert center.entry(first).entered_at == entered
    center.agent("awake", {"billing": 2})
    center.ended(first)
    assert center.answered_by(first) == ["awake"]
    assert center.answer_order()[0] == first
    assert [r.status for r in center.reservations(first)] == ["missed", "completed"]


ROAMING = "+13125550177"  # an agent's mobile: a real, callable number


def test_an_agent_on_a_mobile_whose_voicemail_answers_is_not_an_answer(center_factory):
    center = center_factory(ring_timeout=10)
    center.agent("roamer", {"billing": 2}, mobile=ROAMING, answered_by="machine")
    first = center.call(TO_BILLING, "+15551110010")
    entered = wait_for(lambda: center.entry(first), what="the caller's entry").entered_at
    wait_for(lambda: center.agent_row("roamer").state == "not-ready", what="roamer not-ready")
    assert center.agent_row("roamer").state_reason == "missed"
    wait_for(lambda: center.waiting(first), what="the caller back in the queue")
    assert center.entry(first).entered_at == entered
    [screened] = center.events("routing.screened")
    assert screened.data["answered_by"] == "machine_start"
    center.agent("desk", {"billing": 2})
    call = center.ended(first)
    assert call.outcome == "answered"
    assert center.answered_by(first) == ["desk"], "the voicemail never counted as roamer's"
    [missed, completed] = center.reservations(first)
    assert (missed.status, missed.result) == ("missed", "voicemail")
    assert completed.status == "completed"
    [leg] = center.carrier.calls(to=ROAMING)
    assert leg.status == "completed", "the voicemail was hung up on, not left ringing"


def test_an_agent_on_a_mobile_hears_who_is_waiting_before_being_put_through(center_factory):
    center = center_factory(ring_timeout=10, agent_accept_seconds=12)
    center.agent("roamer", {"billing": 2}, mobile=ROAMING)
    sid = center.call(TO_BILLING, "+15551110011", hangup_after=120)
    call = center.ended(sid)
    assert call.outcome == "answered"
    assert center.answered_by(sid) == ["roamer"]
    [leg] = center.carrier.calls(to=ROAMING)
    heard = leg.line.events_after(0)[0]
    said = [event["text"] for event in heard if event["type"] == "say"]
    assert said and said[0].startswith("Call from +15551110011, about billing.")
    assert said[0].endswith("Press 1 to take the call.")
    [key] = [event for event in heard if event["type"] == "gather"]
    assert key["timeout"] == 12, "IVR_AGENT_ACCEPT_SECONDS"
    [reservation] = center.reservations(sid)
    assert reservation.status == "completed"
    assert reservation.agent_call_sid == leg.sid


def test_a_voicemail_taken_for_a_person_presses_no_key_and_is_not_given_the_caller(
        center_factory):
    """Detection heard a person (a greeting sounds like one), but no key came: the agent did
    not answer, and the caller keeps their place for the next agent."""
    center = center_factory(ring_timeout=10)
    center.agent("roamer", {"billing": 2}, mobile=ROAMING, accepts=False)
    sid = center.call(TO_BILLING, "+15551110012")
    entered = wait_for(lambda: center.entry(sid), what="the caller's entry").entered_at
    wait_for(lambda: center.agent_row("roamer").state == "not-ready", what="roamer not-ready")
    assert center.agent_row("roamer").state_reason == "missed"
    [screened] = center.events("routing.screened")
    assert screened.data["answered_by"] == "human"
    wait_for(lambda: center.waiting(sid), what="the caller back in the queue")
    assert center.entry(sid).entered_at == entered
    center.agent("desk", {"billing": 2})
    assert center.ended(sid).outcome == "answered"
    assert center.answered_by(sid) == ["desk"]
    [missed, completed] = center.reservations(sid)
    assert (missed.status, missed.result) == ("missed", "not-accepted")
    [leg] = center.carrier.calls(to=ROAMING)
    assert leg.status == "completed", "hung up on after the whisper"
    assert center.carrier.errors == []


def test_a_transfer_carries_the_note_to_the_next_agent(center):
    center.agent("ann", {"billing": 3}, talk_time=600)
    center.agent("tim", {"technical": 3}, available=False)
    sid = center.call(TO_BILLING, "+15551110009")
    wait_for(lambda: center.answered_by(sid) == ["ann"], what="ann to answer")
    call_id = center.call_row(sid).id
    refused = center.api("POST", f"/api/calls/{call_id}/transfer", as_="ann",
                         json={"agent": "tim", "note": "router reboot loop"})
    assert refused.status_code == 409, "no blind transfer to an agent who is not free"
    moved = center.api("POST", f"/api/calls/{call_id}/transfer", as_="ann",
                       json={"skill": "technical", "note": "router reboot loop since Monday"})
    assert moved.status_code == 200, moved.text
    tim = center.agent_id("tim")
    center.set_state("tim", "available")
    pop = wait_for(lambda: (r := center.api("GET", f"/api/agents/{tim}/call", as_="tim"))
                   .status_code == 200 and r.json(), what="tim's screen pop")
    assert pop["transfer_note"] == "router reboot loop since Monday"
    assert any("transferred by ann" in reason for reason in pop["priority_reasons"])
    assert pop["notes"][0]["text"] == "router reboot loop since Monday"
    wait_for(lambda: center.answered_by(sid) == ["ann", "tim"], what="tim to answer")
    assert center.agent_row("ann").state in ("wrap-up", "available")


@pytest.mark.parametrize("state", ["busy", "reserved"])
def test_agents_cannot_pick_system_states(center, state):
    center.agent("ann", {"billing": 3})
    response = center.api("PUT", f"/api/agents/{center.agent_id('ann')}/state", as_="ann",
                          json={"state": state})
    assert response.status_code == 409
