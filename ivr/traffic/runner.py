"""One simulation against a running service: virtual agents on the carrier's devices, callers
placed at their drawn times, each call followed to its end, then the report.

Times: the plan's times are simulated seconds; the carrier runs `speed` simulated seconds a
wall second, so a caller due at simulated second `at` is placed at wall second `at / speed`
of the run, and every figure read back (the events' `t`) is simulated already."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ivr.traffic.client import ServiceClient, ServiceError
from ivr.traffic.crosscheck import cross_check, days_around, follow_ups_of
from ivr.traffic.outcomes import (
    CallResult,
    classify,
    not_placed,
    talk_from_agent_leg,
    unfinished,
)
from ivr.traffic.plan import PlannedCall, TrafficPlan, draw_calls
from ivr.traffic.provision import SimAgent
from ivr.traffic.report import Report
from ivr.traffic.routes import Route

POLL_SECONDS = 0.25  # wall seconds between looks at which calls are still up
PROGRESS_SECONDS = 5.0
PAUSE_REASON = "simulation"
MAX_POLL_FAILURES = 40  # consecutive: the service is gone, not just busy
END_WAIT_SECONDS = 30.0  # for a call's last events once the carrier has closed it
CALLBACK_OVER = ("completed", "failed", "canceled")
REVIVE_SECONDS = 1.0  # wall seconds between looks for virtual agents set not-ready
UNSTAFF_SECONDS = 120.0  # wall seconds the virtual agents get to finish their last calls


def default_timeout(plan: TrafficPlan, calls: list[PlannedCall], speed: float) -> float:
    """Wall seconds the run may take: the last arrival, then time for the longest waits and
    conversations (exponential: 20 means cover them with room to spare), in simulated
    seconds, scaled by the speed, plus a minute for a slow service."""
    last = calls[-1].at if calls else 0.0
    simulated = last + 20 * (plan.patience + plan.handle_time) + 600
    return simulated / speed + 60


class Simulation:
    """`client` carries the supervisor's token; `agents` exist in the service's database."""

    def __init__(
        self,
        plan: TrafficPlan,
        *,
        client: ServiceClient,
        routes: dict[str, Route],
        agents: tuple[SimAgent, ...],
        timeout: float | None = None,
        progress: Callable[[str], None] | None = None,
        number_base: int | None = None,
    ) -> None:
        self.plan = plan
        self.client = client
        self.routes = routes
        self.agents = agents
        self.timeout = timeout
        self.progress = progress or (lambda _text: None)
        self.calls = draw_calls(plan, number_base=number_base, at=datetime.now(UTC))
        self.results: dict[int, CallResult] = {}
        self.live: dict[str, PlannedCall] = {}
        self.paused: list[dict[str, Any]] = []
        self.still_on_calls: list[str] = []
        self.missed_rings = 0

    def run(self) -> Report:
        carrier = self.client.carrier()
        speed = float(carrier["speed"])
        errors_before = len(self.client.errors())
        started_at = datetime.now(UTC)
        started = time.monotonic()
        try:
            self._staff()
            timeout = self.timeout or default_timeout(self.plan, self.calls, speed)
            self._drive(speed, started, started + timeout)
            self._await_callbacks(started + timeout)
        finally:
            self._hang_up_the_rest()
            self._unstaff()
        wall = time.monotonic() - started
        ended_at = datetime.now(UTC)
        results = [self.results[call.index] for call in self.calls]
        days = days_around(started_at, ended_at)
        service = cross_check(self.client, results, days=days)
        return Report(
            run=self._run_info(speed, started_at, wall),
            results=results,
            threshold=self.plan.service_level_seconds,
            service=service,
            agents={
                "simulated": [agent.name for agent in self.agents],
                "paused": [agent["name"] for agent in self.paused],
                "still_on_calls": self.still_on_calls,
                "missed_rings": self.missed_rings,
            },
            carrier_errors=self.client.errors()[errors_before:],
            follow_ups=follow_ups_of(self.client, results, since=started_at, days=days),
        )

    # -- agents ----------------------------------------------------------------------------

    def _staff(self) -> None:
        """The virtual agents' phones answer on their own; other agents who could take the
        run's calls are paused (not-ready, reason "simulation") so the figures are the
        virtual agents' alone; then the virtual agents sign in."""
        ours = {agent.id for agent in self.agents}
        for index, agent in enumerate(self.agents, start=1):
            self.client.set_device(
                agent.identity,
                {
                    "mode": "auto",
                    "answer_after": self.plan.answer_after,
                    "talk_time": self.plan.handle_time,
                    "talk_distribution": "exponential",
                    "seed": self.plan.agent_seed(index),
                },
            )
        for other in self.client.agents():
            if other["id"] not in ours and other["state"] in ("available", "wrap-up"):
                if self.client.set_state(other["id"], "not-ready", PAUSE_REASON):
                    self.paused.append(other)
        for agent in self.agents:
            if not self.client.set_state(agent.id, "available"):
                raise ServiceError(
                    f"agent {agent.name} is on a call from an earlier run; "
                    "wait for it to end and run again"
                )

    def _unstaff(self) -> None:
        """Virtual agents sign out, each once their call is over (a follow-up's callback may
        still be with them); paused agents are available again, unless someone changed
        their state meanwhile."""
        on_calls = list(self.agents)
        deadline = time.monotonic() + UNSTAFF_SECONDS
        while on_calls:
            on_calls = [a for a in on_calls
                        if not self._quietly(lambda a=a: self.client.set_state(a.id, "offline"))]
            if not on_calls or time.monotonic() >= deadline:
                break
            self.progress(f"waiting for {len(on_calls)} agents to finish their calls")
            time.sleep(POLL_SECONDS)
        self.still_on_calls = [agent.name for agent in on_calls]
        if not self.paused:
            return
        states = {}
        try:
            states = {a["id"]: a for a in self.client.agents()}
        except ServiceError:
            return
        for other in self.paused:
            now = states.get(other["id"], {})
            if now.get("state") == "not-ready" and now.get("reason") == PAUSE_REASON:
                self._quietly(lambda other=other: self.client.set_state(other["id"], "available"))

    def _revive_missed(self) -> None:
        """A virtual agent who missed a ring (the service set them not-ready, "missed")
        picks up the next one: they are back to available, and the report counts it."""
        ours = {agent.id for agent in self.agents}
        try:
            missed = [a for a in self.client.agents() if a["id"] in ours
                      and a["state"] == "not-ready" and a["reason"] == "missed"]
            for agent in missed:
                if self.client.set_state(agent["id"], "available"):
                    self.missed_rings += 1
        except ServiceError:
            pass  # the next look tries again

    @staticmethod
    def _quietly(action: Callable[[], Any]) -> Any:
        try:
            return action()
        except ServiceError:
            return None  # best effort while cleaning up; the report has the run's figures

    # -- calls -----------------------------------------------------------------------------

    def _drive(self, speed: float, started: float, deadline: float) -> None:
        """Place each caller at their time and collect each call once it is over, until
        every call is over or the deadline."""
        pending = deque(self.calls)
        next_poll = next_progress = next_revive = started
        failures = 0
        while pending or self.live:
            now = time.monotonic()
            if now >= deadline:
                self._give_up(pending, "still up at the run's time limit (--timeout)")
                return
            while pending and started + pending[0].at / speed <= now:
                self._place(pending.popleft())
            if self.live and time.monotonic() >= next_poll:
                try:
                    self._collect_ended()
                    failures = 0
                except ServiceError:
                    failures += 1
                    if failures >= MAX_POLL_FAILURES:
                        raise
                next_poll = time.monotonic() + POLL_SECONDS
            if time.monotonic() >= next_revive:
                self._revive_missed()
                next_revive = time.monotonic() + REVIVE_SECONDS
            if time.monotonic() >= next_progress:
                self._report_progress()
                next_progress = time.monotonic() + PROGRESS_SECONDS
            due = started + pending[0].at / speed if pending else math.inf
            wake = min(due, next_poll if self.live else math.inf, deadline)
            time.sleep(max(0.0, min(wake - time.monotonic(), POLL_SECONDS)))
        self._report_progress()

    def _place(self, call: PlannedCall) -> None:
        route = self.routes[call.skill]
        # At the offer: 1, called back keeping my place; then 1, yes, call this number.
        takes_offer = ["1", "1"] if call.accepts_callback else []
        script = {
            "answers": [*route.answers, *takes_offer],
            "patience": round(call.patience, 3),
            "barge_in": True,
        }
        try:
            sid = self.client.place_call(call.number, script)
        except ServiceError as exc:
            self.results[call.index] = not_placed(call, str(exc))
            return
        self.live[sid] = call

    def _collect_ended(self) -> None:
        up = self.client.live_calls()
        for sid in [sid for sid in self.live if sid not in up]:
            call = self.live[sid]
            self.results[call.index] = self._result(call, sid)
            del self.live[sid]

    def _result(self, call: PlannedCall, sid: str) -> CallResult:
        events = self._all_events(sid)
        if events is None:
            return unfinished(call, sid, "the carrier closed the call but did not finish it")
        result = classify(call, sid, events)
        if result.agent_leg:
            leg = self._all_events(result.agent_leg)
            talk = talk_from_agent_leg(leg) if leg else None
            result.talk = talk if talk is not None else result.talk
        return result

    def _all_events(self, sid: str) -> list[dict[str, Any]] | None:
        """Every event of an ended call, once the carrier is done with it (its last status
        callback answered); None if that takes too long."""
        events, ended = self.client.events(sid)
        deadline = time.monotonic() + END_WAIT_SECONDS
        while not ended and time.monotonic() < deadline:
            more, ended = self.client.events(sid, after=len(events), wait=5.0)
            events.extend(more)
        return events if ended else None

    def _await_callbacks(self, deadline: float) -> None:
        """Callers who took a callback hung up; the agents stay on until each of those
        callbacks is over (completed, or failed after its attempts), or the deadline."""
        waiting = {r.number: r for r in self.results.values() if r.outcome == "callback"}
        while waiting:
            for found in self.client.callbacks():
                result = waiting.get(found["number"])
                if result is None or found["kind"] != "keep-place":
                    continue
                result.callback = {"id": found["id"], "status": found["status"],
                                   "attempts": len(found["attempts"])}
                if found["status"] in CALLBACK_OVER:
                    del waiting[found["number"]]
            if not waiting or time.monotonic() >= deadline:
                return
            self._revive_missed()
            self.progress(f"waiting for {len(waiting)} callbacks to be made")
            time.sleep(max(POLL_SECONDS, 1.0))

    def _give_up(self, pending: deque[PlannedCall], why: str) -> None:
        for call in pending:
            self.results[call.index] = not_placed(call, "the run's time limit came first")
        pending.clear()
        for sid, call in list(self.live.items()):
            self.results[call.index] = unfinished(call, sid, why)

    def _hang_up_the_rest(self) -> None:
        """Calls still up when the run stops (time limit, error, Ctrl-C) are hung up, so no
        virtual caller outlives the simulator."""
        for sid, call in list(self.live.items()):
            self._quietly(lambda sid=sid: self.client.hang_up(sid))
            if call.index not in self.results:
                self.results[call.index] = unfinished(call, sid, "the run stopped first")
        self.live.clear()
        for call in self.calls:
            if call.index not in self.results:
                self.results[call.index] = not_placed(call, "the run stopped first")

    def _report_progress(self) -> None:
        over = len(self.results)
        self.progress(
            f"{over + len(self.live)} of {len(self.calls)} calls due so far: "
            f"{len(self.live)} up, {over} over"
        )

    def _run_info(self, speed: float, started_at: datetime, wall: float) -> dict[str, Any]:
        plan = self.plan
        return {
            "url": self.client.base_url,
            "calls": plan.calls,
            "agents": plan.agents,
            "arrival_rate": plan.arrival_rate,
            "handle_time": plan.handle_time,
            "patience": plan.patience,
            "seed": plan.seed,
            "callback_rate": plan.callback_rate,
            "skills": {
                name: {
                    "share": round(share, 4),
                    "answers": list(self.routes[name].answers),
                    "queue": self.routes[name].queue_node,
                }
                for name, share in plan.mix.items()
            },
            "service_level_seconds": plan.service_level_seconds,
            "time_unit": "simulated seconds",
            "speed": speed,
            "started_at": started_at.isoformat(),
            "wall_seconds": round(wall, 2),
            "simulated_seconds": round(wall * speed, 2),
        }
