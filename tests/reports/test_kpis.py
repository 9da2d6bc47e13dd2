"""Each KPI with exact numbers, from calls made through the domain functions with a manual
clock (tests/reports/conftest.py: a_monday), grouped per day, week and month, per skill and per
agent, and a day boundary in a timezone that is not UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.reports.kpis import KpiError, kpi_report, period_of
from ivr.reports.policy import ReportPolicy

from .conftest import MONDAY, Center

POLICY = ReportPolicy(categories=("billing question", "payment problem", "technical fault",
                                  "other"))
UTC_TZ = ZoneInfo("UTC")
DAY = MONDAY.date()


def report(db, **kwargs):
    kwargs.setdefault("first", DAY)
    kwargs.setdefault("last", kwargs["first"])
    kwargs.setdefault("tz", UTC_TZ)
    kwargs.setdefault("policy", POLICY)
    with db.transaction() as session:
        return kpi_report(session, **kwargs)


MONDAY_TOTALS = {
    "offered": 8,
    "answered": 4,  # c1, c2, c3, c6; c7's callback is not a caller answered while waiting
    "abandoned": 1,  # c4 after 40 s
    "short_abandoned": 1,  # c5 after 3 s
    "abandon_rate": 0.2,  # 1 / (4 + 1)
    "answered_within_service_level": 3,  # 10, 5 and 4 s; not 25 s
    "service_level": 0.6,  # 3 / (4 + 1)
    "average_speed_of_answer": 11.0,  # (10 + 25 + 5 + 4) / 4: c3's first answer
    "handled": 5,  # c3 twice: ben's part and ann's
    "average_handle_time": 90.0,  # (150 + 80 + 110 + 80 + 30) / 5
    "average_talk_time": 72.0,  # (120 + 60 + 100 + 50 + 30) / 5
    "average_hold_time": 0.0,
    "average_wrap_up_time": 18.0,  # (30 + 20 + 10 + 30 + 0) / 5
    "longest_wait": 40.0,
    "missed": 2,  # c4, c5
    "missed_rate": 0.25,
    "follow_ups": 2,  # +..04 and +..05
    "followed_up_same_day": 1,  # +..05 phoned again and was answered
    "not_followed_up_same_day": 1,
    "not_followed_up_same_day_rate": 0.5,
    "callbacks_offered": 1,
    "callbacks_accepted": 1,
    "callbacks_completed": 1,
    "transfers": 1,
    "repeat_callers": 1,  # c1's caller phoned again on Wednesday
    "first_contact_resolution": 0.75,
    "calls_by_category": {"billing question": 1, "payment problem": 1, "technical fault": 1,
                          "other": 0},
}


def test_each_kpi_of_the_day(db, monday):
    figures = report(db, with_targets=False)
    totals = figures["totals"]
    assert {k: totals[k] for k in MONDAY_TOTALS} == MONDAY_TOTALS
    assert totals["off_target"] == []
    assert [k["name"] for k in figures["kpis"]] == [k for k in MONDAY_TOTALS
                                                    if k != "calls_by_category"]
    assert figures["periods"] == [{"period": "2026-11-23", "from": "2026-11-23",
                                   "to": "2026-11-23", **totals}]
    assert figures["rules"]["service_level_seconds"] == 20


def test_per_skill_the_calls_that_queued_for_it(db, monday):
    skills = {row["skill"]: row for row in report(db, with_targets=False)["skills"]}
    assert list(skills) == ["billing", "general", "technical"]
    billing, general, technical = skills["billing"], skills["general"], skills["technical"]
    assert (billing["offered"], billing["answered"], billing["abandoned"]) == (4, 3, 0)
    assert billing["service_level"] == 0.6667  # 10 and 4 s of 10, 25, 4
    assert billing["callbacks_accepted"] == 1 and billing["transfers"] == 0
    assert (general["offered"], general["answered"], general["abandoned"],
            general["short_abandoned"], general["service_level"]) == (2, 0, 1, 1, 0.0)
    assert (technical["offered"], technical["answered"], technical["transfers"],
            technical["average_speed_of_answer"], technical["handled"]) == (1, 1, 1, 5.0, 2)
    assert billing["follow_ups"] is None  # follow-ups belong to numbers, not to skills
    filtered = report(db, skill="billing", with_targets=False)
    assert filtered["totals"] == {k: v for k, v in billing.items() if k != "skill"}
    assert filtered["filters"]["skill"] == "billing"


def test_per_agent_the_calls_they_answered_and_their_own_part(db, monday):
    agents = {row["agent"]: row for row in report(db, with_targets=False)["agents"]}
    ann, ben = agents["ann"], agents["ben"]
    assert (ann["offered"], ann["answered"], ann["abandoned"]) == (4, 4, 0)
    assert ann["average_speed_of_answer"] == 39.75  # (10 + 25 + 120 + 4) / 4: to her answer
    assert ann["service_level"] == 0.5
    assert (ann["handled"], ann["average_handle_time"]) == (4, 85.0)  # 150, 80, 80, 30
    assert ann["transfers"] == 0
    assert ann["calls_by_category"]["technical fault"] == 1
    assert (ben["offered"], ben["handled"], ben["average_handle_time"], ben["transfers"]) == \
        (1, 1, 110.0, 1)
    assert ben["calls_by_category"]["technical fault"] == 0  # ann wrapped it up, not ben
    filtered = report(db, agent_id=monday["ben"], with_targets=False)
    assert filtered["totals"] == {k: v for k, v in ben.items() if k not in ("agent", "agent_id")}
    assert [row["agent"] for row in filtered["agents"]] == ["ben"]
    assert filtered["filters"]["agent"] == "ben"


def test_a_wrap_up_still_running_counts_up_to_now(db, clock):
    with db.transaction() as session:
        center = Center(session, clock)
        center.at(MONDAY.replace(hour=9))
        ann = center.agent("ann", {"billing": 1})
        call, entry = center.arrive("+15550000001", "billing")
        center.wait(2)
        center.answer(entry, ann)
        center.wait(40)
        center.hang_up(call)
    now = MONDAY.replace(hour=9, second=57)  # 15 s into the wrap-up
    totals = report(db, now=now, with_targets=False)["totals"]
    assert (totals["average_talk_time"], totals["average_wrap_up_time"],
            totals["average_handle_time"]) == (40.0, 15.0, 55.0)


def test_days_weeks_and_months(db, monday):
    days = report(db, first=DAY, last=date(2026, 11, 25), with_targets=False)
    assert [(p["period"], p["offered"], p["answered"]) for p in days["periods"]] == [
        ("2026-11-23", 8, 4), ("2026-11-24", 0, 0), ("2026-11-25", 1, 1)]
    assert days["periods"][1]["service_level"] is None
    assert days["totals"]["offered"] == 9 and days["totals"]["repeat_callers"] == 1
    weeks = report(db, first=date(2026, 11, 20), last=date(2026, 12, 2), period="week",
                   with_targets=False)
    assert [(p["period"], p["from"], p["to"], p["offered"]) for p in weeks["periods"]] == [
        ("2026-W47", "2026-11-20", "2026-11-22", 0),
        ("2026-W48", "2026-11-23", "2026-11-29", 9),
        ("2026-W49", "2026-11-30", "2026-12-02", 0)]
    assert weeks["periods"][1]["follow_ups"] == 2
    months = report(db, first=date(2026, 11, 1), last=date(2026, 12, 31), period="month",
                    with_targets=False)
    assert [(p["period"], p["offered"]) for p in months["periods"]] == [("2026-11", 9),
                                                                         ("2026-12", 0)]


def test_a_call_belongs_to_the_business_day_of_the_timezone(db, clock):
    """New York is UTC-5 in November: 04:30 UTC on the 30th is still the 29th there."""
    tz = ZoneInfo("America/New_York")
    calendar = BusinessCalendar.from_spec(timezone="America/New_York", hours="always")
    with db.transaction() as session:
        center = Center(session, clock, calendar)
        for n, moment in enumerate([datetime(2026, 11, 30, 4, 30, tzinfo=UTC),  # Sun 23:30
                                    datetime(2026, 12, 1, 4, 59, tzinfo=UTC),  # Mon 23:59
                                    datetime(2026, 12, 1, 5, 10, tzinfo=UTC)]):  # Tue 00:10
            center.at(moment)
            call, _ = center.arrive(f"+1555000010{n}", None)
            center.wait(5)
            center.hang_up(call)
    span = {"first": date(2026, 11, 29), "last": date(2026, 12, 1), "tz": tz,
            "with_targets": False}
    by_day = report(db, **span)
    assert [(p["period"], p["offered"]) for p in by_day["periods"]] == [
        ("2026-11-29", 1), ("2026-11-30", 1), ("2026-12-01", 1)]
    assert by_day["timezone"] == "America/New_York"
    by_week = report(db, period="week", **span)
    assert [(p["period"], p["offered"]) for p in by_week["periods"]] == [("2026-W48", 1),
                                                                         ("2026-W49", 2)]
    by_month = report(db, period="month", **span)
    assert [(p["period"], p["offered"]) for p in by_month["periods"]] == [("2026-11", 2),
                                                                          ("2026-12", 1)]
    in_utc = report(db, first=date(2026, 11, 29), last=date(2026, 12, 1), with_targets=False)
    assert [p["offered"] for p in in_utc["periods"]] == [0, 1, 2]


def test_short_abandons_and_the_service_level_follow_the_policy(db, monday):
    strict = ReportPolicy(categories=POLICY.categories, service_level_seconds=5,
                          short_abandon_seconds=0)
    totals = report(db, policy=strict, with_targets=False)["totals"]
    assert (totals["abandoned"], totals["short_abandoned"]) == (2, 0)
    assert totals["answered_within_service_level"] == 2  # 5 and 4 s
    assert totals["service_level"] == round(2 / 6, 4)
    assert report(db, policy=strict, with_targets=False)["kpis"][6]["label"] == \
        "service level (5 s)"


def test_periods_and_bad_ranges_are_refused_with_the_parameter(db):
    assert period_of(date(2026, 1, 1), "week") == ("2026-W01", date(2025, 12, 29),
                                                   date(2026, 1, 4))
    with pytest.raises(KpiError) as caught:
        report(db, period="year")
    assert caught.value.parameter == "period"
    with pytest.raises(KpiError) as caught:
        report(db, first=DAY, last=date(2026, 11, 1))
    assert caught.value.parameter == "to"


def test_an_adopted_call_counts_once_a_caller_was_on_it(db, clock):
    """The service adopts a CallSid it has no record of from any webhook; a callback's agent
    leg named by its recording callback is no call, a lost caller who goes on in the IVR is."""
    with db.transaction() as session:
        center = Center(session, clock)
        center.at(MONDAY.replace(hour=9))
        leg, _ = center.arrive("anonymous", None)
        events.record(session, "call.adopted", at=center.now, call_id=leg.id)
        lost, _ = center.arrive("+15550000001", None)
        events.record(session, "call.adopted", at=center.now, call_id=lost.id)
        lost.node = "main_menu"
    assert report(db, with_targets=False)["totals"]["offered"] == 1
