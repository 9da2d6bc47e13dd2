"""A call through the offline carrier over real HTTP, answered by an agent on a softphone, then
scored by a supervisor: the score belongs to the agent who answered, and they see it."""

from __future__ import annotations

import requests
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from ivr.routing.agents import add_agent
from ivr.routing.presence import set_state
from ivr.sim import CallerScript, Device
from ivr.users.service import add_user

from support import wait_for


def test_a_call_answered_through_the_carrier_is_scored_for_its_agent(live):
    rt = live.runtime
    with live.db.transaction() as session:
        alice = add_agent(session, name="alice", endpoint="client:alice",
                          skills={"billing": 2}, now=rt.clock.now())
        set_state(session, agent=alice, state="available", now=rt.clock.now())
        alice_id = alice.id
        _, alice_token = add_user(session, username="alice", password="pw-123", role="agent",
                                  now=rt.clock.now(), agent_id=alice_id)
        _, sam_token = add_user(session, username="sam", password="pw-123", role="supervisor",
                                now=rt.clock.now())
    live.carrier.set_device(Device("alice", mode="auto", answer_after=1, talk_time=5))
    sid = live.carrier.place_call("+15551239999",
                                  caller=CallerScript(answers=["1", None, "billing"]))

    def ended():
        with live.db.transaction() as session:
            call = session.scalar(select(Call).where(Call.sid == sid))
            return call if call is not None and call.status == "completed" else None

    call = wait_for(ended, timeout=60, what="the call to end")
    assert call.outcome == "answered"

    def api(method: str, path: str, token: str, **kwargs):
        return requests.request(method, live.url + path, timeout=10,
                                headers={"Authorization": f"Bearer {token}"}, **kwargs)

    body = {"scorecard": "five principles",
            "scores": {"availability": 5, "speed": 5, "resolution": 4, "etiquette": 5,
                       "engagement": 4},
            "comments": {"resolution": "a second call may be needed"},
            "comment": "Warm and quick."}
    assert api("POST", f"/api/calls/{call.id}/score", alice_token, json=body).status_code == 403
    scored = api("POST", f"/api/calls/{call.id}/score", sam_token, json=body)
    assert scored.status_code == 201, scored.text
    assert (scored.json()["agent"], scored.json()["total"], scored.json()["percent"]) == (
        "alice", 23, 92.0)

    mine = api("GET", "/api/scores", alice_token).json()["scores"]
    assert [(s["call_id"], s["scored_by"], s["comment"]) for s in mine] == [
        (call.id, "sam", "Warm and quick.")]
    with live.db.transaction() as session:
        event = session.scalar(select(CallEvent).where(CallEvent.kind == "call.scored"))
        assert (event.call_id, event.agent_id, event.data["by"]) == (call.id, alice_id, "sam")
    assert live.carrier.errors == []
