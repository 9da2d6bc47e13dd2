"""The scoring API: the scorecards, scoring a call (supervisors and admins only), a call's
scores, the scores list (agents see only their own) and the report, with 400s that name the
field."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr.calls.models import CallEvent
from ivr.scoring import service
from ivr.scoring.scorecards import load

from .conftest import bearer

GOOD = {"availability": 5, "speed": 4, "resolution": 5, "etiquette": 5, "engagement": 4}


def post_score(client, people, call_id, body, *, as_="sue"):
    return client.post(f"/api/calls/{call_id}/score", json=body, headers=bearer(people, as_))


def test_the_scorecards_are_served_with_their_criteria_and_ranges(client, people):
    answer = client.get("/api/scorecards", headers=bearer(people, "ann"))
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["default"] == "five principles"
    (card,) = body["scorecards"]
    assert (card["name"], card["max_total"]) == ("five principles", 25)
    assert [(c["key"], c["min"], c["max"]) for c in card["criteria"]] == [
        ("availability", 1, 5), ("speed", 1, 5), ("resolution", 0, 5), ("etiquette", 1, 5),
        ("engagement", 1, 5)]
    resolution = card["criteria"][2]
    assert resolution["label"] == "Resolution" and resolution["description"]
    assert resolution["anchors"] == [
        {"score": 0, "meaning": "the caller's main question went unanswered"}]
    assert client.get("/api/scorecards").status_code == 401


def test_a_supervisor_scores_a_call_and_gets_the_score_back(client, people, answered_call,
                                                            clock):
    call_id = answered_call("ann")
    answer = post_score(client, people, call_id, {
        "scorecard": "five principles", "scores": {**GOOD, "resolution": 0},
        "comments": {"resolution": "never found the invoice"}, "comment": "Kind, but unsolved."})
    assert answer.status_code == 201, answer.get_json()
    body = answer.get_json()
    assert body == {
        "id": body["id"],
        "call_id": call_id,
        "call_started_at": body["call_started_at"],
        "agent_id": people["ann"]["agent_id"],
        "agent": "ann",
        "scorecard": "five principles",
        "items": [
            {"key": "availability", "label": "Availability", "score": 5, "min": 1, "max": 5,
             "comment": None},
            {"key": "speed", "label": "Speed", "score": 4, "min": 1, "max": 5, "comment": None},
            {"key": "resolution", "label": "Resolution", "score": 0, "min": 0, "max": 5,
             "comment": "never found the invoice"},
            {"key": "etiquette", "label": "Etiquette", "score": 5, "min": 1, "max": 5,
             "comment": None},
            {"key": "engagement", "label": "Engagement", "score": 4, "min": 1, "max": 5,
             "comment": None},
        ],
        "total": 18,
        "max_total": 25,
        "percent": 72.0,
        "comment": "Kind, but unsolved.",
        "scored_by": "sue",
        "scored_at": clock.now().isoformat(),
    }
    scored = client.get(f"/api/calls/{call_id}/score", headers=bearer(people, "ada")).get_json()
    assert (scored["call_id"], scored["agent_id"], scored["agent"]) == (
        call_id, people["ann"]["agent_id"], "ann")
    assert scored["scores"] == [body]


def test_the_default_scorecard_is_used_when_none_is_named(client, people, answered_call):
    call_id = answered_call("ann")
    answer = post_score(client, people, call_id, {"scores": GOOD}, as_="ada")
    assert answer.status_code == 201
    assert (answer.get_json()["scorecard"], answer.get_json()["scored_by"]) == (
        "five principles", "ada")


def test_agents_cannot_score_calls(client, people, answered_call, db):
    call_id = answered_call("ann")
    for name in ("ann", "ben"):
        answer = post_score(client, people, call_id, {"scores": GOOD}, as_=name)
        assert answer.status_code == 403
        assert answer.get_json()["reason"] == "needs the role supervisor or admin"
    with db.transaction() as session:
        assert session.scalar(select(CallEvent).where(CallEvent.kind == "call.scored")) is None


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"scores": {**GOOD, "etiquette": 0}},
         "scores.etiquette: must be a whole number from 1 to 5, not 0"),
        ({"scores": {**GOOD, "speed": 9}}, "scores.speed: must be a whole number from 1 to 5, "
         "not 9"),
        ({"scores": {k: v for k, v in GOOD.items() if k != "speed"}},
         "scores.speed: is missing: every criterion of the scorecard is scored"),
        ({}, "scores: must be an object giving a score for each of availability, speed, "
         "resolution, etiquette, engagement"),
        ({"scores": GOOD, "scorecard": "seven sins"},
         "scorecard: 'seven sins' is not a scorecard; use five principles"),
        ({"scores": GOOD, "comments": {"speed": 4}}, "comments.speed: must be a string"),
        ({"scores": GOOD, "comment": 12}, "comment: must be a string"),
    ],
    ids=["zero-etiquette", "above", "missing", "no-scores", "unknown-scorecard",
         "comment-number", "overall-number"],
)
def test_bad_input_gets_400_naming_the_field(client, people, answered_call, body, reason):
    call_id = answered_call("ann")
    answer = post_score(client, people, call_id, body)
    assert answer.status_code == 400
    assert answer.get_json()["reason"] == reason


def test_not_json_unknown_calls_and_unanswered_calls(client, people, unanswered_call):
    not_json = client.post(f"/api/calls/{unanswered_call}/score", data="scores",
                           headers=bearer(people, "sue"))
    assert not_json.status_code == 400
    assert post_score(client, people, 9999, {"scores": GOOD}).status_code == 404
    assert client.get("/api/calls/9999/score", headers=bearer(people, "sue")).status_code == 404
    unanswered = post_score(client, people, unanswered_call, {"scores": GOOD})
    assert unanswered.status_code == 409
    assert "not answered by an agent" in unanswered.get_json()["reason"]
    scored = client.get(f"/api/calls/{unanswered_call}/score", headers=bearer(people, "sue"))
    assert scored.get_json() == {"call_id": unanswered_call, "agent_id": None, "agent": None,
                                 "scores": []}


def test_agents_see_only_their_own_scores(client, people, answered_call):
    ann_call, ben_call = answered_call("ann"), answered_call("ben")
    for call_id in (ann_call, ben_call):
        assert post_score(client, people, call_id, {"scores": GOOD}).status_code == 201
    ann = people["ann"]["agent_id"]

    own = client.get("/api/scores", headers=bearer(people, "ann")).get_json()["scores"]
    assert [(s["call_id"], s["agent"]) for s in own] == [(ann_call, "ann")]
    asked = client.get(f"/api/scores?agent={ann}", headers=bearer(people, "ann"))
    assert asked.get_json()["scores"] == own
    other = client.get(f"/api/scores?agent={people['ben']['agent_id']}",
                       headers=bearer(people, "ann"))
    assert other.status_code == 403
    assert other.get_json()["reason"] == "agents see only their own scores"
    # A call the agent did not take: 403, as for the call itself.
    assert client.get(f"/api/calls/{ben_call}/score",
                      headers=bearer(people, "ann")).status_code == 403
    assert client.get(f"/api/calls/{ann_call}/score",
                      headers=bearer(people, "ann")).get_json()["scores"] == own
    report = client.get(f"/api/reports/scores?agent={people['ben']['agent_id']}",
                        headers=bearer(people, "ann"))
    assert report.status_code == 403
    mine = client.get("/api/reports/scores", headers=bearer(people, "ann")).get_json()
    assert [a["agent"] for a in mine["agents"]] == ["ann"]

    everyone = client.get("/api/scores", headers=bearer(people, "sue")).get_json()["scores"]
    assert [s["agent"] for s in everyone] == ["ben", "ann"]  # the latest first
    bens = client.get(f"/api/scores?agent={people['ben']['agent_id']}",
                      headers=bearer(people, "sue")).get_json()["scores"]
    assert [s["call_id"] for s in bens] == [ben_call]
    assert client.get("/api/scores?agent=999", headers=bearer(people, "sue")).status_code == 404


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("agent=ann", "agent must be an agent's id (a whole number), not 'ann'"),
        ("from=23/11/2026", "from must be a date, YYYY-MM-DD, not '23/11/2026'"),
        ("to=tomorrow", "to must be a date, YYYY-MM-DD, not 'tomorrow'"),
        ("from=2026-12-02&to=2026-12-01", "from: 2026-12-02 is after to (2026-12-01)"),
        ("limit=0", "limit must be from 1 to 500"),
        ("call=x", "call must be a call's id (a whole number), not 'x'"),
    ],
)
def test_bad_filters_get_400_naming_the_parameter(client, people, query, reason):
    answer = client.get(f"/api/scores?{query}", headers=bearer(people, "sue"))
    assert answer.status_code == 400
    assert answer.get_json()["reason"] == reason


def test_the_scores_list_filters_by_the_calls_days(client, people, answered_call, clock):
    monday = answered_call("ann", at=datetime(2026, 11, 23, 10, tzinfo=UTC))
    tuesday = answered_call("ann", at=datetime(2026, 11, 24, 10, tzinfo=UTC))
    for call_id in (monday, tuesday):
        post_score(client, people, call_id, {"scores": GOOD})
    found = client.get("/api/scores?from=2026-11-24&to=2026-11-24",
                       headers=bearer(people, "sue")).get_json()["scores"]
    assert [s["call_id"] for s in found] == [tuesday]
    by_call = client.get(f"/api/scores?call={monday}",
                         headers=bearer(people, "sue")).get_json()["scores"]
    assert [s["call_id"] for s in by_call] == [monday]


def test_the_report_api_serves_the_service_report(client, people, answered_call, clock, db):
    first = answered_call("ann", at=datetime(2026, 11, 23, 10, tzinfo=UTC))
    second = answered_call("ben", at=datetime(2026, 11, 30, 10, tzinfo=UTC))
    post_score(client, people, first, {"scores": GOOD})
    post_score(client, people, second, {"scores": {**GOOD, "resolution": 0}})
    answer = client.get("/api/reports/scores?from=2026-11-01&to=2026-11-30&period=week",
                        headers=bearer(people, "sue"))
    assert answer.status_code == 200
    with db.transaction() as session:
        expected = service.report(session, scorecard=load().get("five principles"),
                                  start=date(2026, 11, 1), end=date(2026, 11, 30),
                                  tz=ZoneInfo("UTC"), period="week")
    assert answer.get_json() == expected
    assert [(r["period"], r["agent"], r["mean_percent"]) for r in expected["rows"]] == [
        ("2026-W48", "ann", 92.0), ("2026-W49", "ben", 72.0)]
    # Without a span: from the first of this month to today (the clock says 30 November).
    this_month = client.get("/api/reports/scores?period=month",
                            headers=bearer(people, "sue")).get_json()
    assert (this_month["from"], this_month["to"]) == ("2026-11-01", "2026-11-30")
    assert [r["period"] for r in this_month["rows"]] == ["2026-11", "2026-11"]
    bad = client.get("/api/reports/scores?period=year", headers=bearer(people, "sue"))
    assert bad.status_code == 400
    assert bad.get_json()["reason"] == "period: must be one of day, week, month, not 'year'"
    unknown = client.get("/api/reports/scores?scorecard=nope", headers=bearer(people, "sue"))
    assert unknown.status_code == 400 and unknown.get_json()["reason"].startswith("scorecard:")
