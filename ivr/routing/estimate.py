"""Where a waiting caller stands: position, how many agents can take them, and an honest
estimate of the wait from recent handle times (said as "about N minutes", never more exact)."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Float, Integer, Select, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from ivr.routing.models import Agent, QueueEntry, QueueEntrySkill, Reservation
from ivr.routing.policy import RoutingPolicy
from ivr.routing.router import _eligible

RECENT_CALLS = 50
STAFFED = ("available", "reserved", "busy", "wrap-up")


@dataclass(frozen=True)
class WaitEstimate:
    position: int
    eligible_agents: int
    free_agents: int
    handle_seconds: float | None  # None: nobody is staffed, so no wait is worked out from it
    seconds: float | None  # None: nobody who can take the call is signed in


def position(session: Session, *, entry: QueueEntry, now: datetime, policy: RoutingPolicy) -> int:
    """1-based place among waiting callers who need any of the same skills, in the router's
    order: effective priority (with aging), then time of entry."""
    ahead = session.scalar(_statements(policy).ahead, _params(entry, now, policy))
    return int(ahead or 0) + 1


def _params(entry: QueueEntry, now: datetime, policy: RoutingPolicy) -> dict[str, float]:
    now_epoch = now.timestamp()
    waited = now_epoch - entry.entered_epoch
    return {"entry_id": entry.id, "now_epoch": now_epoch, "entered_epoch": entry.entered_epoch,
            "mine": policy.effective_priority(entry.priority, waited), "waited": waited}


def recent_handle_seconds(session: Session, *, policy: RoutingPolicy) -> float:
    """Mean talk time of the last calls plus wrap-up; the policy's default before any call."""
    talks = [(end - start).total_seconds() for start, end in session.execute(_RECENT)]
    if not talks:
        return float(policy.default_handle_seconds)
    return sum(talks) / len(talks) + policy.wrap_up_seconds


def estimate(
    session: Session, *, entry: QueueEntry, now: datetime, policy: RoutingPolicy
) -> WaitEstimate:
    ahead, staffed, free = session.execute(
        _statements(policy).wait, _params(entry, now, policy)).one()
    place = int(ahead or 0) + 1
    if staffed == 0:
        return WaitEstimate(place, staffed, free, None, None)
    handle = recent_handle_seconds(session, policy=policy)
    if place <= free:
        seconds = 0.0
    else:
        # Each staffed agent frees up about once per handle time; the caller needs `place`
        # of those turns (fewer when agents are already free).
        seconds = math.ceil(max(place - free, 0) / staffed) * handle
    return WaitEstimate(place, staffed, free, handle, seconds)


_RECENT = (
    select(Reservation.answered_at, Reservation.ended_at)
    .where(Reservation.status == "completed", Reservation.answered_at.is_not(None))
    .order_by(Reservation.ended_at.desc())
    .limit(RECENT_CALLS)
)


@dataclass(frozen=True)
class _Statements:
    ahead: Select  # how many waiting callers are ahead of the entry
    # That, and the agents who could take the entry: staffed, and of them available (one
    # statement for each wait poll).
    wait: Select


@functools.lru_cache(maxsize=8)
def _statements(policy: RoutingPolicy) -> _Statements:
    """The wait loop's queries for a policy, built once: every wait poll asks them, and
    building these expressions costs more than running them."""
    entry_id = bindparam("entry_id", type_=Integer)
    entered_epoch = bindparam("entered_epoch", type_=Float)
    mine = bindparam("mine", type_=Float)
    theirs = (
        QueueEntry.priority
        + policy.aging_per_minute
        * (bindparam("now_epoch", type_=Float) - QueueEntry.entered_epoch) / 60.0
    )
    # The entry's skills in the same statement: loading them first would be a query of its own.
    skill_ids = select(QueueEntrySkill.skill_id).where(QueueEntrySkill.entry_id == entry_id)
    competing = select(QueueEntrySkill.entry_id).where(QueueEntrySkill.skill_id.in_(skill_ids))
    ahead = select(func.count(QueueEntry.id)).where(
        QueueEntry.status == "waiting",
        QueueEntry.id != entry_id,
        QueueEntry.id.in_(competing),
        or_(
            theirs > mine,
            and_(theirs == mine, QueueEntry.entered_epoch < entered_epoch),
            and_(
                theirs == mine,
                QueueEntry.entered_epoch == entered_epoch,
                QueueEntry.id < entry_id,
            ),
        ),
    )
    eligible = _eligible(entry_id, bindparam("waited", type_=Float), Agent.id, policy)
    wait = (
        select(ahead.scalar_subquery(), func.count(Agent.id),
               func.count(case((Agent.state == "available", Agent.id))))
        .where(Agent.state.in_(STAFFED), eligible)
    )
    return _Statements(ahead=ahead, wait=wait)


def rounded_minutes(seconds: float) -> int | None:
    """Minutes as a person would say them: nearest minute up to 10, then steps of 5; None
    for under a minute."""
    if seconds < 60:
        return None
    minutes = seconds / 60
    if minutes <= 10:
        return max(1, round(minutes))
    return int(5 * round(minutes / 5))
