"""The supervisor's actions on the live queue and the follow-ups, and an agent's worklist:
move a waiting caller to another skill, change their priority, hand a follow-up to an agent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from callback.models import Callback, FollowUp
from ivr.calls.models import Call, CallEvent
from ivr.routing import queue
from ivr.routing.models import Agent, QueueEntry
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep


def bearer(people, name):
    return {"Authorization": f"Bearer {people[name]['token']}"}


@pytest.fixture
def waiting(db, clock):
    """A caller waiting for billing at priority 1; returns the entry's id."""
    with db.transaction() as session:
        call = Call(sid="CA" + "5" * 32, from_number="+15551230001", to_number="+15005550006",
                    started_at=clock.now(), status="in-progress")
        session.add(call)
        session.flush()
        entry = queue.enqueue(session, call=call, skills={"billing": 2}, priority=1,
                              reasons=["billing_queue: 1"], now=clock.now())
        return entry.id


def test_a_supervisor_moves_a_waiting_caller_to_another_skill_keeping_their_place(
    client, people, waiting, db, clock
):
    with db.transaction() as session:
        entered = session.get(QueueEntry, waiting).entered_at
    clock.advance(30)
    answer = client.post(f"/api/queue/{waiting}/skill", json={"skill": "technical"},
                         headers=bearer(people, "sue"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["skills"] == {"technical": 1}
    with db.transaction() as session:
        entry = session.get(QueueEntry, waiting)
        assert (entry.skills, entry.entered_at, entry.priority) == ({"technical": 1}, entered, 1)
        moved = session.scalar(select(CallEvent).where(CallEvent.kind == "queue.moved"))
        assert moved.data["previous"] == {"billing": 2} and moved.data["by"] == "sue"
        # ben (technical 2) is now the one the router gives the caller to.
        set_state(session, agent=session.get(Agent, people["ben"]["agent_id"]),
                  state="available", now=clock.now())
    with db.transaction() as session:
        made = sweep(session, now=clock.now(), policy=RoutingPolicy())
        assert [r.agent_id for r in made] == [people["ben"]["agent_id"]]


def test_a_supervisor_raises_a_waiting_caller_priority_with_a_reason(
    client, people, waiting, db
):
    answer = client.post(f"/api/queue/{waiting}/priority",
                         json={"priority": 5, "reason": "called three times"},
                         headers=bearer(people, "sue"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["priority"] == 5
    assert body["priority_reasons"][-1] == "priority 1 → 5 by sue: called three times"
    no_reason = client.post(f"/api/queue/{waiting}/priority", json={"priority": 6, "reason": ""},
                            headers=bearer(people, "sue"))
    assert no_reason.status_code == 400


def test_queue_actions_are_for_supervisors_and_waiting_callers_only(
    client, people, waiting, db
):
    assert client.post(f"/api/queue/{waiting}/skill", json={"skill": "technical"},
                       headers=bearer(people, "ann")).status_code == 403
    assert client.post("/api/queue/999/skill", json={"skill": "technical"},
                       headers=bearer(people, "sue")).status_code == 404
    with db.transaction() as session:
        session.get(QueueEntry, waiting).status = "abandoned"
    gone = client.post(f"/api/queue/{waiting}/priority", json={"priority": 3, "reason": "x"},
                       headers=bearer(people, "sue"))
    assert gone.status_code == 409 and "abandoned" in gone.get_json()["reason"]


def test_a_follow_up_taken_over_lands_on_the_agent_worklist(client, people, db, clock):
    now = clock.now()
    with db.transaction() as session:
        call = Call(sid="CA" + "6" * 32, from_number="+15551230002", to_number="+15005550006",
                    started_at=now, status="completed")
        session.add(call)
        session.flush()
        follow_up = FollowUp(number="+15551230002", created_at=now,
                             due_at=now + timedelta(hours=3),
                             escalate_at=now + timedelta(hours=2), last_missed_at=now)
        session.add(follow_up)
        session.flush()
        session.add(Callback(kind="follow-up", number=follow_up.number, call_id=call.id,
                             follow_up_id=follow_up.id, created_at=now, status="pending"))
        follow_up_id = follow_up.id
    ann = people["ann"]["agent_id"]
    assert client.get(f"/api/agents/{ann}/worklist", headers=bearer(people, "ann")).get_json() \
        == {"follow_ups": [], "callbacks": []}
    taken = client.post(f"/api/followups/{follow_up_id}/owner", json={"agent": "ann"},
                        headers=bearer(people, "sue"))
    assert taken.status_code == 200 and taken.get_json()["owner"] == "ann"
    work = client.get(f"/api/agents/{ann}/worklist", headers=bearer(people, "ann")).get_json()
    assert [f["id"] for f in work["follow_ups"]] == [follow_up_id]
    assert [c["follow_up_id"] for c in work["callbacks"]] == [follow_up_id]
    assert client.get(f"/api/agents/{ann}/worklist",
                      headers=bearer(people, "ben")).status_code == 403
    assert client.post(f"/api/followups/{follow_up_id}/owner", json={"agent": "nobody"},
                       headers=bearer(people, "sue")).status_code == 404
