"""The router: matches waiting callers to free agents.

Waiting entries are served by effective priority (priority plus aging), then by time of
entry. An agent is eligible when each required skill meets its minimum level, relaxed step by
step as the wait grows. Among eligible free agents the policy picks the longest idle (or the
highest level). Agent and entry are reserved together in one transaction; on PostgreSQL the
two rows are locked with FOR UPDATE SKIP LOCKED, so routers running at once in many
processes never give one agent two calls or one call two agents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, and_, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

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


def _rank(now_epoch: float, policy: RoutingPolicy):
    waited = literal(now_epoch) - QueueEntry.entered_epoch
    return (QueueEntry.priority + policy.aging_per_minute * waited / 60.0).desc()


def best_entries_for_agent(
    session: Session, *, agent_id: int, now: datetime, policy: RoutingPolicy, limit: int
) -> list[int]:
    """Ids of the waiting entries this agent may take, best first.

    Eligibility is worked out once per group of callers with the same needs (the same
    skills_key) rather than per caller: the agent fits a group at once, after a wait (skill
    expansion), or never. So the query reads the groups' index ranges instead of checking
    every waiting caller's skills against the agent's."""
    levels = _levels(session, agent_id)
    waited = literal(now.timestamp()) - QueueEntry.entered_epoch
    at_once: list[str] = []
    after_wait = []
    for key in session.scalars(
        select(QueueEntry.skills_key).where(QueueEntry.status == "waiting").distinct()
    ):
        wait = _wait_needed(parse_skills_key(key), levels, policy)
        if wait == 0:
            at_once.append(key)
        elif wait is not None:
            after_wait.append(and_(QueueEntry.skills_key == key, waited >= wait))
    if at_once:
        after_wait.append(QueueEntry.skills_key.in_(at_once))
    if not after_wait:
        return []
    query = (
        select(QueueEntry.id)
        .where(QueueEntry.status == "waiting", or_(*after_wait))
        .order_by(_rank(now.timestamp(), policy), QueueEntry.entered_epoch, QueueEntry.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def parse_skills_key(key: str) -> dict[str, int]:
    """The needs a skills_key (`ivr.routing.queue.skills_key`) stands for."""
    needs = {}
    for part in filter(None, key.split(",")):
        name, _, level = part.rpartition(":")
        needs[name] = int(level)
    return needs


def _levels(session: Session, agent_id: int) -> dict[str, int]:
    return dict(
        session.execute(
            select(Skill.name, AgentSkill.level)
            .join(Skill, Skill.id == AgentSkill.skill_id)
            .where(AgentSkill.agent_id == agent_id)
        ).all()
    )


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


def candidate_agents(
    session: Session, *, entry: QueueEntry, now: datetime, policy: RoutingPolicy, limit: int
) -> list[int]:
    """Ids of the free agents eligible for this entry, in the policy's order."""
    waited = literal(now.timestamp() - entry.entered_epoch)
    query: Select = select(Agent.id).where(
        Agent.state == "available", _eligible(literal(entry.id), waited, Agent.id, policy)
    )
    idle = func.coalesce(Agent.idle_since, Agent.state_since)
    if policy.strategy == "highest-level":
        req = aliased(QueueEntrySkill)
        level_sum = (
            select(func.coalesce(func.sum(AgentSkill.level), 0))
            .join(req, and_(req.skill_id == AgentSkill.skill_id, req.entry_id == entry.id))
            .where(AgentSkill.agent_id == Agent.id)
            .scalar_subquery()
        )
        query = query.order_by(level_sum.desc(), idle, Agent.id)
    else:
        query = query.order_by(idle, Agent.id)
    return list(session.scalars(query.limit(limit)))


def _locked(session: Session, statement: Select):
    if session.get_bind().dialect.name == "postgresql":
        # NO KEY UPDATE: the rows are changed but not their keys, so the foreign-key checks of
        # concurrent inserts (events naming the agent) neither block nor are blocked.
        statement = statement.with_for_update(skip_locked=True, key_share=True)
    return session.scalars(statement.execution_options(populate_existing=True)).first()


