"""A call center driven through the real domain functions with a manual clock (calls opened,
queued, reserved, answered, transferred, hung up, missed, called back), so the KPI tests know
every wait and talk time to the second; and the day most of them use."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from callback import missed
from callback import service as callbacks
from callback.followups import close_for_number
from callback.models import CallbackAttempt
from callback.policy import CallbackPolicy
from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.calls.models import Call, CallWrapUp
from ivr.calls.service import apply_status, open_inbound_call
from ivr.clock import ManualClock
from ivr.routing import queue, reservations, transfer
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.routing.presence import set_state
from ivr.routing.router import reserve
from ivr.users.service import add_user

MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
UTC_CALENDAR = BusinessCalendar.from_spec(timezone="UTC", hours="always")
_sids = itertools.count(1)


class Center:
    """One session and the clock: each step happens now, as the webhooks would do it."""

    def __init__(self, session: Any, clock: ManualClock,
                 calendar: BusinessCalendar = UTC_CALENDAR) -> None:
        self.session, self.clock, self.calendar = session, clock, calendar
        self.policy = CallbackPolicy()

    @property
    def now(self) -> datetime:
        return self.clock.now()

    def wait(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def at(self, moment: datetime) -> None:
        self.clock.set(moment)

    def agent(self, name: str, skills: dict[str, int]) -> Agent:
        agent = add_agent(self.session, name=name, endpoint=f"client:{name}", skills=skills,
                          now=self.now)
        set_state(self.session, agent=agent, state="available", now=self.now)
        return agent

    def arrive(self, number: str, skill: str | None) -> tuple[Call, QueueEntry | None]:
        call, _ = open_inbound_call(self.session, sid=f"CA{next(_sids):032x}",
                                    from_number=number, to_number="+15005550006", now=self.now)
        if skill is None:
            return call, None
        entry = queue.enqueue(self.session, call=call, skills={skill: 1}, priority=1,
                              reasons=[], now=self.now)
        return call, entry

    def answer(self, entry: QueueEntry, agent: Agent) -> Reservation:
        reservation = reserve(self.session, entry_id=entry.id, agent_id=agent.id, now=self.now)
        assert reservation is not None, f"{agent.name} could not be reserved"
        assert reservations.answered(self.session, reservation=reservation, now=self.now,
                                     agent_call_sid=f"CA{next(_sids):032x}")
        close_for_number(self.session, number=entry.call.from_number, now=self.now,
                         by="answered inbound call")
        return reservation

    def hang_up(self, call: Call) -> None:
        """The carrier's final status: the call ends (abandoned if still queued), and a missed
        call is recorded as the status webhook does."""
        assert apply_status(self.session, call=call, status="completed", now=self.now,
                            wrap_up_seconds=30)
        missed.on_call_ended(self.session, call=call, now=self.now, calendar=self.calendar,
                             policy=self.policy,
                             entry=queue.last_call_entry(self.session, call=call))

    def available(self, agent: Agent) -> None:
        set_state(self.session, agent=agent, state="available", now=self.now, by="wrap-up done")

    def wrap_up(self, call: Call, agent: Agent, category: str) -> None:
        self.session.add(CallWrapUp(call_id=call.id, agent_id=agent.id, category=category,
                                    resolved=True, at=self.now))

    def handled(self, number: str, skill: str, agent: Agent, *, wait: float, talk: float,
                wrap: float, category: str | None = None) -> Call:
        call, entry = self.arrive(number, skill)
        self.wait(wait)
        self.answer(entry, agent)
        self.wait(talk)
        self.hang_up(call)
        self.wait(wrap)
        self.available(agent)
        if category:
            self.wrap_up(call, agent, category)
        return call

    def abandoned(self, number: str, skill: str, *, wait: float) -> Call:
        call, _ = self.arrive(number, skill)
        self.wait(wait)
        self.hang_up(call)
        return call

    def transfer(self, reservation: Reservation, skill: str) -> QueueEntry:
        return transfer.to_skill(self.session, reservation=reservation, skill=skill,
                                 note="needs billing", now=self.now, wrap_up_seconds=30)

    def callback_kept(self, number: str, skill: str, *, wait: float) -> tuple[Call, Any]:
        """The caller is offered a callback, keeps their place and hangs up."""
        call, entry = self.arrive(number, skill)
        self.wait(wait)
        events.record(self.session, "callback.offered", at=self.now, call_id=call.id,
                      entry_id=entry.id, estimate=300)
        callback = callbacks.keep_place(self.session, call=call, entry=entry, number=number,
                                        now=self.now, policy=self.policy)
        self.hang_up(call)
        return call, callback

    def call_back(self, callback: Any, agent: Agent, *, talk: float) -> None:
        """The agent takes the callback and the customer is reached."""
        reservation = reserve(self.session, entry_id=callback.entry_id, agent_id=agent.id,
                              now=self.now)
        assert reservation is not None
        reservations.answered(self.session, reservation=reservation, now=self.now,
                              agent_call_sid=f"CA{next(_sids):032x}")
        attempt = callbacks.start_attempt(self.session, callback=callback,
                                          reservation=reservation,
                                          agent_call_sid=reservation.agent_call_sid,
                                          now=self.now)
        self.wait(talk)
        callbacks.finish_attempt(self.session, attempt=attempt, result="completed", now=self.now,
                                 calendar=self.calendar, policy=self.policy)
        reservations.finished(self.session, reservation=reservation, now=self.now,
                              wrap_up_seconds=0)
        assert isinstance(attempt, CallbackAttempt)


def a_monday(center: Center) -> dict[str, Agent]:
    """Monday 23 November 2026 (UTC), service level 20 s, short abandons under 5 s:

    10:00 c1 +..01 billing, ann after 10 s, talks 120, wraps up 30 (billing question)
    10:10 c2 +..02 billing, ann after 25 s, talks 60, wraps up 20 (payment problem)
    10:20 c3 +..03 technical, ben after 5 s, talks 100, transfers to billing, wraps up 10;
          ann answers 15 s after (120 s after the caller queued), talks 50, wraps up 30
          (technical fault)
    10:40 c4 +..04 general, hangs up after 40 s: abandoned, a missed call, a follow-up
    10:50 c5 +..05 general, hangs up after 3 s: a short abandon, a missed call, a follow-up
    11:05 c6 +..05 billing, ann after 4 s, talks 30, no wrap-up: +..05's follow-up done
    11:10 c7 +..06 billing, offered a callback after 50 s, keeps their place, hangs up;
          11:20 ann calls back (talks 60)
    11:40 c8 +..07 hangs up in the IVR after 20 s
    Wednesday 09:00 c9 +..01 again (so c1's caller is a repeat caller), ann after 2 s,
          talks 10, wraps up 5."""
    center.at(MONDAY.replace(hour=9, minute=30))
    ann = center.agent("ann", {"billing": 3, "general": 2})
    ben = center.agent("ben", {"technical": 2})
    center.at(MONDAY.replace(hour=10))
    center.handled("+15550000001", "billing", ann, wait=10, talk=120, wrap=30,
                   category="billing question")
    center.at(MONDAY.replace(hour=10, minute=10))
    center.handled("+15550000002", "billing", ann, wait=25, talk=60, wrap=20,
                   category="payment problem")
    center.at(MONDAY.replace(hour=10, minute=20))
    c3, entry = center.arrive("+15550000003", "technical")
    center.wait(5)
    first = center.answer(entry, ben)
    center.wait(100)
    second_entry = center.transfer(first, "billing")
    center.wait(10)
    center.available(ben)
    center.wait(5)
    center.answer(second_entry, ann)
    center.wait(50)
    center.hang_up(c3)
    center.wait(30)
    center.available(ann)
    center.wrap_up(c3, ann, "technical fault")
    center.at(MONDAY.replace(hour=10, minute=40))
    center.abandoned("+15550000004", "general", wait=40)
    center.at(MONDAY.replace(hour=10, minute=50))
    center.abandoned("+15550000005", "general", wait=3)
    center.at(MONDAY.replace(hour=11, minute=5))
    center.handled("+15550000005", "billing", ann, wait=4, talk=30, wrap=0)
    center.at(MONDAY.replace(hour=11, minute=10))
    _, kept = center.callback_kept("+15550000006", "billing", wait=50)
    center.at(MONDAY.replace(hour=11, minute=20))
    center.call_back(kept, ann, talk=60)
    center.available(ann)
    center.at(MONDAY.replace(hour=11, minute=40))
    c8, _ = center.arrive("+15550000007", None)
    center.wait(20)
    center.hang_up(c8)
    center.at(MONDAY.replace(day=25, hour=9))
    center.handled("+15550000001", "billing", ann, wait=2, talk=10, wrap=5)
    center.session.flush()
    return {"ann": ann, "ben": ben}


@pytest.fixture
def monday(db, clock) -> dict[str, int]:
    """a_monday in the database; the agents' ids by name."""
    with db.transaction() as session:
        agents = a_monday(Center(session, clock))
        return {name: agent.id for name, agent in agents.items()}


@pytest.fixture
def supervisor(db, clock) -> dict[str, str]:
    with db.transaction() as session:
        _, token = add_user(session, username="sue", password="pw-1234", role="supervisor",
                            now=clock.now())
    return {"Authorization": f"Bearer {token}"}


def later(moment: datetime, **delta: float) -> datetime:
    return moment + timedelta(**delta)
