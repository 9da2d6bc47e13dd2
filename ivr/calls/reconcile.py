"""Calls whose final status callback never arrived (our service was down, the network lost
it) would stay "live" for ever and keep phantom callers in the queue, pushing everyone's
position back. These find such calls and ask the carrier how they really are; the edge
(`ivr.call_end`) ends those that are over, as the status callback would have."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ivr.calls.models import LIVE_CALL, Call, CallEvent
from ivr.telephony import Telephony, TelephonyError

log = logging.getLogger(__name__)
PAGE = 200


def quiet_live_calls(session: Session, *, now: datetime, quiet_for: timedelta) -> list[str]:
    """The sids of live calls with no event for `quiet_for`, oldest first. Each call's last
    event is looked up by the call (the log is indexed by call), never by grouping the log."""
    cutoff = now - quiet_for
    last_event = (select(func.max(CallEvent.at)).where(CallEvent.call_id == Call.id)
                  .correlate(Call).scalar_subquery())
    quiet = (select(Call.id, Call.sid)
             # Spelled as the partial index of live calls is, so both databases use it.
             .where(text(LIVE_CALL), Call.started_at < cutoff,
                    func.coalesce(last_event, Call.started_at) < cutoff)
             .order_by(Call.id).limit(PAGE))
    sids: list[str] = []
    after = 0
    # In pages, so that calls the carrier says are live (long conversations are quiet too)
    # never hide the lost ones behind them.
    while True:
        page = session.execute(quiet.where(Call.id > after)).all()
        sids.extend(sid for _, sid in page)
        if len(page) < PAGE:
            return sids
        after = page[-1].id


def carrier_status(telephony: Telephony, sid: str) -> tuple[str, int | None] | None:
    """The carrier's status and duration of the call, or None if it cannot say now. A call
    the carrier has no record of (a restarted offline carrier) is over."""
    try:
        return telephony.call_status(sid)
    except TelephonyError as exc:
        if exc.status == 404:
            return "completed", None
        log.warning("cannot reconcile call %s: %s", sid, exc)
        return None
