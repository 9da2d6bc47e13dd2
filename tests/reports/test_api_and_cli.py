"""The KPIs and charts through the API and `ivr report kpis` in each format: the same report
as the domain computes, bad parameters refused naming them, supervisors only."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from ivr.cli import cli
from ivr.reports.kpis import kpi_report
from ivr.users.service import add_user

from .conftest import MONDAY

DAY = MONDAY.date().isoformat()
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_the_api_serves_the_domains_report(app, client, db, clock, monday, supervisor):
    answer = client.get(f"/api/reports/kpis?from={DAY}&to={DAY}&period=day", headers=supervisor)
    assert answer.status_code == 200, answer.get_json()
    rt = app.extensions["ivr"]
    with db.transaction() as session:
        expected = kpi_report(session, tz=rt.calendar.tz, policy=rt.reports,
                              first=MONDAY.date(), last=MONDAY.date(), now=clock.now())
    served = answer.get_json()
    assert served == json.loads(json.dumps(expected))
    assert set(served) == {"from", "to", "period", "timezone", "filters", "rules", "kpis",
                           "targets", "totals", "periods", "skills", "agents"}
    assert (served["totals"]["offered"], served["totals"]["service_level"]) == (8, 0.6)
    by_agent = client.get(f"/api/reports/kpis?from={DAY}&agent=ben", headers=supervisor)
    assert by_agent.get_json()["totals"]["handled"] == 1
    by_id = client.get(f"/api/reports/kpis?from={DAY}&agent={monday['ben']}", headers=supervisor)
    assert by_id.get_json()["totals"] == by_agent.get_json()["totals"]
    quick = client.get(f"/api/reports/kpis?from={DAY}&targets=false", headers=supervisor)
    assert quick.get_json()["targets"] == {}


def test_the_api_serves_the_days_charts(client, monday, supervisor):
    answer = client.get(f"/api/reports/charts?date={DAY}", headers=supervisor)
    assert answer.status_code == 200
    charts = answer.get_json()
    assert [c["name"] for c in charts["charts"]] == ["volume", "service_level", "waits",
                                                     "agents"]
    for chart in charts["charts"]:
        assert {"name", "title", "type", "unit", "labels", "datasets"} <= set(chart)
        assert all(len(d["data"]) == len(chart["labels"]) for d in chart["datasets"])
    assert charts["from"] == charts["to"] == DAY


@pytest.mark.parametrize("query, parameter", [
    ("kpis?from=monday", "from"),
    ("kpis?from=2026-11-23&to=2026-11-01", "to"),
    ("kpis?from=2025-01-01&to=2026-11-23", "to"),
    ("kpis?period=year", "period"),
    ("kpis?agent=nobody", "agent"),
    ("kpis?skill=astrology", "skill"),
    ("kpis?targets=maybe", "targets"),
    ("charts?date=23/11/2026", "date"),
])
def test_bad_parameters_are_refused_naming_them(client, db, supervisor, query, parameter):
    answer = client.get(f"/api/reports/{query}", headers=supervisor)
    assert answer.status_code == 400
    assert parameter in answer.get_json()["reason"]


def test_only_supervisors_and_admins_read_the_reports(client, db, clock, monday):
    with db.transaction() as session:
        _, token = add_user(session, username="ann", password="pw-1234", role="agent",
                            now=clock.now(), agent_id=monday["ann"])
    for path in ("kpis", "charts"):
        assert client.get(f"/api/reports/{path}").status_code == 401
        assert client.get(f"/api/reports/{path}",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 403


def test_the_routes_are_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/reports/kpis", "/api/reports/charts"} <= set(paths)
    names = {p["name"] for p in paths["/api/reports/kpis"]["get"]["parameters"]}
    assert names == {"from", "to", "period", "skill", "agent", "targets"}


@pytest.fixture
def run(settings, monkeypatch, tmp_path):
    monkeypatch.setenv("IVR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path / "cli-var"))
    monkeypatch.setenv("IVR_VOSK_MODEL", "none")

    def invoke(*args: str):
        return CliRunner().invoke(cli, ["report", "kpis", *args], catch_exceptions=False)

    return invoke


def test_the_cli_json_is_the_apis_report(client, monday, supervisor, run):
    result = run("--from", DAY, "--to", DAY, "--format", "json")
    assert result.exit_code == 0, result.output
    served = client.get(f"/api/reports/kpis?from={DAY}&to={DAY}", headers=supervisor).get_json()
    assert json.loads(result.stdout) == served


def test_the_cli_table_shows_actual_target_and_flags(monday, run):
    result = run("--from", DAY, "--to", "2026-11-25")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "KPIs from 2026-11-23 to 2026-11-25 (UTC)"
    level = next(line for line in lines if line.startswith("service level (20 s)"))
    assert level.split()[-1] == "66.7%"  # 4 of 6 over the three days, no target yet
    rows = {line.split()[0]: line.split() for line in lines if line[:4] == "2026"}
    assert rows["2026-11-23"][1:4] == ["8", "4", "1"] and rows["2026-11-24"][1] == "0"
    assert any(line.startswith("ann ") for line in lines)
    assert "technical fault" in result.stdout


def test_the_cli_csv_has_a_row_per_group(monday, run, tmp_path):
    out = tmp_path / "kpis.csv"
    result = run("--from", DAY, "--format", "csv", "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [(r["group"], r["key"]) for r in rows] == [
        ("total", ""), ("day", DAY), ("skill", "billing"), ("skill", "general"),
        ("skill", "technical"), ("agent", "ann"), ("agent", "ben")]
    total = rows[0]
    assert (total["offered"], total["service_level"], total["average_handle_time"]) == \
        ("8", "0.6", "90.0")
    assert total["category:billing question"] == "1"
    assert rows[2]["follow_ups"] == ""  # per skill: null


def test_the_cli_writes_the_charts_as_a_png(monday, run, tmp_path):
    out = tmp_path / "monday.png"
    result = run("--from", DAY, "--format", "png", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert f"charts written to {out}" in result.stdout
    picture = out.read_bytes()
    assert picture.startswith(PNG_SIGNATURE) and len(picture) > 20_000


def test_the_cli_names_the_bad_option(db, run):
    result = run("--from", "yesterday")
    assert result.exit_code == 2
    assert "--from" in result.output
    result = run("--from", DAY, "--agent", "nobody")
    assert result.exit_code == 2 and "--agent" in result.output
