"""Calls whose final status callback never arrived (our service was down, the network lost
it) would stay "live" for ever and keep phantom callers in the queue, pushing everyone's
position back. This asks the carrier how such calls really ended."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr import events
from ivr.calls.models import FINAL_STATUSES, Call, CallEvent
from ivr.calls.service import apply_status
from ivr.telephony import Telephony, TelephonyError

log = logging.getLogger(__name__)


def quiet_live_calls(session: Session, *, now: datetime, quiet_for: timedelta) -> list[Call]:
    """Live calls with no event for `quiet_for`."""
    last_event = (
        select(CallEvent.call_id, func.max(CallEvent.at).label("last_at"))
        .group_by(CallEvent.call_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Call)
            .join(last_event, last_event.c.call_id == Call.id)
            .where(Call.status.not_in(FINAL_STATUSES), last_event.c.last_at < now - quiet_for)
            .order_by(Call.id)
            .limit(200)
        )
    )


def reconcile(
    session: Session, *, telephony: Telephony, now: datetime, quiet_for: timedelta
) -> list[str]:
    """Apply the carrier's status to quiet live calls; returns the sids that ended."""
    ended = []
    for call in quiet_live_calls(session, now=now, quiet_for=quiet_for):
        try:
            status, duration = telephony.call_status(call.sid)
        except TelephonyError as exc:
            if exc.status != 404:
                log.warning("cannot reconcile call %s: %s", call.sid, exc)
                continue
            # The carrier has no such call (a restarted offline carrier): it is over.
            status, duration = "completed", None
        if status in FINAL_STATUSES and apply_status(
            session, call=call, status=status, now=now, duration=duration
        ):
            events.record(session, "call.reconciled", at=now, call_id=call.id, status=status)
            ended.append(call.sid)
    return ended
