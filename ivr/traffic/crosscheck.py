"""The service's side of every call, from its JSON API (`/api/calls?date=`): each call the
carrier ended must be there once, over, with the outcome the caller lived through."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from ivr.traffic.client import ServiceClient, ServiceError
from ivr.traffic.outcomes import SERVICE_OUTCOME, UNFINISHED, CallResult

FINAL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
LIST_LIMIT = 1000  # the most calls /api/calls lists for one query


def days_around(start: datetime, end: datetime) -> list[str]:
    """The dates a call of the run may be filed under, in whatever timezone the service keeps
    its business calendar: a day either side of the run's UTC dates."""
    first = start.date() - timedelta(days=1)
    last = end.date() + timedelta(days=1)
    return [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]


def cross_check(
    client: ServiceClient,
    results: list[CallResult],
    *,
    days: list[str],
    settle_seconds: float = 10.0,
) -> dict[str, Any]:
    """Mark each result with the service's outcome and whether it agrees; return a summary.
    Waits up to `settle_seconds` for the service to finish calls it still has as live."""
    placed = {r.sid: r for r in results if r.sid}
    deadline = time.monotonic() + settle_seconds
    while True:
        records, truncated = _records(client, set(placed), days, results)
        settled = all(_final(records.get(sid)) for sid in placed)
        if settled or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    counts: dict[str, int] = {}
    summary = {"checked": 0, "agree": 0, "disagree": 0, "not_listed": 0}
    for sid, result in placed.items():
        record = records.get(sid)
        if record is None:
            if truncated:
                summary["not_listed"] += 1
                result.detail = result.detail or "not listed by the service (list limit)"
                continue
            _disagree(result, "the service has no record of this call")
        else:
            result.service_outcome = record["outcome"]
            counts[str(record["outcome"])] = counts.get(str(record["outcome"]), 0) + 1
            if result.outcome in UNFINISHED:
                continue  # no outcome of the caller's to compare with
            _compare(result, record)
        summary["checked"] += 1
        summary["agree" if result.agrees else "disagree"] += 1
    summary["outcomes"] = dict(sorted(counts.items()))
    summary["days"] = days
    if truncated:
        summary["note"] = (
            f"the service lists at most {LIST_LIMIT} calls a query; calls it "
            "did not list could not be checked"
        )
    return summary


def _records(
    client: ServiceClient, sids: set[str], days: list[str], results: list[CallResult]
) -> tuple[dict[str, dict[str, Any]], bool]:
    """The service's calls among `sids`; and whether a listing hit the limit, so an absent
    call proves nothing. A listing per expected outcome too: each stays under the limit."""
    outcomes = sorted({SERVICE_OUTCOME[r.outcome] for r in results if r.outcome in SERVICE_OUTCOME})
    records: dict[str, dict[str, Any]] = {}
    truncated = False
    for day in days:
        for outcome in (None, *outcomes):
            try:
                rows = client.calls(day, outcome=outcome)
            except ServiceError:
                truncated = True  # counted as unchecked rather than as missing
                continue
            truncated = truncated or len(rows) >= LIST_LIMIT
            for row in rows:
                if row["sid"] in sids:
                    records[row["sid"]] = row
    return records, truncated


def _final(record: dict[str, Any] | None) -> bool:
    return record is not None and record["status"] in FINAL_STATUSES


def _compare(result: CallResult, record: dict[str, Any]) -> None:
    if record["status"] not in FINAL_STATUSES:
        _disagree(result, f"the service still has the call as {record['status']}")
        return
    expected = SERVICE_OUTCOME.get(result.outcome)
    if expected is not None and record["outcome"] != expected:
        _disagree(
            result,
            f"the caller's side says {result.outcome}, the service recorded {record['outcome']}",
        )
        return
    result.agrees = True


def _disagree(result: CallResult, why: str) -> None:
    result.agrees = False
    result.detail = why


# The caller's outcomes the same-day rule counts as missed calls (a callback that was never
# answered is one too); the simulator's callers never hang up in the IVR itself.
MISSED_OUTCOMES = ("abandoned", "voicemail")


def missed(result: CallResult) -> bool:
    if result.outcome in MISSED_OUTCOMES:
        return True
    return result.outcome == "callback" and (result.callback or {}).get("status") == "failed"


def follow_ups_of(
    client: ServiceClient, results: list[CallResult], *, since: datetime, days: list[str]
) -> dict[str, Any]:
    """The same-day rule seen from the run: every missed call of the run must have a follow-up
    at the service for its number (made since the run began); and the service's own figures
    for each day of the run that has any."""
    try:
        made = [f for f in client.follow_ups()
                if datetime.fromisoformat(f["created_at"]) >= since]
        reports = [client.followups_report(day) for day in days]
    except ServiceError as exc:
        return {"checked": False, "why": str(exc)}
    by_number = {f["number"]: f for f in made}
    misses = [r for r in results if missed(r)]
    lacking = [r for r in misses if r.number not in by_number]
    return {
        "checked": True,
        "missed_calls": len(misses),
        "followed_up": len(misses) - len(lacking),
        "not_followed_up": [{"index": r.index, "sid": r.sid, "from": r.number,
                             "outcome": r.outcome} for r in lacking],
        "follow_ups": {
            "created": len(made),
            "open": sum(f["status"] == "open" for f in made),
            "done": sum(f["status"] == "done" for f in made),
            "escalated": sum(bool(f["escalated"]) for f in made),
            "breached": sum(bool(f["breached"]) for f in made),
        },
        "service": {report["date"]: report for report in reports
                    if report["missed_calls"] or report["follow_ups"]["created"]
                    or report["callbacks"]["offered"]},
    }
