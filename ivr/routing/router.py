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

from sqlalchemy import Float, Integer, String, bindparam, exists, or_, select, text
from sqlalchemy.orm import Session, aliased, lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from ivr import events
from ivr.db import UTCDateTime, for_change
from ivr.events import NOT_READING_EVENTS
from ivr.routing.models import (
    Agent,
    AgentSkill,
    QueueEntry,
    QueueEntrySkill,
    Reservation,
)
from ivr.routing.policy import RoutingPolicy
from ivr.routing.presence import end_finished_wrap_ups, record_change, set_state

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
# A decision is a few statements, and on PostgreSQL each one's round trip costs more than
# the work it asks for: what a decision reads comes in one statement, and on PostgreSQL what
# it writes in one more (`_TAKE_BEST`).

# The groups of waiting callers and the agent's levels.
_GROUPS_AND_LEVELS = text(_GROUPS_CTE + """
SELECT skills_key AS name, NULL AS level FROM groups WHERE skills_key IS NOT NULL
UNION ALL
SELECT skills.name, agent_skills.level FROM agent_skills
JOIN skills ON skills.id = agent_skills.skill_id
WHERE agent_skills.agent_id = :agent_id
""").columns(name=String, level=Integer).execution_options(**NOT_READING_EVENTS)

# The free agents with their levels, as rows of `_ROUND`.
_FREE_SQL = """
SELECT 'free' AS kind, skills.name AS name, CAST(NULL AS FLOAT) AS epoch, agents.id AS agent_id,
       COALESCE(agents.idle_since, agents.state_since) AS since, agent_skills.level AS level
FROM agents
LEFT JOIN agent_skills ON agent_skills.agent_id = agents.id
LEFT JOIN skills ON skills.id = agent_skills.skill_id
WHERE agents.state = 'available'
"""
_ROUND_COLUMNS = {"kind": String, "name": String, "epoch": Float, "agent_id": Integer,
                  "since": UTCDateTime(), "level": Integer}
_FREE = text(_FREE_SQL).columns(**_ROUND_COLUMNS).execution_options(**NOT_READING_EVENTS)

# What a routing round looks at: each group with the time of entry of its longest-waiting
# caller (the one with the most relaxed levels: if no agent fits it, none fits the rest of
# the group), the free agents, and the agents whose wrap-up is over.
_ROUND = text(_GROUPS_CTE + """
SELECT 'group', skills_key,
       (SELECT MIN(q.entered_epoch) FROM queue_entries q
        WHERE q.status = 'waiting' AND q.skills_key = groups.skills_key),
       NULL, NULL, NULL
FROM groups WHERE skills_key IS NOT NULL
UNION ALL""" + _FREE_SQL + """UNION ALL
SELECT 'wrapped-up', NULL, NULL, agents.id, NULL, NULL FROM agents
WHERE agents.state = 'wrap-up' AND agents.wrapup_until <= :now
""").bindparams(bindparam("now", type_=UTCDateTime())).columns(
    **_ROUND_COLUMNS
).execution_options(**NOT_READING_EVENTS)

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
_LATERAL_BEST = """
SELECT best.id, best.order_key, best.entered_epoch
FROM unnest(CAST(:keys AS text[]), CAST(:cuts AS double precision[])) AS fit(skills_key, cut)
CROSS JOIN LATERAL (
    SELECT q.id, q.order_key, q.entered_epoch FROM queue_entries q
    WHERE q.status = 'waiting' AND q.skills_key = fit.skills_key AND q.entered_epoch <= fit.cut
    ORDER BY q.order_key, q.entered_epoch, q.id LIMIT :limit
) AS best
"""
_GROUPS_BEST_LATERAL = text(_LATERAL_BEST).execution_options(**NOT_READING_EVENTS)