def reserve(session: Session, *, entry_id: int, agent_id: int, now: datetime) -> Reservation | None:
    """Reserve agent and entry together, or neither (when a concurrent router took one)."""
    agent = _locked(session, select(Agent).where(Agent.id == agent_id, Agent.state == "available"))
    if agent is None:
        return None
    entry = _locked(
        session, select(QueueEntry).where(QueueEntry.id == entry_id, QueueEntry.status == "waiting")
    )
    if entry is None:
        return None
    set_state(session, agent=agent, state="reserved", now=now)
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
    session.flush()
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
    session: Session, *, agent_id: int, now: datetime, policy: RoutingPolicy
) -> Reservation | None:
    """Give a free agent the best waiting caller they may take."""
    for entry_id in best_entries_for_agent(
        session, agent_id=agent_id, now=now, policy=policy, limit=CANDIDATES
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
    for _ in range(CANDIDATES):
        if entry.status != "waiting":
            break
        agents = candidate_agents(session, entry=entry, now=now, policy=policy, limit=1)
        if not agents:
            break
        reservation = route_agent(session, agent_id=agents[0], now=now, policy=policy)
        if reservation is None:
            break
        made.append(reservation)
    return made


def _group_heads(session: Session) -> list[QueueEntry]:
    """The longest-waiting entry of each group of callers with the same needs (the lowest id
    among those who entered at the same moment): the one with the most relaxed levels, so if
    no agent fits it, none fits the rest of the group. One query for all the groups."""
    oldest = (
        select(QueueEntry.skills_key, func.min(QueueEntry.entered_epoch).label("first"))
        .where(QueueEntry.status == "waiting")
        .group_by(QueueEntry.skills_key)
        .subquery()
    )
    candidates = session.scalars(
        select(QueueEntry)
        .join(
            oldest,
            and_(
                QueueEntry.skills_key == oldest.c.skills_key,
                QueueEntry.entered_epoch == oldest.c.first,
            ),
        )
        .where(QueueEntry.status == "waiting")
        .order_by(QueueEntry.id)
    )
    heads: dict[str, QueueEntry] = {}
    for entry in candidates:
        heads.setdefault(entry.skills_key, entry)
    return list(heads.values())


def _free_agents(session: Session) -> list[Agent]:
    return list(session.scalars(select(Agent).where(Agent.state == "available")))


def _first_fit(
    entry: QueueEntry, free: list[Agent], *, now: datetime, policy: RoutingPolicy
) -> Agent | None:
    """What `candidate_agents(entry, limit=1)` answers, worked out on the free agents already
    loaded: the eligible one the policy puts first."""
    waited = now.timestamp() - entry.entered_epoch
    required = [(req.skill_id, req.min_level) for req in entry.required]
    fits = []
    for agent in free:
        levels = {skill.skill_id: skill.level for skill in agent.skills}
        if all(_level_met(levels.get(s), m, waited, policy) for s, m in required):
            fits.append((agent, sum(levels.get(s, 0) for s, _ in required)))
    if not fits:
        return None

    def order(fit: tuple[Agent, int]) -> tuple:
        agent, level_sum = fit
        idle = (agent.idle_since or agent.state_since, agent.id)
        return (-level_sum, *idle) if policy.strategy == "highest-level" else idle

    return min(fits, key=order)[0]


def _level_met(level: int | None, min_level: int, waited: float, policy: RoutingPolicy) -> bool:
    """`_skill_met` in Python, with the same arithmetic."""
    if level is None:
        return False
    if level >= min_level:
        return True
    return policy.expansion_seconds > 0 and waited >= (min_level - level) * policy.expansion_seconds


def sweep(
    session: Session, *, now: datetime, policy: RoutingPolicy, limit: int = 100
) -> list[Reservation]:
    """Route everything routable now: finished wrap-ups, aging and skill expansion may have
    made matches since the last event. With no agent free it stops at once, whatever the
    length of the queue (the usual case in a busy center, after every webhook)."""
    end_finished_wrap_ups(session, now=now)
    made: list[Reservation] = []
    while len(made) < limit:
        free = _free_agents(session)
        if not free:
            break
        progress = False
        for head in _group_heads(session):
            agent = _first_fit(head, free, now=now, policy=policy)
            if agent is None:
                continue
            reservation = route_agent(session, agent_id=agent.id, now=now, policy=policy)
            if reservation is not None:
                made.append(reservation)
                progress = True
                free = [other for other in free if other.id != agent.id]
                if not free:
                    break
        if not progress:
            break
    return made
