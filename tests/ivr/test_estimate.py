"""What a waiting caller is told: their place among those who need any of the same skills,
how many agents could take them (staffed, and of those free), and the wait worked out from
those, on both engines."""

from __future__ import annotations

from ivr.routing.estimate import estimate, position
from ivr.routing.presence import set_state
from tests.ivr.test_router import POLICY, new_agent, new_caller


def test_the_place_and_the_agents_who_could_take_the_caller(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "ann", {"billing": 3})
        busy = new_agent(session, clock, "bob", {"billing": 2})
        set_state(session, agent=busy, state="busy", now=clock.now())
        new_agent(session, clock, "cy", {"billing": 1, "general": 1}, available=False)
        new_agent(session, clock, "dee", {"technical": 3})  # cannot take billing
        first = new_caller(session, clock, {"billing": 2})
        clock.advance(5)
        new_caller(session, clock, {"technical": 1})  # needs other skills: not ahead
        clock.advance(5)
        second = new_caller(session, clock, {"billing": 2})
        wait = estimate(session, entry=second, now=clock.now(), policy=POLICY)
        assert (wait.position, wait.eligible_agents, wait.free_agents) == (2, 2, 1)
        assert wait.position == position(session, entry=second, now=clock.now(), policy=POLICY)
        # Two ahead of one free agent and one busy: one turn of the handle time.
        assert wait.seconds == wait.handle_seconds == POLICY.default_handle_seconds
        assert estimate(session, entry=first, now=clock.now(), policy=POLICY).seconds == 0.0


def test_with_nobody_signed_in_who_could_take_the_call_no_wait_is_invented(db, clock):
    with db.transaction() as session:
        new_agent(session, clock, "dee", {"technical": 3})
        entry = new_caller(session, clock, {"billing": 1})
        wait = estimate(session, entry=entry, now=clock.now(), policy=POLICY)
        assert (wait.position, wait.eligible_agents, wait.free_agents) == (1, 0, 0)
        assert wait.seconds is None and wait.handle_seconds is None
