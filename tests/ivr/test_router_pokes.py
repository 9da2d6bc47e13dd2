"""The webhooks wake the router only when a match may have become possible: a caller walking
the menus or hearing their place changes nothing it looks at."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callback.models import Callback
from ivr.routing.router import sweep
from tests.ivr.test_router import POLICY, new_agent

from webhooks import Caller


class CountingDispatcher:
    def __init__(self) -> None:
        self.pokes = 0

    def poke(self) -> None:
        self.pokes += 1

    def stop(self) -> None:  # the app fixture stops the runtime's parts at the end
        pass


@pytest.fixture
def dispatcher(app) -> CountingDispatcher:
    counting = CountingDispatcher()
    app.extensions["ivr"].dispatcher = counting
    return counting


def test_menus_and_wait_polls_do_not_wake_the_router(carrier_post, dispatcher):
    caller = Caller(carrier_post)
    menu = caller.to_main_menu()
    assert dispatcher.pokes == 0
    assert caller.press(menu, "1").enqueued()
    assert dispatcher.pokes == 1, "a caller joining the queue wakes the router"
    caller.wait()
    caller.wait()
    assert dispatcher.pokes == 1


def test_the_end_of_a_call_offered_to_an_agent_wakes_the_router(carrier_post, dispatcher,
                                                                 db, clock):
    caller = Caller(carrier_post)
    caller.press(caller.to_main_menu(), "1")
    with db.transaction() as session:
        new_agent(session, clock, "ann", {"billing": 3, "general": 3})
        (reservation,) = sweep(session, now=clock.now(), policy=POLICY)
    before = dispatcher.pokes
    assert caller.status("completed", CallDuration="30").status_code == 204
    assert dispatcher.pokes > before, "the agent the caller was offered to is free again"


def test_the_end_of_a_waiting_call_wakes_the_router_for_its_follow_up(carrier_post,
                                                                       dispatcher, db):
    caller = Caller(carrier_post, "+442079460123")  # London, 10:00: a time to call them back
    caller.press(caller.to_main_menu(), "1")
    before = dispatcher.pokes
    assert caller.status("completed", CallDuration="30").status_code == 204
    assert dispatcher.pokes > before, "the follow-up's callback waits in the router now"
    with db.transaction() as session:
        callback = session.scalar(select(Callback).where(Callback.number == caller.number))
        assert (callback.kind, callback.status, callback.entry.status) == (
            "follow-up", "pending", "waiting")


def test_the_end_of_a_waiting_call_with_no_one_to_call_back_leaves_the_router_be(
        carrier_post, dispatcher):
    # No agent was the caller's, and their number cannot be dialled: the follow-up's
    # callback ends at once, and no match became possible.
    caller = Caller(carrier_post)
    caller.press(caller.to_main_menu(), "1")
    before = dispatcher.pokes
    assert caller.status("completed", CallDuration="30").status_code == 204
    assert dispatcher.pokes == before
