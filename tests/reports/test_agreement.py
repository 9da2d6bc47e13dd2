"""After an `ivr simulate` run against a live service, the day's KPIs agree between the API,
`ivr report kpis --format json` and the console's KPI page (and its wallboard), and with the
simulator's own report: the counts exactly, the times after scaling by the carrier's speed.

The simulator reports in simulated seconds, the service in wall seconds on its own clock
(times SPEED). Its service level counts waits up to 20 simulated seconds, so the service's
report policy here sets T to 20 / SPEED wall seconds, and no short abandons (the simulator
counts every abandon)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner

from ivr.cli import cli
from ivr.users.service import add_user

from support import wait_for

# Slower than tests/simulate's 50: service, carrier and simulator share one process here, and
# at 50x a webhook held up 40 ms by the other threads is 2 simulated seconds on one talk time;
# at 10x the two sides' times agree within a fraction of a second.
SPEED = 10.0
PASSWORD = "pw-1234"
RUN = ("--calls", "30", "--agents", "4", "--arrival-rate", "0.25", "--handle-time", "12",
       "--patience", "40", "--seed", "11", "--json")
# How far apart the caller's side (the carrier) and the service's clock may see one wait or
# talk: a few webhook round trips (150 ms), in simulated seconds.
LATENCY = 1.5
UI_WAIT = 20_000  # ms


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "report-policy.yaml"
    path.write_text(
        "categories: [billing question, technical fault, other]\n"
        f"service_level_seconds: {20 / SPEED}\n"
        "short_abandon_seconds: 0\n"
        "repeat_days: 7\n"
        "target_easing: 0.05\n"
    )
    return path


@pytest.fixture
def service(live_factory: Any, policy_file: Path) -> Any:
    return live_factory(sim_speed=SPEED, wrap_up_seconds=0, vosk_model="none",
                        report_policy=policy_file)


@pytest.fixture
def command(tmp_path: Path, database_url: str, policy_file: Path) -> Any:
    def run(*args: str, url: str = "http://127.0.0.1:9") -> Any:
        env = {"IVR_PUBLIC_URL": url, "IVR_VAR_DIR": str(tmp_path / "cli-var"),
               "IVR_DATABASE_URL": database_url, "IVR_VOSK_MODEL": "none",
               "IVR_REPORT_POLICY": str(policy_file)}
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.stdout[-3000:]
        return result.stdout

    return run


def test_the_days_kpis_agree_everywhere_and_with_the_simulator(service, command, chromium):
    simulated = json.loads(command("simulate", *RUN, url=service.url))
    assert simulated["accounting"]["every_call_has_one_outcome"]
    started = datetime.fromisoformat(simulated["run"]["started_at"]).astimezone(UTC)
    ended = started + timedelta(seconds=simulated["run"]["wall_seconds"])
    first, last = started.date().isoformat(), ended.date().isoformat()  # the service is in UTC
    with service.db.transaction() as session:
        _, token = add_user(session, username="sue", password=PASSWORD, role="supervisor",
                            now=datetime.now(UTC))

    served = _settled(service, token, first, last)
    printed = json.loads(command("report", "kpis", "--from", first, "--to", last,
                                 "--format", "json"))
    assert printed == served

    totals, sim = served["totals"], simulated["totals"]
    _agree_with_the_simulator(totals, sim, simulated["calls"])
    skills = {row["skill"]: row for row in served["skills"]}
    for skill, figures in simulated["skills"].items():
        for name in ("offered", "answered", "abandoned"):
            assert skills[skill][name] == figures[name], (skill, name)

    _the_kpi_page_shows_the_same(service, chromium, token, served, first, last)


def _agree_with_the_simulator(totals: dict[str, Any], sim: dict[str, Any],
                              calls: list[dict[str, Any]]) -> None:
    assert totals["offered"] == sim["offered"]
    assert totals["answered"] == sim["answered"] > 0
    assert totals["short_abandoned"] == 0
    assert totals["abandoned"] == sim["abandoned"]
    # Times: the simulator's are simulated seconds, the service's wall seconds.
    assert abs(totals["average_speed_of_answer"] * SPEED - sim["average_speed_of_answer"]) \
        <= LATENCY
    # The simulator's handle time is talk alone (the agent's leg); the service adds the
    # wrap-up, which here is the dispatcher's next sweep after each call.
    assert abs(totals["average_talk_time"] * SPEED - sim["average_handle_time"]) <= LATENCY
    assert abs(totals["longest_wait"] * SPEED - sim["longest_wait"]) <= LATENCY
    # Service level: a call whose wait lies near the 20 s threshold may fall on the other side
    # of it on the service's clock; only those may differ. One wait, not an average of many:
    # under a busy machine's load its two readings can be twice the usual latency apart.
    near = sum(1 for c in calls
               if c["outcome"] == "answered" and abs(c["wait"] - 20) <= 2 * LATENCY)
    assert abs(totals["answered_within_service_level"] - sim["answered_within_service_level"]) \
        <= near
    queued = sim["answered"] + sim["abandoned"]
    assert abs(totals["service_level"] - sim["service_level"]) <= near / queued + 1e-4


def _settled(service: Any, token: str, first: str, last: str) -> dict[str, Any]:
    """The days' KPIs once the service's own work after the simulator's last call is done: a
    follow-up's callback may still be on the line when the simulator has accounted for its
    calls, and completes between two reads. No callback dialling, and the same figures two
    reads apart."""
    from sqlalchemy import func, select

    from callback.models import Callback

    def read() -> dict[str, Any]:
        return requests.get(f"{service.url}/api/reports/kpis", params={"from": first, "to": last},
                            headers={"Authorization": f"Bearer {token}"}, timeout=30).json()

    seen = [read()]

    def still() -> dict[str, Any] | None:
        time.sleep(1.0)
        with service.db.transaction() as session:
            dialling = session.scalar(select(func.count(Callback.id))
                                      .where(Callback.status == "dialing"))
        seen.append(read())
        return seen[-1] if not dialling and seen[-1] == seen[-2] else None

    return wait_for(still, what="the service's figures to settle", timeout=90)


def _the_kpi_page_shows_the_same(service: Any, chromium: Any, token: str,
                                 served: dict[str, Any], first: str, last: str) -> None:
    context = chromium.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(UI_WAIT)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(service.url + "/signin")
        page.fill("#username", "sue")
        page.fill("#password", PASSWORD)
        page.click("#signin button[type=submit]")
        page.wait_for_load_state()
        for day in sorted({first, last}):
            expected = served if first == last else requests.get(
                f"{service.url}/api/reports/kpis", params={"from": day, "to": day},
                headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
            page.goto(f"{service.url}/console/kpis?date={day}")
            page.wait_for_selector(f"#kpi-page[data-charts='4'][data-day='{day}']")
            shown = dict(page.eval_on_selector_all(
                "#tiles [data-kpi]", "tiles => tiles.map(t => [t.dataset.kpi, t.dataset.value])"))
            assert {k: json.loads(v) for k, v in shown.items()} == {
                k["name"]: expected["totals"][k["name"]] for k in expected["kpis"]}
            skills = page.eval_on_selector_all(
                "#per-skill tbody tr", "rows => rows.map(r => r.dataset.key)")
            assert skills == [row["skill"] for row in expected["skills"]]
        # The wallboard's figures per skill today come from the same report.
        today = requests.get(f"{service.url}/api/reports/kpis",
                             params={"from": last, "to": last, "targets": "false"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=30).json()
        page.goto(service.url + "/console")
        busiest = max(today["skills"], key=lambda row: row["answered"])
        row = page.locator(f"#skills tbody tr[data-skill='{busiest['skill']}']")
        row.locator("td:nth-child(6)").filter(has_text=str(busiest["answered"])).wait_for()
        cells = row.locator("td").all_inner_texts()
        assert cells[5:7] == [str(busiest["answered"]), str(busiest["abandoned"])]
        level = busiest["service_level"]
        assert cells[4] == ("—" if level is None else f"{100 * level:.1f}%")
    finally:
        context.close()
    assert errors == []
