"""The case timers as the scheduler runs them (ivr.case_timers), on the service's runtime:
each sweep's work is one `Database.run`, done again if a row it read changed meanwhile."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from callback.models import Callback
from ivr import case_timers, jobs
from ivr.calls.models import Call, CallEvent
from ivr.cases import service as cases


def open_case_now(rt, session):
    now = rt.clock.now()
    call = Call(sid="CA" + "c" * 32, from_number="+12125550123", to_number="+15005550006",
                started_at=now, path=[], vars={"topic": "billing"})
    session.add(call)
    session.flush()
    return cases.open_case(session, call=call, subject="billing", skill="billing", now=now,
                           calendar=rt.calendar, policy=rt.cases)


def past_a_clock(app, monkeypatch, kind):
    """A case just opened on the service's runtime, the clock set a minute past its `kind`
    clock's target, the timers given that runtime. Returns the case's number."""
    rt = app.extensions["ivr"]
    monkeypatch.setattr(jobs, "_runtime", rt)
    with rt.db.transaction() as session:
        case = open_case_now(rt, session)
        target_at, number = case.clock(kind).target_at, case.number
    rt.clock.set(target_at + timedelta(minutes=1))
    return number


def test_a_case_past_its_courtesy_time_gets_its_callback_from_the_timer(app, db, monkeypatch):
    number = past_a_clock(app, monkeypatch, "courtesy")

    case_timers.courtesy_calls()
    case_timers.courtesy_calls()  # once: the clock stopped

    with db.transaction() as session:
        made = session.scalars(select(Callback).where(Callback.kind == "courtesy")).all()
        assert [(c.number, c.reason) for c in made] == [
            ("+12125550123", f"courtesy call for case {number}")]


def test_the_escalation_timer_records_each_clock_it_escalates(app, db, monkeypatch):
    past_a_clock(app, monkeypatch, "response")

    case_timers.escalate_cases()

    with db.transaction() as session:
        kinds = session.scalars(select(CallEvent.kind).where(
            CallEvent.kind.like("case.%"))).all()
    assert "case.escalated" in kinds, kinds
