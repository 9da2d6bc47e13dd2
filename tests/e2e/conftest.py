"""A call center on a real port: the service, its offline carrier, agents with softphones and
sign-ins, and callers placed through the carrier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from ivr.clock import ManualClock
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.sim import CallerScript, Device
from ivr.users.service import add_user
from ivr.voice.whisper import ACCEPT_KEY

from support import wait_for


class Center:
    def __init__(self, live: Any) -> None:
        self.live = live
        self.rt = live.runtime
        self.carrier = live.carrier
        self.tokens: dict[str, str] = {}
        self.supervisor = self._user("sup", "supervisor", None)

    def _user(self, name: str, role: str, agent_id: int | None) -> str:
        with self.live.db.transaction() as session:
            _, token = add_user(session, username=name, password="pw-123", role=role,
                                now=self.rt.clock.now(), agent_id=agent_id)
        self.tokens[name] = token
        return token

    def agent(self, name: str, skills: dict[str, int], *, device: str = "auto",
              answer_after: float = 1, talk_time: float = 5, available: bool = True,
              mobile: str | None = None, answered_by: str = "human",
              accepts: bool = True) -> int:
        """An agent on a softphone (`device`), or on the phone number `mobile`, picked up by
        `answered_by` (a person, or the phone's voicemail: "machine"), who takes each call
        with the key the whisper asks for if `accepts`."""
        with self.live.db.transaction() as session:
            agent = add_agent(session, name=name, endpoint=mobile or f"client:{name}",
                              skills=skills, now=self.rt.clock.now())
            agent_id = agent.id
        self._user(name, "agent", agent_id)
        if mobile:
            self.carrier.set_callee(mobile, CallerScript(
                answer=device != "off", answer_after=answer_after, answered_by=answered_by,
                answers=[ACCEPT_KEY] if accepts else [],
                # On a call made to them (a callback), counted from its start: the whisper
                # and the customer's ringing are part of it. A caller's <Dial> to them ends
                # with the caller.
                hangup_after=answer_after + talk_time))
        else:
            self.carrier.set_device(Device(name, mode=device, answer_after=answer_after,
                                           talk_time=talk_time))
        if available:
            self.set_state(name, "available")
        return agent_id

    def api(self, method: str, path: str, *, as_: str = "sup", **kwargs: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"}
        return requests.request(method, self.live.url + path, headers=headers, timeout=10,
                                **kwargs)

    def set_state(self, name: str, state: str, reason: str | None = None) -> dict:
        agent_id = self.agent_id(name)
        body = {"state": state, **({"reason": reason} if reason else {})}
        response = self.api("PUT", f"/api/agents/{agent_id}/state", as_=name, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def agent_id(self, name: str) -> int:
        with self.live.db.transaction() as session:
            return session.scalar(select(Agent.id).where(Agent.name == name))

    def agent_row(self, name: str) -> Agent:
        with self.live.db.transaction() as session:
            return session.scalar(select(Agent).where(Agent.name == name))

    def call(self, answers: list[str | None], number: str, **script: Any) -> str:
        return self.carrier.place_call(number, caller=CallerScript(answers=answers, **script))

    def call_row(self, sid: str) -> Call | None:
        with self.live.db.transaction() as session:
            return session.scalar(select(Call).where(Call.sid == sid))

    def entry(self, sid: str) -> QueueEntry | None:
        with self.live.db.transaction() as session:
            return session.scalar(
                select(QueueEntry).join(Call).where(Call.sid == sid).order_by(QueueEntry.id)
            )

    def waiting(self, sid: str) -> bool:
        entry = self.entry(sid)
        return entry is not None and entry.status == "waiting"

    def answered_by(self, sid: str) -> list[str]:
        """Names of the agents who answered this call, in order."""
        with self.live.db.transaction() as session:
            rows = session.execute(
                select(Agent.name)
                .join(CallEvent, CallEvent.agent_id == Agent.id)
                .join(Call, Call.id == CallEvent.call_id)
                .where(Call.sid == sid, CallEvent.kind == "call.answered")
                .order_by(CallEvent.id)
            )
            return [name for (name,) in rows]

    def answer_order(self) -> list[str]:
        """Call sids in the order agents answered them."""
        with self.live.db.transaction() as session:
            rows = session.execute(
                select(Call.sid)
                .join(CallEvent, CallEvent.call_id == Call.id)
                .where(CallEvent.kind == "call.answered")
                .order_by(CallEvent.id)
            )
            return [sid for (sid,) in rows]

    def events(self, kind: str) -> list[CallEvent]:
        with self.live.db.transaction() as session:
            return list(session.scalars(
                select(CallEvent).where(CallEvent.kind == kind).order_by(CallEvent.id)))

    def reservations(self, sid: str) -> list[Reservation]:
        with self.live.db.transaction() as session:
            return list(session.scalars(
                select(Reservation).join(Call, Call.id == Reservation.call_id)
                .where(Call.sid == sid).order_by(Reservation.id)
            ))

    def ended(self, sid: str) -> Call:
        return wait_for(lambda: (c := self.call_row(sid)) is not None and c.is_over and c,
                        timeout=60, what=f"call {sid} to end")


@pytest.fixture
def center_factory(live_factory: Callable[..., Any]) -> Callable[..., Center]:
    def make(**overrides: Any) -> Center:
        overrides.setdefault("sim_speed", 20.0)
        # Real seconds of wrap-up would only slow the tests; wrap-up has its own tests.
        overrides.setdefault("wrap_up_seconds", 0)
        return Center(live_factory(**overrides))

    return make


@pytest.fixture
def center(center_factory: Callable[..., Center]) -> Center:
    return center_factory()


@pytest.fixture
def manual_center(center_factory: Callable[..., Center], clock: ManualClock) -> Center:
    """A center whose service runs on a clock the test moves (aging, skill expansion)."""
    return center_factory(clock=clock)
