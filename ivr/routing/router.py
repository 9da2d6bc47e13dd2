"""The router: matches waiting callers to free agents.

Waiting entries are served by effective priority (priority plus aging), then by time of
entry. An agent is eligible when each required skill meets its minimum level, relaxed step by
step as the wait grows. Among eligible free agents the policy picks the longest idle (or the
highest level). Agent and entry are reserved together in one transaction; on PostgreSQL the
two rows are locked with FOR UPDATE SKIP LOCKED, so routers running at once in many
processes never give one agent two calls or one call two agents.

A decision costs the number of groups of callers with the same needs, not the length of the
queue: each entry keeps its place in the order without the clock (`order_key`), so the best
callers of a group are the first rows of one index range."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists, or_, select, text
from sqlalchemy.orm import Session, aliased, lazyload

from ivr import events
from ivr.routing.models import (
    Agent,
    AgentSkill,
    QueueEntry,
    QueueEntrySkill,
    Reservation,
    Skill,
)
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import end_finished_wrap_ups, set_state

CANDIDATES = 5  # rows to try when the first ones are taken by a concurrent router


def _skill_met(entry_waited, policy: RoutingPolicy, req, agent_id_column):
    """The agent (column) has the required skill at the level asked after this wait.
    Without division, so it is the same arithmetic on both engines: a level short by k is
    enough once the caller has waited k expansion steps."""
    level_ok = AgentSkill.level >= req.min_level
    if policy.expansion_seconds > 0:
        level_ok = or_(
            level_ok,
            entry_waited >= (req.min_level - AgentSkill.level) * policy.expansion_seconds,
        )
    # Two levels deep: the outer tables (agents, queue_entries) must stay outer references.
    return (
        exists()
        .where(
            AgentSkill.agent_id == agent_id_column, AgentSkill.skill_id == req.skill_id, level_ok
        )
        .correlate_except(AgentSkill)
    )


def _eligible(entry_id_column, entry_waited, agent_id_column, policy: RoutingPolicy):
    """No required skill of the entry is unmet by the agent."""
    req = aliased(QueueEntrySkill)
    return ~exists().where(
        req.entry_id == entry_id_column,
        ~_skill_met(entry_waited, policy, req, agent_id_column),
    ).correlate_except(req)


# The groups of waiting callers (one per skills_key): a loose index scan, one index seek per
# group, so it costs the number of groups, not of callers. The same SQL on both engines.
_GROUPS_CTE = """
WITH RECURSIVE groups(skills_key) AS (
    SELECT MIN(skills_key) FROM queue_entries WHERE status = 'waiting'
    UNION ALL
    SELECT (SELECT MIN(q.skills_key) FROM queue_entries q
            WHERE q.status = 'waiting' AND q.skills_key > groups.skills_key)
    FROM groups WHERE groups.skills_key IS NOT NULL
)
"""
_GROUPS = text(_GROUPS_CTE + "SELECT skills_key FROM groups WHERE skills_key IS NOT NULL")

# The same groups with the time of entry of each one's longest-waiting caller: the one with
# the most relaxed levels, so if no agent fits it, none fits the rest of the group.
_GROUP_HEADS = text(_GROUPS_CTE + """
SELECT skills_key,
       (SELECT MIN(q.entered_epoch) FROM queue_entries q
        WHERE q.status = 'waiting' AND q.skills_key = groups.skills_key) AS entered_epoch
