"""The live stream (server-sent events): a snapshot on connect, each committed call event
after it with a fresh snapshot (and a snapshot when events may have been missed), heartbeats,
only the agent's own events on a desktop, a stop that ends the streams, the stream over real
HTTP, and a wallboard that shows what another process did (another web process, an `ivr`
command beside `ivr serve`), on both engines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from ivr import events
from ivr.console import live
from ivr.db import Database
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent
from ivr.routing.presence import set_state
from ivr.users.service import add_user

from .conftest import PASSWORD, csrf_of
from support import served_health, wait_for


def frames(response):
    """The stream's frames as (event, data) pairs; comments as ("comment", text)."""
    for chunk in response.response:
        text = chunk.decode() if isinstance(chunk, bytes) else chunk
        for block in filter(None, text.split("\n\n")):
            if block.startswith(":"):
                yield "comment", block[1:].strip()
                continue
            fields = dict(line.split(": ", 1) for line in block.splitlines())
            if "event" in fields:
                yield fields["event"], json.loads(fields["data"])


def test_the_wallboard_stream_sends_a_snapshot_then_events_and_fresh_snapshots(
    app, signed_in, people, db, clock
):
    sue = signed_in("sue")
    response = sue.get("/console/events", buffered=False)
    assert response.mimetype == "text/event-stream"
    stream = frames(response)
    kind, snapshot = next(stream)
    assert kind == "snapshot"
    assert {a["name"]: a["state"] for a in snapshot["agents"]} == {"ann": "offline",
                                                                    "ben": "offline"}
    assert {s["skill"] for s in snapshot["skills"]} >= {"billing", "technical"}
    with db.transaction() as session:
        set_state(session, agent=session.get(Agent, people["ann"]["agent_id"]),
                  state="available", now=clock.now(), by="test")
    kind, message = next(stream)
    assert (kind, message["kind"], message["data"]["state"]) == ("call-event", "agent.state",
                                                                  "available")
    kind, snapshot = next(stream)
    assert kind == "snapshot"
    assert {a["name"]: a["state"] for a in snapshot["agents"]}["ann"] == "available"
    response.close()
    assert app.extensions["ivr"].bus._subscribers == set()


def test_a_quiet_stream_sends_heartbeats(app, signed_in):
    app.config["CONSOLE_HEARTBEAT_SECONDS"] = 0.05
    response = signed_in("sue").get("/console/events", buffered=False)
    stream = frames(response)
    assert next(stream)[0] == "snapshot"
    assert next(stream) == ("comment", "heartbeat")
    response.close()


def test_a_stopping_process_ends_its_streams(app, signed_in):
    """What a stopping `ivr serve` worker does, so that no open console keeps it running."""
    response = signed_in("sue").get("/console/events", buffered=False)
    stream = frames(response)
    assert next(stream)[0] == "snapshot"
    live.end_streams(app.extensions["ivr"])
    assert list(stream) == []
    assert app.extensions["ivr"].bus._subscribers == set()


def test_a_stream_takes_a_fresh_snapshot_when_events_may_have_been_missed(
    app, signed_in, people, database_url, clock
):
    """What the relay says when it listens again after a lost connection: the change
    committed meanwhile reaches the screen by a snapshot, with no event of its own."""
    response = signed_in("sue").get("/console/events", buffered=False)
    stream = frames(response)
    assert next(stream)[0] == "snapshot"
    unheard = Database(database_url, bus=events.EventBus())  # its events reach no one here
    with unheard.transaction() as session:
        set_state(session, agent=session.get(Agent, people["ann"]["agent_id"]),
                  state="available", now=clock.now(), by="test")
    unheard.dispose()
    app.extensions["ivr"].bus.deliver(events.RESYNC)
    kind, snapshot = next(stream)
    assert kind == "snapshot"
    assert {a["name"]: a["state"] for a in snapshot["agents"]}["ann"] == "available"
    response.close()


def test_a_desktop_stream_carries_only_that_agent_events(app, signed_in, people, db, clock):
    ann = signed_in("ann")
    response = ann.get("/console/events", buffered=False)
    stream = frames(response)
    kind, snapshot = next(stream)
    assert kind == "snapshot" and snapshot["agent"]["name"] == "ann" and snapshot["call"] is None
    with db.transaction() as session:
        set_state(session, agent=session.get(Agent, people["ben"]["agent_id"]),
                  state="available", now=clock.now(), by="test")
        events.record(session, "user.signin", at=clock.now(), username="x", result="ok")
    with db.transaction() as session:
        set_state(session, agent=session.get(Agent, people["ann"]["agent_id"]),
                  state="not-ready", reason="break", now=clock.now(), by="test")
    kind, message = next(stream)
    assert message["agent_id"] == people["ann"]["agent_id"]
    assert message["data"]["reason"] == "break"
    response.close()


