"""The call-event log (append-only) and the in-process publish/subscribe that carries each
committed event to live screens. Reports and screens read the same log."""

from __future__ import annotations

import logging
import queue
import threading
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from ivr.calls.models import CallEvent

log = logging.getLogger(__name__)
PENDING = "ivr.pending_events"


def record(
    session: Session,
    kind: str,
    /,
    *,
    at: datetime,
    call_id: int | None = None,
    agent_id: int | None = None,
    **data: Any,
) -> CallEvent:
    """Append one event. It is published to live subscribers once the transaction commits."""
    event = CallEvent(kind=kind, at=at, call_id=call_id, agent_id=agent_id, data=data)
    session.add(event)
    session.info.setdefault(PENDING, []).append(event)
    return event


def pending_kinds(session: Session) -> list[str]:
    """The kinds of the events recorded in this session's transaction so far."""
    return [event.kind for event in session.info.get(PENDING, [])]


def as_message(event: CallEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "at": event.at.isoformat(),
        "call_id": event.call_id,
        "agent_id": event.agent_id,
        "data": event.data,
    }


class EventBus:
    """In-process fan-out of committed events to subscribers (one queue per subscriber)."""

    def __init__(self, *, backlog: int = 1000) -> None:
        self._listeners: list[Any] = []
        self._subscribers: set[queue.Queue[dict[str, Any]]] = set()
        self._lock = threading.Lock()
        self._backlog = backlog

    def subscribe(self) -> queue.Queue[dict[str, Any]]:
        inbox: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=self._backlog)
        with self._lock:
            self._subscribers.add(inbox)
        return inbox

    def unsubscribe(self, inbox: queue.Queue[dict[str, Any]]) -> None:
        with self._lock:
            self._subscribers.discard(inbox)

    def listen(self, listener: Any) -> None:
        """Call `listener(message)` for every committed event, in the committing thread."""
        self._listeners.append(listener)

    def publish(self, message: dict[str, Any]) -> None:
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:  # one failing listener must not stop the others or the caller
                log.exception("event listener failed on %s", message.get("kind"))
        with self._lock:
            subscribers = list(self._subscribers)
        for inbox in subscribers:
            try:
                inbox.put_nowait(message)
            except queue.Full:
                # A stalled screen must not hold up calls; it reconnects and reloads.
                log.warning("dropping a live event for a subscriber that is not reading")

    def publish_committed(self, session: Session) -> None:
        for event in session.info.pop(PENDING, []):
            self.publish(as_message(event))

    def discard(self, session: Session) -> None:
        session.info.pop(PENDING, None)