# PostgreSQL: the reservation in one statement. The best candidate whose row and the agent's
# are both free of other routers' locks (FOR NO KEY UPDATE ... SKIP LOCKED: a row another
# router holds is passed over, the next candidate tried; LIMIT applies to rows locked), then
# both rows changed and the reservation written. The rows are changed but not their keys
# (NO KEY), so concurrent inserts naming them (events) neither block nor are blocked. The
# changes are those of `reserve` and `set_state` (the entry's version bumped as the ORM
# would); `_taken` tells the session.
_TAKE_BEST = text(f"""
WITH candidates AS ({_LATERAL_BEST}),
picked AS (
    SELECT a.id AS agent_id, a.state_since, e.id AS entry_id, e.call_id, e.entered_epoch
    FROM agents a
    CROSS JOIN candidates c
    JOIN queue_entries e ON e.id = c.id
    WHERE a.id = :agent_id AND a.state = 'available' AND e.status = 'waiting'
    ORDER BY c.order_key, c.entered_epoch, c.id
    LIMIT 1
    FOR NO KEY UPDATE OF a, e SKIP LOCKED
),
entry_taken AS (
    UPDATE queue_entries SET status = 'reserved', agent_id = picked.agent_id,
        version = queue_entries.version + 1
    FROM picked WHERE queue_entries.id = picked.entry_id
    RETURNING queue_entries.version
),
agent_taken AS (
    UPDATE agents SET state = 'reserved', state_reason = NULL, state_since = :now
    FROM picked WHERE agents.id = picked.agent_id
),
made AS (
    INSERT INTO reservations (entry_id, agent_id, call_id, status, created_at)
    SELECT entry_id, agent_id, call_id, 'offered', :now FROM picked
    RETURNING id
)
SELECT made.id, picked.agent_id, picked.state_since, picked.entry_id, picked.call_id,
       picked.entered_epoch, entry_taken.version
FROM made CROSS JOIN picked CROSS JOIN entry_taken
""").bindparams(bindparam("now", type_=UTCDateTime())).columns(
    id=Integer, agent_id=Integer, state_since=UTCDateTime(), entry_id=Integer,
    call_id=Integer, entered_epoch=Float, version=Integer,
).execution_options(**NOT_READING_EVENTS)


@dataclass(frozen=True)
class GroupHead:
    skills_key: str
    entered_epoch: float  # of the group's longest-waiting caller


@dataclass(frozen=True)
class FreeAgent:
    id: int
    idle_since: datetime
    levels: dict[str, int]  # skill name: level


@dataclass(frozen=True)
class Round:
    """What the router sees at the start of a round (`look`)."""

    heads: list[GroupHead]  # longest-waiting first
    free: list[FreeAgent]
    wrap_ups_over: bool  # some agent's wrap-up time is over, and they are not yet available


def look(session: Session, *, now: datetime) -> Round:
    """The groups, the free agents and the finished wrap-ups, in one read."""
    return _seen(session.execute(_ROUND, {"now": now}))


def free_agents(session: Session) -> list[FreeAgent]:
    """The available agents with their levels."""
    return _seen(session.execute(_FREE)).free


def _seen(rows) -> Round:
    heads, wrap_ups_over = [], False
    levels: dict[int, dict[str, int]] = {}
    idle: dict[int, datetime] = {}
    for kind, name, epoch, agent_id, since, level in rows:
        if kind == "group":
            heads.append(GroupHead(name, epoch))
        elif kind == "free":
            idle[agent_id] = since
            agent_levels = levels.setdefault(agent_id, {})
            if name is not None:
                agent_levels[name] = level
        else:
            wrap_ups_over = True
    heads.sort(key=lambda head: (head.entered_epoch, head.skills_key))
    free = [FreeAgent(agent_id, idle[agent_id], levels[agent_id]) for agent_id in idle]
    return Round(heads, free, wrap_ups_over)