def ann_and_sue(service) -> tuple[int, str]:
    """ann, an agent (her id and API token), and sue, a supervisor, on `service`."""
    now = service.runtime.clock.now()
    with service.db.transaction() as session:
        agent = add_agent(session, name="ann", endpoint="client:ann", skills={"billing": 1},
                          now=now)
        _, token = add_user(session, username="ann", password=PASSWORD, role="agent", now=now,
                            agent_id=agent.id)
        add_user(session, username="sue", password=PASSWORD, role="supervisor", now=now)
        return agent.id, token


def wallboard_lines(url: str) -> Any:
    """sue signed in at `url`, and her wallboard's stream: (response, its lines)."""
    browser = requests.Session()
    form = csrf_of(browser.get(url + "/signin", timeout=10).text)
    browser.post(url + "/signin", data={"username": "sue", "password": PASSWORD,
                                        "csrf_token": form}, timeout=10)
    stream = browser.get(url + "/console/events", stream=True, timeout=10)
    return stream, stream.iter_lines(decode_unicode=True)


def next_frame(lines: Any) -> tuple[str, Any]:
    event = next(line for line in lines if line.startswith("event:"))[len("event: "):]
    return event, json.loads(next(lines)[len("data: "):])


def made_available(url: str, agent_id: int, token: str) -> None:
    answer = requests.put(f"{url}/api/agents/{agent_id}/state", json={"state": "available"},
                          headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 200


def test_the_stream_works_under_the_threaded_server(live):
    agent_id, token = ann_and_sue(live)
    stream, lines = wallboard_lines(live.url)
    with stream:
        assert next_frame(lines)[0] == "snapshot"
        made_available(live.url, agent_id, token)
        kind, data = next_frame(lines)
        assert (kind, data["kind"], data["data"]["state"]) == ("call-event", "agent.state",
                                                               "available")


def test_a_wallboard_shows_what_another_web_process_did(live_factory):
    """Two processes on one database: the agent's change made through one reaches the
    wallboard streamed by the other (on PostgreSQL the event relay, LISTEN/NOTIFY; on SQLite,
    where the other would be an `ivr` command beside `ivr serve`, the log read anew)."""
    from ivr.eventfollower import EventFollower
    from ivr.eventrelay import EventRelay

    one, other = live_factory(), live_factory()
    follows = EventFollower if other.db.is_sqlite else EventRelay
    relay = follows(other.db, other.runtime.bus)
    other.runtime.relay = relay  # stopped with the service
    relay.start()
    assert relay.listening.wait(10)
    agent_id, token = ann_and_sue(one)
    stream, lines = wallboard_lines(other.url)
    with stream:
        assert next_frame(lines)[0] == "snapshot"
        made_available(one.url, agent_id, token)
        # The follower's next look may also bring ann's creation, made before the stream.
        kind, data = next_frame(lines)
        while kind == "snapshot" or data["kind"] != "agent.state":
            kind, data = next_frame(lines)
        assert (kind, data["kind"], data["agent_id"], data["data"]["state"]) == (
            "call-event", "agent.state", agent_id, "available")
        kind, snapshot = next_frame(lines)
        assert kind == "snapshot"
        assert {a["name"]: a["state"] for a in snapshot["agents"]} == {"ann": "available"}


def test_a_wallboard_served_by_ivr_serve_shows_what_an_ivr_command_did(database_url, tmp_path):
    """`ivr agents add` run beside `ivr serve` (another process) shows on the wallboard the
    server streams, within a second or so, on either engine."""
    from conftest import free_port

    ivr = str(Path(sys.executable).parent / "ivr")
    db = Database(database_url)
    with db.transaction() as session:
        add_user(session, username="sue", password=PASSWORD, role="supervisor",
                 now=datetime.now(UTC))
    db.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IVR_")}
    env.update(IVR_DATABASE_URL=database_url, IVR_VAR_DIR=str(tmp_path / "var"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([ivr, "serve", "--host", "127.0.0.1", "--port", str(port)],
                              env=env | {"IVR_PUBLIC_URL": url}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: served_health(port), what="ivr serve to answer", timeout=60)
        stream, lines = wallboard_lines(url)
        with stream:
            assert next_frame(lines)[0] == "snapshot"
            added = subprocess.run([ivr, "agents", "add", "carol", "--skills", "billing:2"],
                                   env=env, capture_output=True, text=True, timeout=60)
            assert added.returncode == 0, added.stderr
            kind, data = next_frame(lines)
            assert (kind, data["kind"], data["data"]["skills"]) == (
                "call-event", "agent.added", {"billing": 2})
            kind, snapshot = next_frame(lines)
            assert kind == "snapshot"
            assert [a["name"] for a in snapshot["agents"]] == ["carol"]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
