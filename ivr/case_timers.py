"""The cases' timers: service-level clocks warn the owner and tell the supervisor when they
pass, open cases get their courtesy call, held texts are sent when the customer's hours
allow. A stored one-off job for the clocks due in each minute, and a sweep with the
callbacks'."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from callback import service as callbacks
from ivr import casework, jobs
from ivr.cases import service as cases
from ivr.cases.models import CaseCall
from ivr.runtime import Runtime

log = logging.getLogger(__name__)


def escalate_cases(by: str = "sweep") -> None:
    rt = jobs.runtime()
    # run, not transaction: an entry of the case the router reserved meanwhile (its version
    # moved on) is looked at again rather than failing the sweep.
    escalated = rt.db.run(
        lambda session: cases.escalate_due(session, now=rt.clock.now(), policy=rt.cases))
    if escalated:
        log.warning("cases escalated (%s): %s", by,
                    ", ".join(f"{e['case']} {e['clock']} to {e['notify']}" for e in escalated))
        rt.poke_router()


def courtesy_calls(by: str = "sweep") -> None:
    """Open cases past their courtesy time: a callback to tell the customer where it stands."""
    rt = jobs.runtime()
    now = rt.clock.now()

    def work(session) -> None:
        for case in cases.courtesy_due(session, now=now):
            last_call = session.scalar(select(CaseCall.call_id).where(CaseCall.case_id == case.id)
                                       .order_by(CaseCall.at.desc()))
            if last_call is None or case.caller_number == "incident":
                continue
            callbacks.courtesy_callback(
                session, call_id=last_call, number=case.caller_number,
                skills={case.owner_skill: 1}, priority=rt.cases.router_priority[case.priority],
                reason=f"courtesy call for case {case.number}", now=now, policy=rt.callbacks)
        callbacks.activate_due(session, now=now, calendar=rt.calendar, policy=rt.callbacks,
                               by=by)

    rt.db.run(work)
    rt.poke_router()


def send_texts(by: str = "sweep") -> None:
    rt = jobs.runtime()
    sent = casework.send_due_texts(rt)
    if sent:
        log.info("sent %d held texts (%s)", sent, by)


def sweep() -> None:
    escalate_cases()
    courtesy_calls()
    send_texts()


def ensure(scheduler: Any) -> None:
    from ivr.callback_timers import SWEEP_EVERY

    scheduler.add_job(sweep, "interval", seconds=SWEEP_EVERY.total_seconds(), id="case_sweep",
                      replace_existing=True)


def on_event(rt: Runtime, message: dict[str, Any]) -> None:
    from ivr.callback_timers import schedule_shared

    kind, data = message["kind"], message.get("data") or {}
    if kind == "case.clock" and data.get("target_at") and data.get("change") in (
            "started", "resumed", "retargeted"):
        at = datetime.fromisoformat(data["target_at"])
        if data.get("clock") == "courtesy":
            schedule_shared(rt, kind="cases-courtesy", func=courtesy_calls, at=at)
        else:
            schedule_shared(rt, kind="cases-escalate", func=escalate_cases, at=at)
    elif kind == "text.queued" and data.get("status") == "held" and (
            datetime.fromisoformat(data["send_after"]) <= rt.clock.now()):
        rt.poke_router()  # the dispatcher sends texts that are due (later ones in its rounds)
