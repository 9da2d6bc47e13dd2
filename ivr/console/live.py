"""The live screens' one push channel: server-sent events at GET /console/events.

Each open stream subscribes to the EventBus (committed call events, in this process), sends a
snapshot of what its screen shows as soon as it opens, then every call event it may see and,
after each burst of events, a fresh snapshot (at most one every SNAPSHOT_INTERVAL seconds, so
a busy minute costs a few queries a second per screen, not one per event); a fresh snapshot
too when the bus says events committed elsewhere may have been missed (`RESYNC`). A
comment line is sent every heartbeat, which also notices a closed browser (the write fails)
and ends the stream. Every thread of the threaded server can hold a stream; nothing here
needs the request once the stream has started. A stopping process ends its streams
(`end_streams`); the browsers reconnect.

Views: `wallboard` (supervisors and admins: every event), `desktop` (one agent's state and
call: the agent themselves, or a supervisor watching; only that agent's events)."""

from __future__ import annotations

import json
import logging
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from ivr.console import wallboard
from ivr.console.security import signed_in
from ivr.events import RESYNC
from ivr.routing.models import Agent
from ivr.runtime import Runtime, current

bp = Blueprint("console_live", __name__)
log = logging.getLogger(__name__)

SNAPSHOT_INTERVAL = 0.25
BURST_SECONDS = 0.05
# Events nobody watches on these screens (sign-ins are for the audit trail).
PRIVATE_KINDS = ("user.",)
# Handed to every stream of a process to end it (compared by identity, never sent).
END: dict[str, Any] = {"kind": "stream.end"}


@dataclass
class Feed:
    """What one screen is sent: its snapshot and the events it may see."""

    rt: Runtime
    view: str
    agent_id: int | None = None
    call_ids: set[int] = field(default_factory=set)

    def snapshot(self) -> dict[str, Any]:
        rt = self.rt
        with rt.db.transaction() as session:
            now = rt.clock.now()
            if self.view == "wallboard":
                return wallboard.wallboard(session, now=now, policy=rt.policy)
            shown = wallboard.desktop(session, agent_id=self.agent_id, now=now, tz=rt.calendar.tz)
        self.call_ids = {shown["call"]["call_id"]} if shown["call"] else set()
        return shown

    def wants(self, message: dict[str, Any]) -> bool:
        if str(message.get("kind", "")).startswith(PRIVATE_KINDS):
            return False
        if self.view == "wallboard":
            return True
        return message.get("agent_id") == self.agent_id or message.get("call_id") in self.call_ids


def frame(event: str, data: Any, *, event_id: Any = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines.extend(f"data: {line}" for line in json.dumps(data, default=str).splitlines())
    return "\n".join(lines) + "\n\n"


def stream(feed: Feed, *, heartbeat: float) -> Iterator[str]:
    """The stream's text: retry hint, snapshot, then events and snapshots, heartbeats."""
    bus = feed.rt.bus
    inbox = bus.subscribe()  # before the snapshot: nothing committed after it is missed
    try:
        yield "retry: 2000\n\n"
        yield frame("snapshot", feed.snapshot())
        last_snapshot = time.monotonic()
        while True:
            try:
                batch = [inbox.get(timeout=heartbeat)]
            except queue.Empty:
                yield ": heartbeat\n\n"
                continue
            # One snapshot for a burst: wait a moment for the events committed with this one.
            until = max(time.monotonic() + BURST_SECONDS, last_snapshot + SNAPSHOT_INTERVAL)
            while (left := until - time.monotonic()) > 0 and batch[-1] is not END:
                try:
                    batch.append(inbox.get(timeout=left))
                except queue.Empty:
                    break
            if batch[-1] is END:
                return
            shown = [message for message in batch
                     if message is not RESYNC and feed.wants(message)]
            for message in shown:
                yield frame("call-event", message, event_id=message.get("id"))
            if shown or any(message is RESYNC for message in batch):
                yield frame("snapshot", feed.snapshot())
                last_snapshot = time.monotonic()
    finally:
        bus.unsubscribe(inbox)


def end_streams(rt: Runtime) -> None:
    """End every stream this process serves, at once: a stopping server would otherwise wait
    for them (they never end on their own) and keep their threads."""
    rt.bus.deliver(END)


@bp.get("/console/events")
def events() -> Response:
    user = signed_in()
    if user is None:
        abort(401, description="sign in at /signin first")
    view = request.args.get("view") or ("desktop" if user.role == "agent" else "wallboard")
    agent_id = None
    if view == "wallboard":
        if not user.supervising:
            abort(403, description="the wallboard is for supervisors")
    elif view == "desktop":
        raw = request.args.get("agent")
        agent_id = int(raw) if raw and raw.isdigit() else user.agent_id
        if agent_id is None:
            abort(400, description="which agent? (?agent=ID)")
        if not user.supervising and agent_id != user.agent_id:
            abort(403, description="agents see only their own desktop")
        with current().db.transaction() as session:
            if session.get(Agent, agent_id) is None:
                abort(404, description=f"no agent {agent_id}")
    else:
        abort(400, description="view is wallboard or desktop")
    feed = Feed(current(), view, agent_id)
    heartbeat = float(current_app.config.get("CONSOLE_HEARTBEAT_SECONDS", 15.0))
    return Response(
        stream(feed, heartbeat=heartbeat),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
