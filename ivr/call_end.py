"""What a carrier status sets off, however we learn of it: from the status callback
(`/voice/status`) or, when that was lost, by asking the carrier (`reconcile_with_carrier`, a
timer). A call that ends is handled the same both ways: its queue entries close, the agent it
held is freed, and a missed call becomes the same-day follow-up with its case and text. The
agent's leg of a callback is reconciled too (`ivr.callback_leg_end` says what its end sets
off)."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from callback import missed
from callback import service as callbacks
from ivr import casework, events
from ivr.callback_leg_end import apply_agent_leg_status
from ivr.calls import reconcile
from ivr.calls.models import FINAL_STATUSES, Call
from ivr.calls.service import apply_status, find_call
from ivr.routing import queue
from ivr.routing.models import Reservation

log = logging.getLogger(__name__)
QUIET_CALL = timedelta(minutes=10)  # a live call with no event for this long is asked about


def apply_carrier_status(session: Session, rt: Any, call: Call, *, status: str,
                         duration: int | None) -> bool:
    """Apply the carrier's status to the call (once: repeats and late arrivals change
    nothing), and, if that ended it, what the end of a call sets off. Returns whether
    anything changed."""
    now = rt.clock.now()
    # Loaded once for the end of the call: what it leaves, and the queue it was last in.
    ending = status in FINAL_STATUSES and not call.is_over
    entries = queue.call_entries(session, call=call) if ending else None
    changed = apply_status(session, call=call, status=status, now=now, duration=duration,
                           wrap_up_seconds=rt.policy.wrap_up_seconds, entries=entries)
    if changed and call.is_over:
        # Only a missed call needs the queue the caller was in (an answered one is most).
        entry = queue.last_of_call(entries or []) if missed.classify(call) else None
        found = missed.on_call_ended(session, call=call, entry=entry, now=now,
                                     calendar=rt.calendar, policy=rt.callbacks)
        if found is not None and found.follow_up_id is not None:
            casework.on_missed(session, rt, call, entry)
        # A follow-up opened by this call is dialled as soon as the manners allow.
        callbacks.activate_created(session, now=now, calendar=rt.calendar,
                                   policy=rt.callbacks, by="missed call")
    return changed


def reconcile_with_carrier(rt: Any, *, quiet_for: timedelta = QUIET_CALL) -> list[str]:
    """End the live calls that have been quiet for `quiet_for` and that the carrier says are
    over: their final status callback was lost (our service was down, the network dropped
    it); and likewise the agents' legs of callbacks under way that long. Returns their sids.
    The carrier is asked outside any transaction, so a slow answer holds no lock; each call
    found over is ended in a transaction of its own."""
    now = rt.clock.now()
    sids = rt.db.run(lambda session: reconcile.quiet_live_calls(
        session, now=now, quiet_for=quiet_for))
    legs = rt.db.run(lambda session: callbacks.unfinished_attempts(
        session, started_before=now - quiet_for))
    ended = []
    for sid in sids:
        if (found := _over(rt, sid)) and rt.db.run(functools.partial(
                _end_reconciled, rt=rt, sid=sid, status=found[0], duration=found[1])):
            ended.append(sid)
    for rid, sid in legs:
        if (found := _over(rt, sid)) and rt.db.run(functools.partial(
                _end_reconciled_leg, rt=rt, rid=rid, sid=sid, status=found[0])):
            ended.append(sid)
    if ended:
        log.info("reconciled %d calls with the carrier: %s", len(ended), ", ".join(ended))
        rt.poke_router()  # an agent the call held may be free
    return ended


def _over(rt: Any, sid: str) -> tuple[str, int | None] | None:
    """The carrier's final status and duration of the call, or None if it is not over (or
    the carrier cannot say now)."""
    found = reconcile.carrier_status(rt.telephony, sid)
    return found if found is not None and found[0] in FINAL_STATUSES else None


def _end_reconciled(session: Session, *, rt: Any, sid: str, status: str,
                    duration: int | None) -> bool:
    call = find_call(session, sid)
    # Read afresh: the status callback may have arrived while the carrier was asked.
    if call is None or not apply_carrier_status(session, rt, call, status=status,
                                                duration=duration):
        return False
    events.record(session, "call.reconciled", at=rt.clock.now(), call_id=call.id,
                  status=status)
    return True


def _end_reconciled_leg(session: Session, *, rt: Any, rid: int, sid: str, status: str) -> bool:
    # The leg's status callback may have arrived while the carrier was asked: this then
    # changes nothing.
    if not apply_agent_leg_status(session, rt, rid, status=status):
        return False
    reservation = session.get(Reservation, rid)
    events.record(session, "callback.leg_reconciled", at=rt.clock.now(),
                  call_id=reservation.call_id, agent_id=reservation.agent_id,
                  reservation_id=rid, sid=sid, status=status)
    return True
