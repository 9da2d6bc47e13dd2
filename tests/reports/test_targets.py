"""Targets: the best of the twelve months before the period, eased; or fixed in the policy;
and the KPIs off target flagged in every row."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from ivr.reports import targets
from ivr.reports.kpis import kpi_report
from ivr.reports.policy import ReportPolicy, ReportPolicyError

from .conftest import MONDAY, Center, a_monday

POLICY = ReportPolicy(categories=("other",), target_easing=0.05)


def history(center: Center) -> None:
    """October 2025 (more than twelve months before): one call answered at once. September
    2026: answered after 5 and 8 s. October 2026: after 30 and 10 s. Every one talks 60 s,
    without wrap-up, from a number that never calls again."""
    center.at(datetime(2025, 10, 1, 9, tzinfo=UTC))
    old = center.agent("old", {"billing": 1})
    for n, (moment, wait) in enumerate([
        (datetime(2025, 10, 6, 10, tzinfo=UTC), 0),
        (datetime(2026, 9, 10, 10, tzinfo=UTC), 5),
        (datetime(2026, 9, 10, 11, tzinfo=UTC), 8),
        (datetime(2026, 10, 12, 10, tzinfo=UTC), 30),
        (datetime(2026, 10, 12, 11, tzinfo=UTC), 10),
    ]):
        center.at(moment)
        center.handled(f"+1555100000{n}", "billing", old, wait=wait, talk=60, wrap=0)


@pytest.fixture
def year(db, clock):
    with db.transaction() as session:
        center = Center(session, clock)
        history(center)
        a_monday(center)


def monday_report(db, policy=POLICY):
    with db.transaction() as session:
        return kpi_report(session, tz=ZoneInfo("UTC"), policy=policy, first=MONDAY.date(),
                          last=MONDAY.date())


def test_the_default_target_is_the_best_month_of_the_last_twelve_eased(db, year):
    report = monday_report(db)
    found = report["targets"]
    assert found["service_level"] == {"target": 0.95, "better": "higher",
                                      "source": "best month", "month": "2026-09", "best": 1.0}
    # The lowest is the best for a time: September's 6.5 s, not October 2025's 0 s.
    assert found["average_speed_of_answer"] == {"target": 6.825, "better": "lower",
                                                "source": "best month", "month": "2026-09",
                                                "best": 6.5}
    assert found["longest_wait"]["target"] == 8.4  # September's 8 s, eased by 5%
    assert found["average_handle_time"]["target"] == 63.0
    assert found["first_contact_resolution"]["target"] == 0.95
    # Counts grow with the period's length: no target from history. No follow-ups before.
    assert "offered" not in found and "answered" not in found
    assert "not_followed_up_same_day_rate" not in found
    assert report["totals"]["off_target"] == [
        "abandon_rate", "service_level", "average_speed_of_answer", "average_handle_time",
        "average_talk_time", "average_wrap_up_time", "longest_wait", "missed_rate",
        "first_contact_resolution"]
    assert report["periods"][0]["off_target"] == report["totals"]["off_target"]
    technical = next(row for row in report["skills"] if row["skill"] == "technical")
    assert "service_level" not in technical["off_target"]  # its one call: within 20 s


def test_a_fixed_target_from_the_policy_replaces_the_history(db, year):
    policy = ReportPolicy(categories=("other",),
                          targets={"average_speed_of_answer": 15, "answered": 3})
    found = monday_report(db, policy)["targets"]
    assert found["average_speed_of_answer"] == {"target": 15, "better": "lower",
                                                "source": "policy", "month": None,
                                                "best": None}
    assert found["answered"]["source"] == "policy"
    off = monday_report(db, policy)["totals"]["off_target"]
    assert "average_speed_of_answer" not in off and "answered" not in off


def test_without_history_there_is_no_target_and_nothing_is_flagged(db, monday):
    report = monday_report(db)
    assert report["targets"] == {}
    assert report["totals"]["off_target"] == []


def test_a_fixed_target_must_name_a_kpi_with_a_direction():
    with pytest.raises(ReportPolicyError, match="'offered' is not a KPI with a target"):
        targets.check(ReportPolicy(targets={"offered": 100}))


def test_on_target_follows_the_direction():
    higher = targets.Target("service_level", 0.8, targets.HIGHER, "policy")
    lower = targets.Target("longest_wait", 60, targets.LOWER, "policy")
    assert targets.on_target(0.8, higher) and not targets.on_target(0.79, higher)
    assert targets.on_target(60, lower) and not targets.on_target(61, lower)
    assert targets.on_target(None, lower) is None
    assert targets.eased(0.9, targets.HIGHER, 0.05, "share") == 0.855
    assert targets.eased(30, targets.LOWER, 0.1, "seconds") == 33.0
