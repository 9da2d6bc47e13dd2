"""Cases with a controllable clock: priority from impact and urgency, the first-response and
resolution clocks in business hours across a night and a weekend, escalation to the owner then
the supervisor, a paused clock, the courtesy call, closing with an outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callback import service as callbacks
from callback.policy import CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call, CallEvent
from ivr.cases import service as cases
from ivr.cases.models import Case
from ivr.cases.policy import CasePolicyError, load
from ivr.routing import queue

NY = ZoneInfo("America/New_York")
CALENDAR = BusinessCalendar.from_spec(timezone="America/New_York", hours="mon-fri 08:00-18:00")
POLICY = load()


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def new_call(session, at: datetime, number: str = "+12125550123", topic: str = "billing"):
    call = Call(sid=f"CA{int(at.timestamp()):032x}", from_number=number,
                to_number="+15005550006", started_at=at, path=[], vars={"topic": topic})
    session.add(call)
    session.flush()
    return call


def open_at(session, at: datetime, **kwargs) -> Case:
    call = new_call(session, at, **{k: kwargs.pop(k) for k in ("number", "topic")
                                   if k in kwargs})
    return cases.open_case(session, call=call, subject=call.vars["topic"], skill="billing",
                           now=at, calendar=CALENDAR, policy=POLICY, **kwargs)


@pytest.mark.parametrize(("impact", "urgency", "priority"), [
    ("one person", "can wait", "P4"), ("one person", "blocks work", "P3"),
    ("a team", "blocks work", "P2"), ("everyone", "outage", "P1"),
])
def test_priority_follows_impact_and_urgency(impact, urgency, priority):
    assert POLICY.priority(impact, urgency) == priority


def test_the_ivr_choice_and_a_vip_set_the_defaults():
    assert POLICY.defaults_for(topic="outage", vip=False) == ("a team", "outage")
    assert POLICY.defaults_for(topic="billing", vip=False) == ("one person", "blocks work")
    assert POLICY.priority(*POLICY.defaults_for(topic="billing", vip=False)) == "P3"


def test_case_numbers_are_six_digits_a_person_can_key(db):
    with db.transaction() as session:
        numbers = {open_at(session, ny(2026, 11, 23, 10, n)).number for n in range(20)}
    assert len(numbers) == 20
    assert all(len(n) == 6 and n.isdigit() and n[0] != "0" for n in numbers)


def test_a_case_number_already_taken_is_drawn_again(db, monkeypatch):
    with db.transaction() as session:
        taken = open_at(session, ny(2026, 11, 23, 9, 0)).number
    draws = iter([int(taken) - 100000, 123456 - 100000])
    monkeypatch.setattr(cases.secrets, "randbelow", lambda _n: next(draws))
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 5))
        assert case.number == "123456"
    with db.transaction() as session:
        assert session.scalars(select(Case.number).order_by(Case.id)).all() == [taken, "123456"]


def test_when_every_draw_is_taken_the_case_is_refused_with_the_reason(db, monkeypatch):
    with db.transaction() as session:
        taken = open_at(session, ny(2026, 11, 23, 9, 0)).number
    monkeypatch.setattr(cases.secrets, "randbelow", lambda _n: int(taken) - 100000)
    with pytest.raises(cases.CaseError, match="no free case number"):
        with db.transaction() as session:
            open_at(session, ny(2026, 11, 23, 9, 5))
    with db.transaction() as session:
        assert session.scalars(select(Case.number)).all() == [taken]  # nothing half-written


def test_clocks_count_business_hours_across_a_night(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 19, 17, 0))  # Thursday 17:00, P3
        assert case.clock("response").target_at == ny(2026, 11, 20, 10, 0)  # 1h + 2h Friday
        assert case.clock("resolution").target_at == ny(2026, 11, 20, 15, 0)  # 1h + 7h
        assert case.clock("courtesy").target_at == ny(2026, 11, 20, 11, 0)


def test_clocks_count_business_hours_across_a_weekend(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 20, 16, 0))  # Friday 16:00
        assert case.clock("response").target_at == ny(2026, 11, 23, 9, 0)  # 2h Fri + 1h Mon
        assert case.clock("resolution").target_at == ny(2026, 11, 23, 14, 0)


def test_first_response_in_time_meets_the_clock(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 0))
        cases.first_response(session, case=case, now=ny(2026, 11, 23, 10, 0), agent_id=None)
        assert case.clock("response").state == "met"
        assert case.status == "in-progress"


def test_near_the_threshold_the_owner_is_told_then_past_it_the_supervisor(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 0))  # respond by 12:00, warn at 11:24
        call_id = session.scalar(select(Call.id))
        entry = queue.enqueue(session, call=session.get(Call, call_id), skills={"billing": 1},
                              priority=1, reasons=[], now=ny(2026, 11, 23, 9, 0))
        assert cases.escalate_due(session, now=ny(2026, 11, 23, 11, 23), policy=POLICY) == []
        first = cases.escalate_due(session, now=ny(2026, 11, 23, 11, 24), policy=POLICY)
        assert first == [{"case": case.number, "clock": "response", "level": 1,
                          "notify": "owner"}]
        assert entry.priority == 1
        second = cases.escalate_due(session, now=ny(2026, 11, 23, 12, 0), policy=POLICY)
        assert second == [{"case": case.number, "clock": "response", "level": 2,
                           "notify": "supervisor"}]
        assert entry.priority == POLICY.router_priority["P3"] + 1, "raised in the router"
        assert cases.escalate_due(session, now=ny(2026, 11, 23, 13, 0), policy=POLICY) == []
        levels = [e.data["level"] for e in session.scalars(
            select(CallEvent).where(CallEvent.kind == "case.escalated"))]
        assert levels == [1, 2]


def test_waiting_on_the_customer_pauses_the_resolution_clock(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 0))  # resolve by 17:00 Monday
        resolution = case.clock("resolution")
        cases.set_status(session, case=case, status="waiting-on-customer",
                         now=ny(2026, 11, 23, 11, 0), by="ann", calendar=CALENDAR,
                         policy=POLICY)
        assert resolution.state == "paused"
        assert resolution.remaining_seconds == 6 * 3600
        # Paused clocks do not escalate, however late it gets.
        assert cases.escalate_due(session, now=ny(2026, 11, 24, 9, 0), policy=POLICY) == [
            {"case": case.number, "clock": "response", "level": 1, "notify": "owner"},
            {"case": case.number, "clock": "response", "level": 2, "notify": "supervisor"},
        ]
        cases.set_status(session, case=case, status="in-progress",
                         now=ny(2026, 11, 24, 10, 0), by="customer replied", calendar=CALENDAR,
                         policy=POLICY)
        assert resolution.state == "running"
        assert resolution.target_at == ny(2026, 11, 24, 16, 0)  # the 6 hours left, from 10:00
        changes = [e.data["change"] for e in session.scalars(
            select(CallEvent).where(CallEvent.kind == "case.clock",
                                    CallEvent.data["clock"].as_string() == "resolution"))]
        assert changes == ["started", "paused", "resumed"]


def test_a_case_still_open_after_four_hours_gets_a_courtesy_call(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 0))
        done = open_at(session, ny(2026, 11, 23, 9, 5), number="+12125550124")
        cases.set_status(session, case=done, status="resolved", now=ny(2026, 11, 23, 10, 0),
                         by="ann", calendar=CALENDAR, policy=POLICY)
        assert cases.courtesy_due(session, now=ny(2026, 11, 23, 12, 59)) == []
        due = cases.courtesy_due(session, now=ny(2026, 11, 23, 13, 5))
        assert due == [case]
        assert cases.courtesy_due(session, now=ny(2026, 11, 23, 14, 0)) == [], "once"
        callback = callbacks.courtesy_callback(
            session, call_id=session.scalar(select(Call.id)), number=case.caller_number,
            skills={case.owner_skill: 1}, priority=POLICY.router_priority[case.priority],
            reason=f"courtesy call for case {case.number}", now=ny(2026, 11, 23, 13, 5),
            policy=CallbackPolicy())
        assert (callback.kind, callback.number) == ("courtesy", case.caller_number)


def test_a_priority_change_needs_a_reason_and_moves_the_clocks(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 0))
        with pytest.raises(cases.CaseError, match="reason"):
            cases.change_priority(session, case=case, impact="everyone", urgency="outage",
                                  reason=" ", by="ann", now=ny(2026, 11, 23, 9, 30),
                                  calendar=CALENDAR, policy=POLICY)
        cases.change_priority(session, case=case, impact="everyone", urgency="outage",
                              reason="the whole office is down", by="ann",
                              now=ny(2026, 11, 23, 9, 30), calendar=CALENDAR, policy=POLICY)
        assert case.priority == "P1"
        assert case.clock("response").target_at == ny(2026, 11, 23, 10, 0)
        changed = session.scalar(select(CallEvent).where(
            CallEvent.kind == "case.priority_changed"))
        assert changed.data["reason"] == "the whole office is down"


def test_closing_takes_an_outcome_from_the_list(db):
    with db.transaction() as session:
        case = open_at(session, ny(2026, 11, 23, 9, 0))
        with pytest.raises(cases.CaseError, match="outcome must be one of"):
            cases.close(session, case=case, outcome="magic", first_contact=True,
                        now=ny(2026, 11, 23, 9, 30), by="ann", policy=POLICY)
        cases.close(session, case=case, outcome="information given", first_contact=True,
                    now=ny(2026, 11, 23, 9, 30), by="ann", policy=POLICY)
        assert (case.status, case.outcome, case.first_contact_resolution) == (
            "closed", "information given", True)
        assert cases.within_service_level(case) is True


def test_a_second_call_on_the_same_subject_joins_the_open_case(db):
    with db.transaction() as session:
        first = open_at(session, ny(2026, 11, 23, 9, 0))
        again = new_call(session, ny(2026, 11, 23, 11, 0))
        joined, opened = cases.open_or_join(session, call=again, subject="billing",
                                            skill="billing", now=ny(2026, 11, 23, 11, 0),
                                            calendar=CALENDAR, policy=POLICY)
        assert (joined.id, opened) == (first.id, False)
        # Asked again, the call has its case, whatever the subject.
        same, opened = cases.open_or_join(session, call=again, subject="technical",
                                          skill="technical", now=ny(2026, 11, 23, 11, 1),
                                          calendar=CALENDAR, policy=POLICY)
        assert (same.id, opened) == (first.id, False)
        other = new_call(session, ny(2026, 11, 23, 12, 0), topic="technical")
        separate, opened = cases.open_or_join(session, call=other, subject="technical",
                                              skill="technical", now=ny(2026, 11, 23, 12, 0),
                                              calendar=CALENDAR, policy=POLICY)
        assert opened and separate.id != first.id
        moved = cases.move_call(session, call=other, to=first, now=ny(2026, 11, 23, 12, 5),
                                calendar=CALENDAR, policy=POLICY, by="ann")
        assert moved.id == first.id


def test_a_broken_case_policy_names_the_file_and_field(tmp_path):
    path = tmp_path / "policy.yaml"
    text = open(load().source).read().replace("can wait: P4,", "can wait: P9,")
    assert "P9" in text
    path.write_text(text)
    with pytest.raises(CasePolicyError, match=r"policy.yaml:\d+: unknown priority 'P9'"):
        load(path)


def test_the_monthly_report_agrees_with_the_cases_in_the_database(db):
    from ivr.cases.reports import cases_report

    outcomes = list(POLICY.outcomes)
    with db.transaction() as session:
        made = []
        for n in range(30):
            opened = ny(2026, 11, 2, 9, 0) + timedelta(days=n % 25, minutes=n)
            case = open_at(session, opened, number=f"+1212555{n:04d}",
                           topic=("billing", "technical", "outage")[n % 3])
            if n % 4 != 3:
                closed_at = opened + timedelta(hours=1 + (n % 10))
                cases.close(session, case=case, outcome=outcomes[n % len(outcomes)],
                            first_contact=n % 2 == 0, now=closed_at, by="ann", policy=POLICY)
            made.append(case)
        report = cases_report(session, month="2026-11", tz=CALENDAR.tz)
        closed = [c for c in made if c.closed_at is not None
                  and c.closed_at.astimezone(NY).month == 11]
        assert report["opened"] == 30
        assert report["closed"] == len(closed)
        for category in ("billing", "technical", "outage"):
            expected = {}
            for c in closed:
                if c.subject == category:
                    expected[c.outcome] = expected.get(c.outcome, 0) + 1
            assert report["closed_by_category_and_outcome"].get(category, {}) == expected
        fcr = sum(1 for c in closed if c.first_contact_resolution)
        assert report["first_contact_resolution_rate"] == round(fcr / len(closed), 4)
        in_level = sum(1 for c in closed if cases.within_service_level(c))
        assert report["within_service_level_rate"] == round(in_level / len(closed), 4)
        assert report["still_open"] == sum(1 for c in made if c.is_open)
        with pytest.raises(ValueError, match="YYYY-MM"):
            cases_report(session, month="November", tz=CALENDAR.tz)
