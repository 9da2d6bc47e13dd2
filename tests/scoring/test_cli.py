"""`ivr report scores`: the report the API serves, from the same code, as a table or JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from click.testing import CliRunner

from ivr.cli import cli

from .conftest import bearer

GOOD = {"availability": 5, "speed": 4, "resolution": 5, "etiquette": 5, "engagement": 4}


def run(settings, monkeypatch, tmp_path, *args: str):
    monkeypatch.setenv("IVR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path / "cli-var"))
    return CliRunner().invoke(cli, ["report", "scores", *args])


def scored_fortnight(client, people, answered_call) -> None:
    """ann: 92% on 23 Nov and 72% on 1 Dec; ben: 48% on 24 Nov."""
    low = {"availability": 2, "speed": 3, "resolution": 1, "etiquette": 3, "engagement": 3}
    for agent, at, scores in (
        ("ann", datetime(2026, 11, 23, 10, tzinfo=UTC), GOOD),
        ("ben", datetime(2026, 11, 24, 10, tzinfo=UTC), low),
        ("ann", datetime(2026, 12, 1, 10, tzinfo=UTC), {**GOOD, "resolution": 0}),
    ):
        call_id = answered_call(agent, at=at)
        answer = client.post(f"/api/calls/{call_id}/score", json={"scores": scores},
                             headers=bearer(people, "sue"))
        assert answer.status_code == 201


def test_the_cli_prints_the_same_report_as_the_api(
    client, people, answered_call, settings, monkeypatch, tmp_path
):
    scored_fortnight(client, people, answered_call)
    result = run(settings, monkeypatch, tmp_path, "--from", "2026-11-23", "--to", "2026-12-06",
                 "--period", "week", "--json")
    assert result.exit_code == 0, result.output
    served = client.get("/api/reports/scores?from=2026-11-23&to=2026-12-06&period=week",
                        headers=bearer(people, "sue")).get_json()
    assert json.loads(result.output) == served
    assert [(r["period"], r["agent"], r["mean_percent"]) for r in served["rows"]] == [
        ("2026-W48", "ann", 92.0), ("2026-W48", "ben", 48.0), ("2026-W49", "ann", 72.0)]


def test_the_cli_table_per_month_for_one_agent(
    client, people, answered_call, settings, monkeypatch, tmp_path
):
    scored_fortnight(client, people, answered_call)
    result = run(settings, monkeypatch, tmp_path, "--from", "2026-11-01", "--to", "2026-12-31",
                 "--period", "month", "--agent", "ann")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == ("Scores on five principles, 2026-11-01 to 2026-12-31, per month (UTC)")
    assert lines[1].split() == ["period", "agent", "calls", "mean", "availability", "speed",
                                "resolution", "etiquette", "engagement"]
    assert [line.split() for line in lines[2:]] == [
        ["2026-11", "ann", "1", "92.0%", "5.00", "4.00", "5.00", "5.00", "4.00"],
        ["2026-12", "ann", "1", "72.0%", "5.00", "4.00", "0.00", "5.00", "4.00"],
        ["all", "ann", "2", "82.0%", "5.00", "4.00", "2.50", "5.00", "4.00"],
    ]


def test_the_cli_refuses_bad_days_unknown_agents_and_says_when_nothing_was_scored(
    people, settings, monkeypatch, tmp_path
):
    bad_day = run(settings, monkeypatch, tmp_path, "--from", "23/11/2026", "--to", "2026-11-30")
    assert bad_day.exit_code == 2 and "--from" in bad_day.output
    reversed_span = run(settings, monkeypatch, tmp_path, "--from", "2026-12-01",
                        "--to", "2026-11-30")
    assert reversed_span.exit_code == 2 and "is after to" in reversed_span.output
    nobody = run(settings, monkeypatch, tmp_path, "--from", "2026-11-01", "--to", "2026-11-30",
                 "--agent", "nobody")
    assert nobody.exit_code == 2 and "no agent named 'nobody'" in nobody.output
    missing = run(settings, monkeypatch, tmp_path, "--from", "2026-11-01")
    assert missing.exit_code == 2 and "--to" in missing.output
    empty = run(settings, monkeypatch, tmp_path, "--from", "2026-11-01", "--to", "2026-11-30")
    assert empty.exit_code == 0
    assert empty.output.splitlines()[1] == "  no scored calls"
