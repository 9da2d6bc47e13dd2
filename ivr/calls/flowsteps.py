"""Applying a flow step to a call: the path it walked, its variables, its outcome, and the queue
entry when the step ends in a queue. The web layer renders the step's actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from callflows.engine import CallContext, Enqueue, Step
from ivr import events
from ivr.calls.models import Call
from ivr.calls.service import CallerInfo, extend_path
from ivr.routing import queue
from ivr.routing.models import QueueEntry

CALLER_KEYS = ("caller_name", "caller_vip", "caller_repeat")


def remember_caller(call: Call, caller: CallerInfo) -> None:
    """Keep what we learned about the caller at the first webhook for the rest of the call."""
    call.contact_id = caller.contact_id
    values = dict(call.vars)
    values["caller_name"] = caller.name or ""
    values["caller_vip"] = "yes" if caller.vip else "no"
    values["caller_repeat"] = "yes" if caller.repeat_today else "no"
    if caller.language:
        values.setdefault("language", caller.language)
    call.vars = values


def context(call: Call) -> CallContext:
    values = dict(call.vars)
    return CallContext(
        caller_number=call.from_number,
        caller_name=values.get("caller_name") or None,
        vip=values.get("caller_vip") == "yes",
        repeat_today=values.get("caller_repeat") == "yes",
        vars={k: v for k, v in values.items() if k not in CALLER_KEYS},
    )


def apply_step(session: Session, *, call: Call, step: Step, now: datetime) -> QueueEntry | None:
    """Record the step on the call (path, variables, outcome, one event per node) and create
    the queue entry if the step enqueues the caller. Returns that entry."""
    caller_values = {k: v for k, v in call.vars.items() if k in CALLER_KEYS}
    call.vars = {**step.vars, **caller_values}
    entries = [_path_entry(item) for item in step.path]
    extend_path(call, [{**entry, "at": now.isoformat()} for entry in entries])
    for entry in entries:
        events.record(session, "ivr.node", at=now, call_id=call.id, **entry)
    if entries:
        call.node = entries[-1]["node"]
    if step.outcome:
        call.outcome = step.outcome
    enqueue = next((a for a in step.actions if isinstance(a, Enqueue)), None)
    if enqueue is None:
        return None
    return queue.enqueue(
        session,
        call=call,
        skills=dict(enqueue.skills),
        priority=enqueue.priority,
        reasons=list(enqueue.reasons),
        now=now,
    )


def _path_entry(item: Any) -> dict[str, Any]:
    return {k: v for k, v in vars(item).items() if v is not None}
