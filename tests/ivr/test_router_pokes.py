"""The webhooks wake the router only when a match may have become possible: a caller walking
the menus or hearing their place changes nothing it looks at."""

from __future__ import annotations

import pytest

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


def test_the_end_of_a_queued_call_wakes_the_router(carrier_post, dispatcher):
    caller = Caller(carrier_post)
    caller.press(caller.to_main_menu(), "1")
    before = dispatcher.pokes
    assert caller.status("completed", CallDuration="30").status_code == 204
    assert dispatcher.pokes > before, "an agent may have been freed by the call's end"
