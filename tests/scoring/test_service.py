"""Scoring a call, its rules (every criterion, whole numbers in range, 0 only for resolution),
the answering agent, listing with filters, and the report per agent and per period."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from ivr import events
from ivr.calls.models import Call, CallEvent
from ivr.scoring import service
from ivr.scoring.models import CallScore
from ivr.scoring.scorecards import load
from ivr.users.models import User

CARD = load().get("five principles")
UTC_TZ = ZoneInfo("UTC")
GOOD = {"availability": 5, "speed": 4, "resolution": 5, "etiquette": 5, "engagement": 4}


def user(session, name: str) -> User:
    return session.scalar(select(User).where(User.username == name))


def score(session, clock, call_id: int, scores: dict, *, by: str = "sue", comments=None,
          comment=None, card=CARD) -> CallScore:
    return service.score_call(session, call=session.get(Call, call_id), scorecard=card,
                              scores=scores, comments=comments, comment=comment,
                              scored_by=user(session, by), now=clock.now())


def test_scoring_a_call_records_the_answering_agent_the_items_in_order_and_an_event(
    db, clock, people, answered_call
):
    call_id = answered_call("ann")
    with db.transaction() as session:
        made = score(session, clock, call_id, {**GOOD, "speed": 3},
                     comments={"speed": "  two holds  ", "etiquette": ""},
                     comment="A good call.")
        score_id = made.id
    with db.transaction() as session:
        stored = session.get(CallScore, score_id)
        assert stored.agent_id == people["ann"]["agent_id"]
        assert stored.scorecard == "five principles"
        assert stored.items == [
            {"key": "availability", "score": 5, "comment": None},
            {"key": "speed", "score": 3, "comment": "two holds"},
            {"key": "resolution", "score": 5, "comment": None},
            {"key": "etiquette", "score": 5, "comment": None},
            {"key": "engagement", "score": 4, "comment": None},
        ]
        assert (stored.total, stored.max_total, service.percent(stored)) == (22, 25, 88.0)
        assert stored.comment == "A good call."
        assert stored.scored_by == user(session, "sue").id
        assert stored.scored_at == clock.now()
        event = session.scalar(select(CallEvent).where(CallEvent.kind == "call.scored"))
        assert (event.call_id, event.agent_id) == (call_id, people["ann"]["agent_id"])
        assert event.data == {"score_id": score_id, "scorecard": "five principles",
                              "total": 22.0, "max_total": 25.0, "by": "sue"}


def test_resolution_may_be_0_when_the_main_question_went_unanswered(
    db, clock, people, answered_call
):
    call_id = answered_call("ann")
    with db.transaction() as session:
        made = score(session, clock, call_id, {**GOOD, "resolution": 0})
        assert (made.total, service.percent(made)) == (18, 72.0)


@pytest.mark.parametrize("key", ["availability", "speed", "etiquette", "engagement"])
def test_only_resolution_allows_0(db, clock, people, answered_call, key):
    call_id = answered_call("ann")
    with db.transaction() as session, pytest.raises(service.ScoringError) as raised:
        score(session, clock, call_id, {**GOOD, key: 0})
    assert raised.value.field == f"scores.{key}"
    assert str(raised.value) == f"scores.{key}: must be a whole number from 1 to 5, not 0"


@pytest.mark.parametrize(
    ("scores", "field", "says"),
    [
        ({**GOOD, "speed": 6}, "scores.speed", "must be a whole number from 1 to 5, not 6"),
        ({**GOOD, "resolution": -1}, "scores.resolution",
         "must be a whole number from 0 to 5, not -1"),
        ({**GOOD, "speed": 4.5}, "scores.speed", "must be a whole number from 1 to 5, not 4.5"),
        ({**GOOD, "speed": "4"}, "scores.speed", "must be a whole number from 1 to 5, not '4'"),
        ({**GOOD, "speed": True}, "scores.speed",
         "must be a whole number from 1 to 5, not True"),
        ({k: v for k, v in GOOD.items() if k != "engagement"}, "scores.engagement",
         "is missing: every criterion of the scorecard is scored"),
        ({**GOOD, "humour": 5}, "scores.humour",
         "is not a criterion of 'five principles'; use availability, speed, resolution, "
         "etiquette, engagement"),
        ([5, 4, 5, 5, 4], "scores", "must be an object giving a score for each of "
         "availability, speed, resolution, etiquette, engagement"),
    ],
    ids=["above", "below", "fraction", "text", "boolean", "missing", "unknown", "a-list"],
)
def test_a_bad_score_is_refused_naming_the_field(db, clock, people, answered_call, scores,
                                                 field, says):
    call_id = answered_call("ann")
    with db.transaction() as session, pytest.raises(service.ScoringError) as raised:
        score(session, clock, call_id, scores)
    assert (raised.value.field, str(raised.value)) == (field, f"{field}: {says}")
    with db.transaction() as session:
        assert session.scalars(select(CallScore)).all() == []


@pytest.mark.parametrize(
    ("comments", "comment", "field"),
    [({"speed": 3}, None, "comments.speed"), ({"tone": "x"}, None, "comments.tone"),
     ("fine", None, "comments"), (None, ["fine"], "comment")],
)
def test_comments_are_optional_but_must_be_text_on_a_criterion(
    db, clock, people, answered_call, comments, comment, field
):
    call_id = answered_call("ann")
    with db.transaction() as session, pytest.raises(service.ScoringError) as raised:
        score(session, clock, call_id, GOOD, comments=comments, comment=comment)
    assert raised.value.field == field


def test_a_call_no_agent_answered_cannot_be_scored(db, clock, people, unanswered_call):
    with db.transaction() as session, pytest.raises(service.NotScorable, match="not answered"):
        score(session, clock, unanswered_call, GOOD)


def test_the_answering_agent_comes_from_the_answered_event_without_a_reservation(
    db, clock, people, unanswered_call
):
    # A call connected outside the router (a callback leg, say) has only its call event.
    ben = people["ben"]["agent_id"]
    with db.transaction() as session:
        events.record(session, "call.answered", at=clock.now(), call_id=unanswered_call,
                      agent_id=ben)
    with db.transaction() as session:
        assert service.answering_agent(session, call_id=unanswered_call) == ben
        assert score(session, clock, unanswered_call, GOOD).agent_id == ben


def test_a_scored_call_can_be_scored_again_by_someone_else(db, clock, people, answered_call):
    call_id = answered_call("ann")
    with db.transaction() as session:
        first = score(session, clock, call_id, GOOD).id
        clock.advance(60)
        second = score(session, clock, call_id, {**GOOD, "speed": 5}, by="ada").id
    with db.transaction() as session:
        listed = service.list_scores(session, tz=UTC_TZ, call_id=call_id)
        assert [s.id for s in listed] == [second, first]  # the latest first


def _mixed_month(db, clock, answered_call) -> dict[str, int]:
    """ann: a call on Mon 23 Nov scored twice, one on Wed 25 Nov, one on Tue 1 Dec; ben: one
    on Mon 23 Nov."""
    calls = {
        "a": answered_call("ann", at=datetime(2026, 11, 23, 10, tzinfo=UTC)),
        "d": answered_call("ben", at=datetime(2026, 11, 23, 11, tzinfo=UTC)),
        "b": answered_call("ann", at=datetime(2026, 11, 25, 15, tzinfo=UTC)),
        "c": answered_call("ann", at=datetime(2026, 12, 1, 9, tzinfo=UTC)),
    }
    clock.set(datetime(2026, 12, 2, 12, tzinfo=UTC))
    with db.transaction() as session:
        score(session, clock, calls["a"], GOOD)  # 23/25 = 92%
        score(session, clock, calls["a"], dict.fromkeys(GOOD, 5), by="ada")  # 100%
        score(session, clock, calls["b"], {"availability": 3, "speed": 3, "resolution": 0,
                                           "etiquette": 4, "engagement": 2})  # 12 = 48%
        score(session, clock, calls["c"], {**dict.fromkeys(GOOD, 4), "engagement": 3})  # 76%
        score(session, clock, calls["d"], {"availability": 2, "speed": 3, "resolution": 1,
                                           "etiquette": 3, "engagement": 3})  # 48%
    return calls


def test_the_weekly_report_per_agent_gives_exact_means(db, clock, people, answered_call):
    _mixed_month(db, clock, answered_call)
    ann, ben = people["ann"]["agent_id"], people["ben"]["agent_id"]
    with db.transaction() as session:
        figures = service.report(session, scorecard=CARD, start=date(2026, 11, 23),
                                 end=date(2026, 12, 6), tz=UTC_TZ, period="week")
    assert figures["scorecard"] == "five principles" and figures["period"] == "week"
    assert (figures["from"], figures["to"], figures["timezone"]) == (
        "2026-11-23", "2026-12-06", "UTC")
    assert [c["key"] for c in figures["criteria"]] == list(GOOD)
    assert figures["rows"] == [
        {"period": "2026-W48", "starts": "2026-11-23", "agent_id": ann, "agent": "ann",
         "scored_calls": 2, "scores": 3, "mean_percent": 80.0,
         "criteria": {"availability": 4.33, "speed": 4.0, "resolution": 3.33,
                      "etiquette": 4.67, "engagement": 3.67}},
        {"period": "2026-W48", "starts": "2026-11-23", "agent_id": ben, "agent": "ben",
         "scored_calls": 1, "scores": 1, "mean_percent": 48.0,
         "criteria": {"availability": 2.0, "speed": 3.0, "resolution": 1.0,
                      "etiquette": 3.0, "engagement": 3.0}},
        {"period": "2026-W49", "starts": "2026-11-30", "agent_id": ann, "agent": "ann",
         "scored_calls": 1, "scores": 1, "mean_percent": 76.0,
         "criteria": {"availability": 4.0, "speed": 4.0, "resolution": 4.0,
                      "etiquette": 4.0, "engagement": 3.0}},
    ]
    assert figures["agents"] == [
        {"agent_id": ann, "agent": "ann", "scored_calls": 3, "scores": 4, "mean_percent": 79.0,
         "criteria": {"availability": 4.25, "speed": 4.0, "resolution": 3.5,
                      "etiquette": 4.5, "engagement": 3.5}},
        {"agent_id": ben, "agent": "ben", "scored_calls": 1, "scores": 1, "mean_percent": 48.0,
         "criteria": {"availability": 2.0, "speed": 3.0, "resolution": 1.0,
                      "etiquette": 3.0, "engagement": 3.0}},
    ]


def test_the_report_per_day_and_per_month_and_for_one_agent(db, clock, people, answered_call):
    _mixed_month(db, clock, answered_call)
    ann = people["ann"]["agent_id"]
    with db.transaction() as session:
        daily = service.report(session, scorecard=CARD, start=date(2026, 11, 1),
                               end=date(2026, 12, 31), tz=UTC_TZ, period="day")
        monthly = service.report(session, scorecard=CARD, start=date(2026, 11, 1),
                                 end=date(2026, 12, 31), tz=UTC_TZ, period="month",
                                 agent_id=ann)
        only_november = service.report(session, scorecard=CARD, start=date(2026, 11, 24),
                                       end=date(2026, 11, 30), tz=UTC_TZ, period="month")
    assert [(r["period"], r["agent"], r["scored_calls"], r["scores"], r["mean_percent"])
            for r in daily["rows"]] == [
        ("2026-11-23", "ann", 1, 2, 96.0), ("2026-11-23", "ben", 1, 1, 48.0),
        ("2026-11-25", "ann", 1, 1, 48.0), ("2026-12-01", "ann", 1, 1, 76.0)]
    assert [(r["period"], r["starts"], r["agent"], r["scores"], r["mean_percent"])
            for r in monthly["rows"]] == [
        ("2026-11", "2026-11-01", "ann", 3, 80.0), ("2026-12", "2026-12-01", "ann", 1, 76.0)]
    assert [a["agent"] for a in monthly["agents"]] == ["ann"]
    # The span counts the calls' days: only Wednesday's call is inside.
    assert [(r["period"], r["agent"], r["scores"]) for r in only_november["rows"]] == [
        ("2026-11", "ann", 1)]


def test_days_are_the_calls_days_in_the_business_timezone(db, clock, people, answered_call):
    # 03:00 UTC on Tuesday is still Monday evening in New York.
    call_id = answered_call("ann", at=datetime(2026, 11, 24, 3, tzinfo=UTC))
    with db.transaction() as session:
        score(session, clock, call_id, GOOD)
    new_york = ZoneInfo("America/New_York")
    with db.transaction() as session:
        monday = date(2026, 11, 23)
        assert [s.call_id for s in service.list_scores(session, tz=new_york, start=monday,
                                                       end=monday)] == [call_id]
        assert service.list_scores(session, tz=UTC_TZ, start=monday, end=monday) == []
        figures = service.report(session, scorecard=CARD, start=monday, end=monday,
                                 tz=new_york, period="day")
        assert [r["period"] for r in figures["rows"]] == ["2026-11-23"]


def test_listing_filters_by_agent_call_and_days_and_refuses_a_reversed_span(
    db, clock, people, answered_call
):
    calls = _mixed_month(db, clock, answered_call)
    ann, ben = people["ann"]["agent_id"], people["ben"]["agent_id"]
    with db.transaction() as session:
        assert {s.call_id for s in service.list_scores(session, tz=UTC_TZ, agent_id=ben)} == {
            calls["d"]}
        assert len(service.list_scores(session, tz=UTC_TZ, agent_id=ann)) == 4
        assert {s.call_id for s in service.list_scores(
            session, tz=UTC_TZ, agent_id=ann, start=date(2026, 11, 24),
            end=date(2026, 12, 1))} == {calls["b"], calls["c"]}
        assert len(service.list_scores(session, tz=UTC_TZ, limit=2)) == 2
        with pytest.raises(service.ScoringError) as raised:
            service.list_scores(session, tz=UTC_TZ, start=date(2026, 12, 2),
                                end=date(2026, 12, 1))
        assert raised.value.field == "from"
        with pytest.raises(service.ScoringError) as raised:
            service.report(session, scorecard=CARD, start=date(2026, 12, 1),
                           end=date(2026, 12, 1), tz=UTC_TZ, period="year")
        assert str(raised.value) == "period: must be one of day, week, month, not 'year'"
