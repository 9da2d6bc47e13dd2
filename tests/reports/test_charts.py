"""The day's charts from the same facts as the KPIs: offered and answered per half hour,
service level through the day, the distribution of waits, agents by state; and the PNG."""

from __future__ import annotations

import io
from zoneinfo import ZoneInfo

from ivr.reports.charts import day_charts, wait_labels
from ivr.reports.drawing import draw_png
from ivr.reports.kpis import kpi_report
from ivr.reports.policy import ReportPolicy

from .conftest import MONDAY

POLICY = ReportPolicy()
UTC_TZ = ZoneInfo("UTC")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def charts_of(db, **kwargs):
    kwargs.setdefault("now", MONDAY.replace(day=26))
    with db.transaction() as session:
        made = day_charts(session, tz=UTC_TZ, policy=POLICY, first=MONDAY.date(), **kwargs)
    return made, {chart["name"]: chart for chart in made["charts"]}


def series(chart, label):
    return next(d["data"] for d in chart["datasets"] if d["label"].startswith(label))


def test_calls_offered_and_answered_per_half_hour_add_up_to_the_day(db, monday):
    made, charts = charts_of(db)
    volume = charts["volume"]
    assert len(volume["labels"]) == 48 and volume["labels"][20] == "10:00"
    offered, answered = series(volume, "offered"), series(volume, "answered")
    assert {i: n for i, n in enumerate(offered) if n} == {20: 3, 21: 2, 22: 2, 23: 1}
    assert {i: n for i, n in enumerate(answered) if n} == {20: 3, 22: 1}
    with db.transaction() as session:
        totals = kpi_report(session, tz=UTC_TZ, policy=POLICY, first=MONDAY.date(),
                            last=MONDAY.date(), with_targets=False)["totals"]
    assert sum(offered) == totals["offered"] and sum(answered) == totals["answered"]
    assert made["service_level_seconds"] == 20


def test_service_level_through_the_day_is_cumulative(db, monday):
    _, charts = charts_of(db)
    level = charts["service_level"]["datasets"][0]["data"]
    assert level[:20] == [None] * 20  # no caller yet
    assert level[20:24] == [0.6667, 0.5, 0.6, 0.6]  # 2/3, 2/4 (c5 is a short abandon), 3/5
    assert level[47] == 0.6


def test_until_now_today_and_no_further(db, monday):
    _, charts = charts_of(db, now=MONDAY.replace(hour=10, minute=45))
    assert charts["service_level"]["datasets"][0]["data"][20:23] == [0.6667, 0.5, None]
    available = series(charts["agents"], "available")
    assert available[21] is not None and available[22] is None


def test_the_distribution_of_waits(db, monday):
    _, charts = charts_of(db)
    waits = charts["waits"]
    assert waits["labels"] == wait_labels([10, 20, 30, 60, 120, 300]) == [
        "0–10 s", "10–20 s", "20–30 s", "30–60 s", "60–120 s", "120–300 s", "over 300 s"]
    assert series(waits, "answered") == [3, 0, 1, 0, 0, 0, 0]  # 10, 5, 4 | 25
    assert series(waits, "abandoned") == [1, 0, 0, 1, 0, 0, 0]  # 3 | 40


def test_agents_by_state_per_half_hour(db, monday):
    _, charts = charts_of(db)
    agents = charts["agents"]
    states = [d["label"] for d in agents["datasets"]]
    assert states == ["available", "reserved", "busy", "wrap-up", "not-ready"]
    at = {state: series(agents, state) for state in states}
    assert [at[s][18] for s in states] == [0, 0, 0, 0, 0]  # before they signed in at 09:30
    assert [at[s][19] for s in states] == [2.0, 0, 0, 0, 0]
    for slot in range(19, 48):  # both agents are somewhere every moment after 09:30
        assert round(sum(at[s][slot] for s in states), 2) == 2.0
    _, ben_only = charts_of(db, agent_id=monday["ben"])
    ben = {state: series(ben_only["agents"], state) for state in states}
    # 10:20:05 to 10:21:45 on c3, then 10 s of wrap-up after the transfer.
    assert (ben["busy"][20], ben["wrap-up"][20]) == (round(100 / 1800, 3), round(10 / 1800, 3))
    assert ben["available"][21] == 1.0


def test_the_png_is_a_real_picture(db, monday):
    made, _ = charts_of(db)
    with db.transaction() as session:
        report = kpi_report(session, tz=UTC_TZ, policy=POLICY, first=MONDAY.date(),
                            last=MONDAY.date())
    out = io.BytesIO()
    draw_png(made, out, report=report)
    picture = out.getvalue()
    assert picture.startswith(PNG_SIGNATURE)
    assert len(picture) > 20_000
    width, height = int.from_bytes(picture[16:20], "big"), int.from_bytes(picture[20:24], "big")
    assert (width, height) == (1400, 950)