FROM groups WHERE skills_key IS NOT NULL
ORDER BY entered_epoch, skills_key
""")


# A group's best callers: one index range (ix_queue_entries_status_group_order). Written as
# SQL text because a decision joins one of these per group the agent fits, and building
# that union with the expression language each time cost more than running it.
_GROUP_BEST = (
    "SELECT * FROM (SELECT id, order_key, entered_epoch FROM queue_entries"
    " WHERE :fits{n} AND status = 'waiting' AND skills_key = :key{n}"
    " AND entered_epoch <= :cut{n}"
    " ORDER BY order_key, entered_epoch, id LIMIT :limit) AS group{n}"
)


# PostgreSQL plans a long UNION anew on every run (its generic plan looks dearer), which
# cost more than running it; a LATERAL join over the groups the agent fits is one short
# statement with the same index range per group.
_GROUPS_BEST_LATERAL = text("""
SELECT best.id, best.order_key, best.entered_epoch
FROM unnest(CAST(:keys AS text[]), CAST(:cuts AS double precision[])) AS fit(skills_key, cut)
CROSS JOIN LATERAL (
    SELECT q.id, q.order_key, q.entered_epoch FROM queue_entries q
    WHERE q.status = 'waiting' AND q.skills_key = fit.skills_key AND q.entered_epoch <= fit.cut
    ORDER BY q.order_key, q.entered_epoch, q.id LIMIT :limit
) AS best
""")


@dataclass(frozen=True)
class GroupHead:
    skills_key: str
    entered_epoch: float  # of the group's longest-waiting caller


@dataclass(frozen=True)
class FreeAgent:
    id: int
    idle_since: datetime
    levels: dict[str, int]  # skill name: level


def best_entries_for_agent(
    session: Session, *, agent_id: int, now: datetime, policy: RoutingPolicy, limit: int,
    groups: list[str] | None = None,
) -> list[int]:
    """Ids of the waiting entries this agent may take, best first.

    Eligibility is worked out once per group of callers with the same needs (the same
    skills_key) rather than per caller: the agent fits a group at once, after a wait (skill
    expansion), or never. Within a group the router's order is the index order of
    `order_key`, so each group the agent fits gives its best `limit` callers from one index
    range, and the best of those are the answer. `groups`: the skills_keys of the waiting
    callers when the caller has just read them in this transaction."""
    levels = _levels(session, agent_id)
    keys = groups if groups is not None else session.scalars(_GROUPS).all()
    # Each group the agent fits, with the latest time of entry it may take (skill expansion).
    cuts: dict[str, float] = {}
    for key in keys:
        wait = _wait_needed(parse_skills_key(key), levels, policy)
        if wait is not None:
            cuts[key] = now.timestamp() - wait if wait else math.inf
    if not cuts:
        return []
    if session.get_bind().dialect.name == "postgresql":
        params: dict[str, object] = {"keys": list(cuts), "cuts": list(cuts.values())}
        statement = _GROUPS_BEST_LATERAL
    else:
        params = {"limit": limit}
        for n, key in enumerate(keys):
            params[f"key{n}"] = key
            params[f"fits{n}"] = key in cuts
            params[f"cut{n}"] = cuts.get(key, math.inf)
        statement = _union_of_groups(len(keys))
    found = session.execute(statement, params | {"limit": limit}).all()
    found.sort(key=lambda row: (row.order_key, row.entered_epoch, row.id))
    return [row.id for row in found[:limit]]


@functools.lru_cache(maxsize=256)
def _union_of_groups(groups: int):
    """SQLite: one branch per group, the same statement for the same number of groups (so it
    is compiled and prepared once); a group the agent does not fit is switched off by its
    parameter, which the database checks before it reads anything."""
    return text(" UNION ALL ".join(_GROUP_BEST.format(n=n) for n in range(groups)))


def parse_skills_key(key: str) -> dict[str, int]:
    """The needs a skills_key (`ivr.routing.queue.skills_key`) stands for."""
    needs = {}
    for part in filter(None, key.split(",")):
        name, _, level = part.rpartition(":")
        needs[name] = int(level)
    return needs


# Plain table columns: the statements below need no ORM entities, and the Core path costs
# less per execution than the ORM's (they run in every routing decision).
_AGENTS, _AGENT_SKILLS, _SKILLS = Agent.__table__.c, AgentSkill.__table__.c, Skill.__table__.c
_LEVELS = (
    select(_SKILLS.name, _AGENT_SKILLS.level)
    .join_from(AgentSkill.__table__, Skill.__table__, _SKILLS.id == _AGENT_SKILLS.skill_id)
    .where(_AGENT_SKILLS.agent_id == bindparam("agent_id"))
)


def _levels(session: Session, agent_id: int) -> dict[str, int]:
    return dict(session.execute(_LEVELS, {"agent_id": agent_id}).all())


def _wait_needed(needs: dict[str, int], levels: dict[str, int], policy: RoutingPolicy):
    """Seconds a caller with `needs` must have waited before an agent with `levels` may take
    them: 0 at once, None never (a skill missing, or short without skill expansion). The
    same rule as `_skill_met`: a level short by k is enough after k expansion steps."""
    longest = 0
    for name, min_level in needs.items():
        level = levels.get(name)
        if level is None:
            return None
        if level >= min_level:
            continue
        if policy.expansion_seconds <= 0:
            return None
        longest = max(longest, (min_level - level) * policy.expansion_seconds)
    return longest


_FREE_AGENTS = (
    select(_AGENTS.id, _AGENTS.idle_since, _AGENTS.state_since, _SKILLS.name, _AGENT_SKILLS.level)
    .select_from(Agent.__table__)
    .outerjoin(AgentSkill.__table__, _AGENT_SKILLS.agent_id == _AGENTS.id)
    .outerjoin(Skill.__table__, _SKILLS.id == _AGENT_SKILLS.skill_id)
    .where(_AGENTS.state == "available")
)


def free_agents(session: Session) -> list[FreeAgent]:
    """The available agents with their levels, in one query."""
    rows = session.execute(_FREE_AGENTS).all()
    levels: dict[int, dict[str, int]] = {}
    idle: dict[int, datetime] = {}
    for agent_id, idle_since, state_since, name, level in rows:
        idle[agent_id] = idle_since or state_since
        agent_levels = levels.setdefault(agent_id, {})
        if name is not None:
            agent_levels[name] = level
    return [FreeAgent(agent_id, idle[agent_id], levels[agent_id]) for agent_id in idle]


def first_fit(
    needs: dict[str, int], waited: float, free: list[FreeAgent], policy: RoutingPolicy
) -> FreeAgent | None:
    """The free agent the policy puts first among those who may take a caller with `needs`
    who has waited `waited` seconds: the longest idle, or the highest level (the sum of the
    agent's levels in the needed skills) and then the longest idle."""
    fits = []
    for agent in free:
        wait = _wait_needed(needs, agent.levels, policy)
        if wait is not None and waited >= wait:
            fits.append((agent, sum(agent.levels.get(name, 0) for name in needs)))
    if not fits:
        return None

    def order(fit: tuple[FreeAgent, int]) -> tuple:
        agent, level_sum = fit
        idle = (agent.idle_since, agent.id)
        return (-level_sum, *idle) if policy.strategy == "highest-level" else idle

    return min(fits, key=order)[0]


# Agent and entry, if both are still free, in one statement. Fresh column values (another
# process may have changed the rows); the relationships load when asked, not here.
_RESERVE = (
    select(Agent, QueueEntry)
    .join_from(Agent, QueueEntry, QueueEntry.id == bindparam("entry_id"))
    .where(
        Agent.id == bindparam("agent_id"),
        Agent.state == "available",
        QueueEntry.status == "waiting",
    )
    .options(lazyload("*"))
    .execution_options(populate_existing=True)
)
# On PostgreSQL both rows are locked; a row another router holds is skipped, so then nothing
# comes back. NO KEY UPDATE: the rows are changed but not their keys, so the foreign-key
# checks of concurrent inserts (events naming the agent) neither block nor are blocked.
_RESERVE_LOCKED = _RESERVE.with_for_update(skip_locked=True, key_share=True)


def reserve(session: Session, *, entry_id: int, agent_id: int, now: datetime) -> Reservation | None:
    """Reserve agent and entry together, or neither (when a concurrent router took one)."""
    locking = session.get_bind().dialect.name == "postgresql"
    row = session.execute(
        _RESERVE_LOCKED if locking else _RESERVE, {"agent_id": agent_id, "entry_id": entry_id}
    ).first()
    if row is None:
        return None
    agent, entry = row
    entry.status = "reserved"
    entry.agent_id = agent.id
    reservation = Reservation(
        entry_id=entry.id,
        agent_id=agent.id,
        call_id=entry.call_id,
        status="offered",
        created_at=now,
    )
    session.add(reservation)
    session.flush()  # the reservation's id, for the event
    # The agent's row is locked (or, on SQLite, the database is): its change and both events
    # go out with the transaction's next flush, the two events in one statement.
    set_state(session, agent=agent, state="reserved", now=now)
    events.record(
        session,
        "routing.reserved",
        at=now,
        call_id=entry.call_id,
        agent_id=agent.id,
        entry_id=entry.id,
        reservation_id=reservation.id,
        waited=round(now.timestamp() - entry.entered_epoch, 3),
    )
    return reservation


def route_agent(
    session: Session, *, agent_id: int, now: datetime, policy: RoutingPolicy,
    groups: list[str] | None = None,
) -> Reservation | None:
    """Give a free agent the best waiting caller they may take."""
    for entry_id in best_entries_for_agent(
        session, agent_id=agent_id, now=now, policy=policy, limit=CANDIDATES, groups=groups
    ):
        reservation = reserve(session, entry_id=entry_id, agent_id=agent_id, now=now)
        if reservation is not None:
            return reservation
    return None


def route_entry(
    session: Session, *, entry: QueueEntry, now: datetime, policy: RoutingPolicy
) -> list[Reservation]:
    """A caller arrived: find them an agent. The agent found is given the best caller they
    may take, which is this one unless someone ranked higher also fits."""
    made: list[Reservation] = []
    needs = parse_skills_key(entry.skills_key)
    waited = now.timestamp() - entry.entered_epoch
    for _ in range(CANDIDATES):
        if entry.status != "waiting":
            break
        agent = first_fit(needs, waited, free_agents(session), policy)
        if agent is None:
            break
        reservation = route_agent(session, agent_id=agent.id, now=now, policy=policy)
        if reservation is None:
            break
        made.append(reservation)
    return made


def group_heads(session: Session) -> list[GroupHead]:
    """The longest-waiting caller of each group, one query for all the groups."""
    return [GroupHead(*row) for row in session.execute(_GROUP_HEADS)]


def sweep(
    session: Session, *, now: datetime, policy: RoutingPolicy, limit: int = 100
) -> list[Reservation]:
    """Route everything routable now: finished wrap-ups, aging and skill expansion may have
    made matches since the last event. With no agent free it stops at once, whatever the
    length of the queue (the usual case in a busy center, after every webhook)."""
    end_finished_wrap_ups(session, now=now)
    made: list[Reservation] = []
    while len(made) < limit:
        free = free_agents(session)
        if not free:
            break
        progress = False
        heads = group_heads(session)
        # No group appears within this transaction but by our own hand: the router may use
        # this list of groups for each agent it routes in this pass.
        groups = [head.skills_key for head in heads]
        for head in heads:
            waited = now.timestamp() - head.entered_epoch
            agent = first_fit(parse_skills_key(head.skills_key), waited, free, policy)
            if agent is None:
                continue
            reservation = route_agent(
                session, agent_id=agent.id, now=now, policy=policy, groups=groups
            )
            if reservation is not None:
                made.append(reservation)
                progress = True
                free = [other for other in free if other.id != agent.id]
                if not free:
                    break
        if not progress or not free:
            break
    return made
