"""The scoring page and the agent's scores in a real browser (Debian's Chromium driven by
Playwright) against the service on a real port: the supervisor fills in the scorecard, the
agent's desktop shows the score, and a later score arrives there without reloading."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from ivr.scoring.models import CallScore

from .conftest import PASSWORD, bearer

playwright_api = pytest.importorskip("playwright.sync_api")

UI_WAIT = 20_000  # ms: how long the page may take to show what the test waits for


@pytest.fixture
def pages(live_factory, chromium) -> Iterator[Any]:
    """`open(username)`: a signed-in browser page on a live service; page errors collected."""
    live = live_factory()
    contexts, errors = [], []

    def open_as(username: str) -> Any:
        context = chromium.new_context(viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(UI_WAIT)
        page.on("pageerror", lambda error: errors.append(f"{username}: {error}"))
        page.goto(live.url + "/signin")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#signin button[type=submit]")
        page.wait_for_load_state()
        return page

    open_as.live, open_as.errors = live, errors
    yield open_as
    for context in contexts:
        context.close()


def test_a_supervisor_scores_a_call_on_the_page_and_the_agent_sees_it(
    pages, people, answered_call, db
):
    call_id = answered_call("ann")
    later_call = answered_call("ann")
    live = pages.live

    sue = pages("sue")
    sue.goto(f"{live.url}/console/scoring?call={call_id}")
    sue.wait_for_selector("#score-card:not([hidden]) input[name=score-availability]")
    assert sue.inner_text("#score-title") == f"five principles · call {call_id}"
    assert "ann" in sue.inner_text("#call-facts")
    assert sue.inner_text("#scores") == "not scored yet"
    ranges = sue.eval_on_selector_all(
        "#criteria input.score", "inputs => inputs.map(i => [i.dataset.key, i.min, i.max])")
    assert ranges == [["availability", "1", "5"], ["speed", "1", "5"], ["resolution", "0", "5"],
                      ["etiquette", "1", "5"], ["engagement", "1", "5"]]
    assert "the caller's main question went unanswered" in sue.inner_text("#criteria")
    # 0 is only for resolution: the browser itself refuses 0 for etiquette.
    sue.fill("input[name=score-etiquette]", "0")
    assert sue.eval_on_selector("input[name=score-etiquette]", "i => i.validity.rangeUnderflow")

    for key, value in (("availability", "5"), ("speed", "4"), ("resolution", "0"),
                       ("etiquette", "5"), ("engagement", "4")):
        sue.fill(f"input[name=score-{key}]", value)
    sue.fill("input[name=comment-resolution]", "never found the invoice")
    sue.fill("#score-comment", "Kind, but unsolved.")
    sue.click("#save-score")
    sue.wait_for_selector("#score-status.ok")
    assert sue.inner_text("#score-status") == "Score saved: 18/25 (72%)."
    sue.wait_for_selector("#scores li strong")
    listed = sue.inner_text("#scores")
    assert "18/25 (72%) on five principles by sue" in listed
    assert "Resolution: 0/5 — never found the invoice" in listed
    sue.wait_for_selector(f"#recent tbody a[href='?call={call_id}']")
    assert sue.inner_text("#recent tbody tr").split("\t")[:5] == [
        str(call_id), "ann", "five principles", "18/25 (72%)", "sue"]
    with db.transaction() as session:
        (stored,) = session.scalars(select(CallScore)).all()
        assert stored.items[2] == {"key": "resolution", "score": 0,
                                   "comment": "never found the invoice"}
        assert stored.comment == "Kind, but unsolved."

    ann = pages("ann")
    assert ann.url.endswith("/desktop")
    ann.wait_for_selector("#score-items li strong")
    assert f"Call {call_id}: 18/25 (72%) on five principles by sue" in ann.inner_text(
        "#score-items")
    # A score given while the desktop is open arrives with its call event.
    ann.evaluate("window.notReloaded = true")
    answer = requests.post(f"{live.url}/api/calls/{later_call}/score",
                           headers=bearer(people, "sue"), timeout=10,
                           json={"scores": {"availability": 5, "speed": 5, "resolution": 5,
                                            "etiquette": 5, "engagement": 5}})
    assert answer.status_code == 201
    ann.wait_for_function(
        f"document.getElementById('score-items').innerText.includes('Call {later_call}: 25/25')")
    assert ann.evaluate("window.notReloaded") is True
    assert pages.errors == []