def best_entries_for_agent(
    session: Session, *, agent_id: int, now: datetime, policy: RoutingPolicy, limit: int,
) -> list[int]:
    """Ids of the waiting entries this agent may take, best first.

    Eligibility is worked out once per group of callers with the same needs (the same
    skills_key) rather than per caller: the agent fits a group at once, after a wait (skill
    expansion), or never. Within a group the router's order is the index order of
    `order_key`, so each group the agent fits gives its best `limit` callers from one index
    range, and the best of those are the answer."""
    keys, levels = _groups_and_levels(session, agent_id)
    return _best_entries(session, keys, _cuts(keys, levels, now, policy), limit)


def _groups_and_levels(session: Session, agent_id: int) -> tuple[list[str], dict[str, int]]:
    keys, levels = [], {}
    for name, level in session.execute(_GROUPS_AND_LEVELS, {"agent_id": agent_id}):
        if level is None:
            keys.append(name)
        else:
            levels[name] = level
    return keys, levels


def _cuts(
    keys: list[str], levels: dict[str, int], now: datetime, policy: RoutingPolicy
) -> dict[str, float]:
    """Each group the agent fits, with the latest time of entry it may take (skill
    expansion)."""
    cuts: dict[str, float] = {}
    for key in keys:
        wait = _wait_needed(parse_skills_key(key), levels, policy)
        if wait is not None:
            cuts[key] = now.timestamp() - wait if wait else math.inf
    return cuts


def _best_entries(
    session: Session, keys: list[str], cuts: dict[str, float], limit: int
) -> list[int]:
    if not cuts:
        return []
    if _is_postgresql(session):
        params: dict[str, object] = {"keys": list(cuts), "cuts": list(cuts.values())}
        statement = _GROUPS_BEST_LATERAL
    else:
        params = {}
        for n, key in enumerate(keys):
            params[f"key{n}"] = key
            params[f"fits{n}"] = key in cuts
            params[f"cut{n}"] = cuts.get(key, math.inf)
        statement = _union_of_groups(len(keys))
    found = session.execute(statement, params | {"limit": limit}).all()
    found.sort(key=lambda row: (row.order_key, row.entered_epoch, row.id))
    return [row.id for row in found[:limit]]


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


@functools.lru_cache(maxsize=256)
def _union_of_groups(groups: int):
    """SQLite: one branch per group, the same statement for the same number of groups (so it
    is compiled and prepared once); a group the agent does not fit is switched off by its
    parameter, which the database checks before it reads anything."""
    union = " UNION ALL ".join(_GROUP_BEST.format(n=n) for n in range(groups))
    return text(union).execution_options(**NOT_READING_EVENTS)


def parse_skills_key(key: str) -> dict[str, int]:
    """The needs a skills_key (`ivr.routing.queue.skills_key`) stands for."""
    needs = {}
    for part in filter(None, key.split(",")):
        name, _, level = part.rpartition(":")
        needs[name] = int(level)
    return needs


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
# On PostgreSQL both rows are locked (`for_change`); a row another router holds is skipped,
# so then nothing comes back.
_RESERVE_LOCKED = for_change(_RESERVE, skip_locked=True)


