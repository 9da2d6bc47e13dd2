"""Queue entries: a caller waiting for a person, and where they stand."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, lazyload

from ivr import events
from ivr.calls.models import Call
from ivr.db import race_guard, reading
from ivr.routing.models import QueueEntry, QueueEntrySkill, Skill
from ivr.routing.policy import RoutingPolicy


def ensure_skill(session: Session, name: str) -> Skill:
    """The skill called `name`, made on first use. Two first callers for a new skill may
    make it at once (several web processes): the one who loses uses the winner's."""
    with reading(session, Skill):
        skill = session.scalar(_SKILL_NAMED, {"name": name})
    if skill is not None:
        return skill
    try:
        with race_guard(session):
            skill = Skill(name=name)
            session.add(skill)
            session.flush()
    except IntegrityError:
        skill = session.scalars(select(Skill).where(Skill.name == name)).one()
    return skill


def skills_key(skills: dict[str, int]) -> str:
    return ",".join(f"{name}:{level}" for name, level in sorted(skills.items()))


# One call's entry: its required skills load if asked for (most webhooks that look up the
# entry never do), not with it as when many entries are listed.
_ONE_ENTRY = select(QueueEntry).options(lazyload(QueueEntry.required))


IN_PLAY = ("waiting", "reserved", "connected")
# Built once, as the other lookups every call makes: building a statement costs more than
# running one of these.
_OF_CALL = _ONE_ENTRY.where(QueueEntry.call_id == bindparam("call_id"))
_WAITING = _OF_CALL.where(QueueEntry.status == "waiting")
_IN_PLAY = _OF_CALL.where(QueueEntry.status.in_(IN_PLAY)).order_by(QueueEntry.id.desc())
_ALL_OF_CALL = _OF_CALL.order_by(QueueEntry.id.desc())
_LAST_OF_CALL = _OF_CALL.where(QueueEntry.kind == "call").order_by(QueueEntry.id.desc())
_SKILL_NAMED = select(Skill).where(Skill.name == bindparam("name"))


def waiting_entry(session: Session, *, call: Call) -> QueueEntry | None:
    with reading(session, QueueEntry):
        return session.scalar(_WAITING, {"call_id": call.id})


def open_entry(session: Session, *, call: Call) -> QueueEntry | None:
    """The call's entry that is still in play: waiting, reserved or connected."""
    with reading(session, QueueEntry):
        return session.scalar(_IN_PLAY, {"call_id": call.id})


def call_entries(session: Session, *, call: Call) -> list[QueueEntry]:
    """All the call's entries, newest first: one query for a webhook that needs several of
    them (`in_play`, `last_of_call`), as the end of a call does."""
    with reading(session, QueueEntry):
        return list(session.scalars(_ALL_OF_CALL, {"call_id": call.id}))


def in_play(entries: list[QueueEntry]) -> QueueEntry | None:
    """`open_entry` among the call's entries (`call_entries`)."""
    return next((entry for entry in entries if entry.status in IN_PLAY), None)


def last_of_call(entries: list[QueueEntry]) -> QueueEntry | None:
    """`last_call_entry` among the call's entries (`call_entries`)."""
    return next((entry for entry in entries if entry.kind == "call"), None)


def last_call_entry(session: Session, *, call: Call) -> QueueEntry | None:
    """The queue the caller was last in, whatever became of it (a follow-up's callback
    entries for the same call are not theirs)."""
    with reading(session, QueueEntry):
        return session.scalar(_LAST_OF_CALL, {"call_id": call.id})


def enqueue(
    session: Session,
    *,
    call: Call,
    skills: dict[str, int],
    priority: int,
    reasons: list[str],
    now: datetime,
) -> QueueEntry:
    """Put the caller in the queue, once: a repeated webhook returns the entry already there."""
    existing = open_entry(session, call=call)
    if existing is not None:
        return existing
    if not skills:
        raise ValueError("a queue entry needs at least one skill")
    entry = QueueEntry(
        call_id=call.id,
        queue_name=min(skills),
        priority=priority,
        reasons=list(reasons),
        entered_at=now,
        entered_epoch=now.timestamp(),
        skills_key=skills_key(skills),
        status="waiting",
        extra={},
    )
    for name, level in sorted(skills.items()):
        entry.required.append(QueueEntrySkill(skill=ensure_skill(session, name), min_level=level))
    session.add(entry)
    session.flush()
    events.record(
        session,
        "queue.entered",
        at=now,
        call_id=call.id,
        entry_id=entry.id,
        skills=skills,
        priority=priority,
        reasons=list(reasons),
    )
    return entry


def position(session: Session, *, entry: QueueEntry) -> int:
    """1-based place among waiting callers who need any of the same skills: ahead are those
    with a higher priority, then those who came earlier."""
    skill_ids = [req.skill_id for req in entry.required]
    competing = (
        select(QueueEntrySkill.entry_id).where(QueueEntrySkill.skill_id.in_(skill_ids)).distinct()
    )
    ahead = session.scalar(
        select(func.count(QueueEntry.id)).where(
            QueueEntry.status == "waiting",
            QueueEntry.id.in_(competing),
            QueueEntry.id != entry.id,
            or_(
                QueueEntry.priority > entry.priority,
                and_(
                    QueueEntry.priority == entry.priority,
                    or_(
                        QueueEntry.entered_at < entry.entered_at,
                        and_(
                            QueueEntry.entered_at == entry.entered_at,
                            QueueEntry.id < entry.id,
                        ),
                    ),
                ),
            ),
        )
    )
    return int(ahead or 0) + 1


def abandon(session: Session, *, entry: QueueEntry, now: datetime) -> None:
    """The caller hung up while waiting."""
    if entry.status != "waiting":
        return
    entry.status = "abandoned"
    entry.left_at = now
    events.record(
        session,
        "queue.abandoned",
        at=now,
        call_id=entry.call_id,
        entry_id=entry.id,
        waited=(now - entry.entered_at).total_seconds(),
    )


def rekey(session: Session, *, policy: RoutingPolicy) -> int:
    """Give the entries still to be routed the order keys of `policy`: the keys of entries
    made under another aging setting (before a restart with a new IVR_AGING_PER_MINUTE)
    would put them out of the router's order. Returns the number of entries re-keyed."""
    key = policy.order_key(QueueEntry.priority, QueueEntry.entered_epoch)  # the same, in SQL
    result = session.execute(
        update(QueueEntry)
        .where(QueueEntry.status.in_(("waiting", "scheduled")), QueueEntry.order_key != key)
        .values(order_key=key)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)
