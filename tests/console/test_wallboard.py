"""What the wallboard and the desktop show, read from the database: waiting callers per skill
with their estimate, agents with their calls, callbacks pending, follow-ups at risk."""

from __future__ import annotations

from datetime import timedelta

from callback.models import Callback, FollowUp
from ivr.calls.models import Call, Contact
from ivr.console import wallboard
from ivr.routing import queue
from ivr.routing.models import Agent
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import set_state
from ivr.routing.router import sweep


def _caller(session, now, number, name=None):
    contact = None
    if name:
        contact = Contact(phone=number, name=name, vip=True, created_at=now)
        session.add(contact)
        session.flush()
    call = Call(sid=f"CA{number[-4:]:0>32}", from_number=number, to_number="+15005550006",
                started_at=now, status="in-progress", contact_id=contact.id if contact else None)
    session.add(call)
    session.flush()
    return call


def test_the_wallboard_shows_waits_agents_callbacks_and_follow_ups_at_risk(db, clock, people):
    policy = RoutingPolicy()
    start = clock.now()
    with db.transaction() as session:
        for number, name in (("+15551230001", "Maria Lopez"), ("+15551230002", None)):
            call = _caller(session, start, number, name)
            queue.enqueue(session, call=call, skills={"billing": 1}, priority=1,
                          reasons=["billing_queue: 1"], now=start)
            clock.advance(20)
        missed = _caller(session, start, "+15551230009")
        follow_up = FollowUp(number=missed.from_number, created_at=start,
                             due_at=start + timedelta(minutes=30),
                             escalate_at=start - timedelta(minutes=1), escalated_at=start,
                             last_missed_at=start)
        session.add(follow_up)
        session.flush()
        session.add(Callback(kind="follow-up", number=missed.from_number, call_id=missed.id,
                             follow_up_id=follow_up.id, created_at=start, status="pending"))
        set_state(session, agent=session.get(Agent, people["ben"]["agent_id"]),
                  state="available", now=start)
    clock.advance(40)
    with db.transaction() as session:
        board = wallboard.wallboard(session, now=clock.now(), policy=policy)
    billing = next(s for s in board["skills"] if s["skill"] == "billing")
    assert (billing["waiting"], billing["longest_wait_seconds"]) == (2, 80)
    first, second = billing["entries"]
    assert (first["caller"]["name"], first["caller"]["vip"], first["position"]) == (
        "Maria Lopez", True, 1)
    assert second["position"] == 2
    # ann (billing) is offline, so nobody can take a billing caller: no estimate to give.
    assert billing["estimated_wait_seconds"] is None
    assert next(s for s in board["skills"] if s["skill"] == "technical")["waiting"] == 0
    agents = {a["name"]: a for a in board["agents"]}
    assert agents["ben"]["state"] == "available" and agents["ben"]["call"] is None
    assert board["callbacks"]["pending"] == 1
    assert [f["number"] for f in board["follow_ups"]] == ["+15551230009"]
    assert board["follow_ups"][0]["seconds_left"] == 30 * 60 - 80


def test_an_agent_with_a_call_shows_it_on_the_wallboard_and_the_desktop(db, clock, people):
    ann = people["ann"]["agent_id"]
    with db.transaction() as session:
        call = _caller(session, clock.now(), "+15551230001", "Maria Lopez")
        queue.enqueue(session, call=call, skills={"billing": 1}, priority=3,
                      reasons=["billing_queue: 1", "VIP +2"], now=clock.now())
        set_state(session, agent=session.get(Agent, ann), state="available", now=clock.now())
    clock.advance(12)
    with db.transaction() as session:
        assert len(sweep(session, now=clock.now(), policy=RoutingPolicy())) == 1
    with db.transaction() as session:
        board = wallboard.wallboard(session, now=clock.now(), policy=RoutingPolicy())
        desk = wallboard.desktop(session, agent_id=ann, now=clock.now(), tz=clock.now().tzinfo)
    on_call = {a["name"]: a for a in board["agents"]}["ann"]
    assert on_call["state"] == "reserved"
    assert (on_call["call"]["status"], on_call["call"]["caller"]["name"]) == ("offered",
                                                                              "Maria Lopez")
    assert desk["agent"]["state"] == "reserved"
    assert desk["call"]["caller"]["name"] == "Maria Lopez"
    assert desk["call"]["priority_reasons"] == ["billing_queue: 1", "VIP +2"]
    assert desk["call"]["waited_seconds"] == 12