def reserve(session: Session, *, entry_id: int, agent_id: int, now: datetime) -> Reservation | None:
    """Reserve agent and entry together, or neither (when a concurrent router took one)."""
    row = session.execute(
        _RESERVE_LOCKED if _is_postgresql(session) else _RESERVE,
        {"agent_id": agent_id, "entry_id": entry_id},
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
    _record_reserved(session, reservation, entered_epoch=entry.entered_epoch, now=now)
    return reservation


def _record_reserved(
    session: Session, reservation: Reservation, *, entered_epoch: float, now: datetime
) -> None:
    events.record(
        session,
        "routing.reserved",
        at=now,
        call_id=reservation.call_id,
        agent_id=reservation.agent_id,
        entry_id=reservation.entry_id,
        reservation_id=reservation.id,
        waited=round(now.timestamp() - entered_epoch, 3),
    )


def _take_best(
    session: Session, *, agent_id: int, cuts: dict[str, float], now: datetime
) -> Reservation | None:
    """PostgreSQL: reserve the agent and the best caller of `cuts` they can have."""
    row = session.execute(_TAKE_BEST, {
        "agent_id": agent_id, "keys": list(cuts), "cuts": list(cuts.values()),
        "limit": CANDIDATES, "now": now,
    }).first()
    return None if row is None else _taken(session, row, now=now)


def _taken(session: Session, row, *, now: datetime) -> Reservation:
    """What `_TAKE_BEST` wrote, told to the session as if it had loaded it, and the events
    `reserve` records."""
    reservation = Reservation(
        id=row.id, entry_id=row.entry_id, agent_id=row.agent_id, call_id=row.call_id,
        status="offered", created_at=now, answered_at=None, ended_at=None,
        agent_call_sid=None, result=None,
    )
    make_transient_to_detached(reservation)
    session.add(reservation)
    _written(session, Agent, row.agent_id, state="reserved", state_reason=None, state_since=now)
    _written(session, QueueEntry, row.entry_id, status="reserved", agent_id=row.agent_id,
             version=row.version)
    record_change(session, agent_id=row.agent_id, state="reserved", previous="available",
                  since=row.state_since, now=now)
    _record_reserved(session, reservation, entered_epoch=row.entered_epoch, now=now)
    return reservation


def _written(session: Session, cls: type, ident: int, **values: object) -> None:
    """A row changed in SQL: the session's copy, if it holds one, takes the new values."""
    obj = session.identity_map.get(identity_key(cls, ident))
    if obj is not None:
        for name, value in values.items():
            set_committed_value(obj, name, value)


def route_agent(
    session: Session, *, agent_id: int, now: datetime, policy: RoutingPolicy,
    groups: list[str] | None = None, levels: dict[str, int] | None = None,
) -> Reservation | None:
    """Give a free agent the best waiting caller they may take. `groups`: the skills_keys of
    the waiting callers, `levels`: the agent's, when the caller has just read them in this
    transaction."""
    if groups is None or levels is None:
        found_groups, found_levels = _groups_and_levels(session, agent_id)
        groups = found_groups if groups is None else groups
        levels = found_levels if levels is None else levels
    cuts = _cuts(groups, levels, now, policy)
    if not cuts:
        return None
    if _is_postgresql(session):
        return _take_best(session, agent_id=agent_id, cuts=cuts, now=now)
    # SQLite: the transaction holds the database's one write lock, so the first candidate
    # is free; the loop is the same rule as the locked statement's.
    for entry_id in _best_entries(session, groups, cuts, CANDIDATES):
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
        reservation = route_agent(
            session, agent_id=agent.id, now=now, policy=policy, levels=agent.levels
        )
        if reservation is None:
            break
        made.append(reservation)
    return made


def sweep(
    session: Session, *, now: datetime, policy: RoutingPolicy, limit: int = 100
) -> list[Reservation]:
    """Route everything routable now: finished wrap-ups, aging and skill expansion may have
    made matches since the last event. With no agent free it stops after one read, whatever
    the length of the queue (the usual case in a busy center, after every webhook)."""
    made: list[Reservation] = []
    ended_wrap_ups = False
    while len(made) < limit:
        seen = look(session, now=now)
        if seen.wrap_ups_over and not ended_wrap_ups:
            end_finished_wrap_ups(session, now=now)
            ended_wrap_ups = True
            continue  # those agents are free now
        free = seen.free
        if not free:
            break
        progress = False
        # No group appears within this transaction but by our own hand: the router may use
        # this list of groups for each agent it routes in this pass.
        groups = [head.skills_key for head in seen.heads]
        for head in seen.heads:
            waited = now.timestamp() - head.entered_epoch
            agent = first_fit(parse_skills_key(head.skills_key), waited, free, policy)
            if agent is None:
                continue
            reservation = route_agent(
                session, agent_id=agent.id, now=now, policy=policy, groups=groups,
                levels=agent.levels,
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
