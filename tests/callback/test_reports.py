"""The day's follow-up report agrees with what happened, through the domain, the API and the
CLI; follow-ups at risk, closing by hand and the do-not-call list through the API."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from callback import followups, reports
from callback import service as callbacks
from callback.models import CallbackAttempt
from callback.policy import CallbackPolicy
from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call
from ivr.cli import cli
from ivr.routing import queue
from ivr.users.service import add_user

UTC_CAL = BusinessCalendar.from_spec(timezone="UTC", hours="mon-fri 08:00-18:00")
POLICY = CallbackPolicy()
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def a_day(session) -> None:
    """Monday: three numbers miss calls (one twice); one follow-up is done the same day, one
    on Tuesday after breaching, one stays open; two callbacks offered, one accepted and
    completed on its second attempt."""
    def call(n: int, at: datetime) -> Call:
        row = Call(sid=f"CA{n:032x}", from_number=f"+1212555{n:04d}", to_number="+15005550006",
                   started_at=at, path=[], vars={})
        session.add(row)
        session.flush()
        return row

    for n, minutes, kind in [(1, 0, "abandoned"), (1, 30, "ivr-hangup"), (2, 60, "voicemail"),
                             (3, 90, "after-hours")]:
        at = MONDAY + timedelta(minutes=minutes)
        followups.record_missed(session, number=f"+1212555{n:04d}", kind=kind,
                                call_id=call(10 * n + minutes, at).id, now=at,
                                calendar=UTC_CAL, policy=POLICY)
    followups.close_for_number(session, number="+12125550001", now=MONDAY + timedelta(hours=3),
                               by="callback completed")
    followups.escalate_due(session, now=MONDAY.replace(hour=17), policy=POLICY)
    followups.breach_due(session, now=MONDAY.replace(hour=18))
    followups.close_for_number(session, number="+12125550002",
                               now=MONDAY + timedelta(days=1, hours=1), by="answered")
    caller = call(99, MONDAY + timedelta(hours=2))
    entry = queue.enqueue(session, call=caller, skills={"billing": 1}, priority=1, reasons=[],
                          now=caller.started_at)
    for _ in range(2):
        events.record(session, "callback.offered", at=caller.started_at, call_id=caller.id)
    callback = callbacks.keep_place(session, call=caller, entry=entry, number="+12125550099",
                                    now=caller.started_at, policy=POLICY)
    for result in ("no-answer", "completed"):
        entry.status = "reserved"
        attempt = CallbackAttempt(callback_id=callback.id, started_at=caller.started_at)
        session.add(attempt)
        session.flush()
        callbacks.finish_attempt(session, attempt=attempt, result=result,
                                 now=caller.started_at + timedelta(minutes=15),
                                 calendar=UTC_CAL, policy=POLICY)


EXPECTED = {
    "missed_calls": 4,
    "missed_by_kind": {"abandoned": 1, "after-hours": 1, "ivr-hangup": 1, "voicemail": 1},
    "follow_ups": {"created": 3, "done_same_day": 1, "escalated": 2, "breached": 2,
                   "same_day_rate": 0.3333},
}


def test_the_report_counts_the_day(db):
    with db.transaction() as session:
        a_day(session)
    with db.transaction() as session:
        figures = reports.followups_report(session, day=MONDAY.date(), tz=UTC_CAL.tz)
    for key, value in EXPECTED.items():
        assert figures[key] == value, key
    assert figures["callbacks"] == {
        "offered": 2, "accepted": 1, "accepted_keep_place": 1, "accepted_scheduled": 0,
        "follow_up_callbacks": 3, "completed": 1, "failed": 0, "attempts": 2,
        "attempts_by_result": {"completed": 1, "no-answer": 1},
    }
    with db.transaction() as session:
        tuesday = reports.followups_report(session, day=MONDAY.date() + timedelta(days=1),
                                           tz=UTC_CAL.tz)
    assert tuesday["missed_calls"] == 0 and tuesday["follow_ups"]["created"] == 0


@pytest.fixture
def supervisor(db, clock):
    with db.transaction() as session:
        _, token = add_user(session, username="sue", password="pw-123", role="supervisor",
                            now=clock.now())
    return {"Authorization": f"Bearer {token}"}


def test_the_api_serves_the_same_report(client, db, supervisor):
    with db.transaction() as session:
        a_day(session)
    served = client.get(f"/api/reports/followups?date={MONDAY.date()}", headers=supervisor)
    with db.transaction() as session:
        assert served.get_json() == reports.followups_report(session, day=MONDAY.date(),
                                                             tz=UTC_CAL.tz)
    assert client.get("/api/reports/followups?date=monday",
                      headers=supervisor).status_code == 400


def test_the_cli_prints_the_same_report(db, settings, supervisor, monkeypatch, tmp_path):
    with db.transaction() as session:
        a_day(session)
    monkeypatch.setenv("IVR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path / "cli-var"))
    result = CliRunner().invoke(cli, ["report", "followups", "--date", str(MONDAY.date()),
                                      "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    for key, value in EXPECTED.items():
        assert printed[key] == value
    table = CliRunner().invoke(cli, ["report", "followups", "--date", str(MONDAY.date())])
    assert "same-day rate 33%" in table.output
    bad = CliRunner().invoke(cli, ["report", "followups", "--date", "23/11/2026"])
    assert bad.exit_code != 0 and "--date" in bad.output


def test_follow_ups_at_risk_and_closing_one_by_hand(client, db, clock, supervisor):
    with db.transaction() as session:
        call = Call(sid="CA" + "1" * 32, from_number="+12125550150", to_number="+15005550006",
                    started_at=clock.now(), path=[], vars={})
        session.add(call)
        session.flush()
        missed = followups.record_missed(session, number=call.from_number, kind="abandoned",
                                         call_id=call.id, now=clock.now(),
                                         calendar=UTC_CAL, policy=POLICY)
    assert client.get("/api/followups/at-risk", headers=supervisor).get_json() == {
        "follow_ups": []}
    clock.set(MONDAY.replace(hour=17, minute=30))
    with db.transaction() as session:
        followups.escalate_due(session, now=clock.now(), policy=POLICY)
    (risky,) = client.get("/api/followups/at-risk", headers=supervisor).get_json()["follow_ups"]
    assert risky["escalated"] and risky["seconds_left"] == 1800
    done = client.post(f"/api/followups/{missed.follow_up_id}/done",
                       json={"note": "reached them by email"}, headers=supervisor)
    assert done.get_json()["closed_by"] == "sue: reached them by email"
    again = client.post(f"/api/followups/{missed.follow_up_id}/done", json={"note": "x"},
                        headers=supervisor)
    assert again.status_code == 409
    assert client.get("/api/followups?status=open", headers=supervisor).get_json() == {
        "follow_ups": []}


def test_the_do_not_call_list_through_the_api(client, supervisor):
    added = client.post("/api/do-not-call", json={"number": "(212) 555-0177",
                                                  "reason": "asked on the phone"},
                        headers=supervisor)
    assert (added.status_code, added.get_json()) == (201, {"number": "+12125550177"})
    listed = client.get("/api/do-not-call", headers=supervisor).get_json()["numbers"]
    assert [n["number"] for n in listed] == ["+12125550177"]
    bad = client.post("/api/do-not-call", json={"number": "12"}, headers=supervisor)
    assert bad.status_code == 400
    assert client.delete("/api/do-not-call/+12125550177", headers=supervisor).status_code == 204
    assert client.delete("/api/do-not-call/+12125550177", headers=supervisor).status_code == 404
