"""A simulation's parameters and the traffic they draw: when each caller calls (Poisson
arrivals), what they need (the skill mix), how long they hold on (exponential patience),
whether they take a callback when it is offered. Every time here is in simulated seconds;
the same seed draws the same traffic."""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.traffic.numbers import plan_for

SERVICE_LEVEL_SECONDS = 20.0


class PlanError(ValueError):
    """A parameter that cannot make a simulation; `option` names the CLI option."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


@dataclass(frozen=True)
class TrafficPlan:
    calls: int
    agents: int
    arrival_rate: float  # calls per simulated second
    handle_time: float  # mean talk time, simulated seconds (exponential)
    patience: float  # mean time a caller holds on in the queue, simulated seconds
    skills: tuple[tuple[str, float], ...]  # (skill, weight): the call mix
    seed: int
    answer_after: float = 2.0  # how long an agent's phone rings before they pick up
    service_level_seconds: float = SERVICE_LEVEL_SECONDS
    callback_rate: float = 0.0  # the share of callers who take a callback when offered one

    def __post_init__(self) -> None:
        if self.calls < 1:
            raise PlanError("--calls", "must be at least 1")
        if self.agents < 1:
            raise PlanError("--agents", "must be at least 1")
        for option, value in (
            ("--arrival-rate", self.arrival_rate),
            ("--handle-time", self.handle_time),
            ("--patience", self.patience),
        ):
            if not math.isfinite(value) or value <= 0:
                raise PlanError(option, f"must be a positive number, not {value}")
        if not 0 <= self.callback_rate <= 1 or not math.isfinite(self.callback_rate):
            raise PlanError("--callback-rate", "must be a share between 0 and 1")
        if not self.skills:
            raise PlanError("--skills", "name at least one skill")
        if any(weight <= 0 or not math.isfinite(weight) for _, weight in self.skills):
            raise PlanError("--skills", "weights must be positive numbers")

    @property
    def mix(self) -> dict[str, float]:
        """Each skill's share of the calls."""
        total = sum(weight for _, weight in self.skills)
        return {name: weight / total for name, weight in self.skills}

    def agent_names(self) -> list[str]:
        width = max(2, len(str(self.agents)))
        return [f"sim-agent-{index:0{width}d}" for index in range(1, self.agents + 1)]

    def agent_seed(self, index: int) -> int:
        """The seed of agent `index`'s talk times: different per agent, fixed per run seed."""
        return self.seed * 100_003 + index


@dataclass(frozen=True)
class PlannedCall:
    index: int  # 1-based, in order of arrival
    at: float  # simulated seconds after the run starts
    skill: str
    patience: float  # simulated seconds this caller holds on in the queue
    number: str  # the caller ID, unique in the run
    accepts_callback: bool = False  # presses 1 (keep my place) when offered a callback


def parse_skills(text: str) -> tuple[tuple[str, float], ...]:
    """`billing:3,technical:1` -> (("billing", 3.0), ("technical", 1.0)); no weight is 1."""
    mix: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, weight = part.partition(":")
        name = name.strip()
        if not name:
            raise PlanError("--skills", f"{part!r} has no skill name")
        try:
            value = float(weight) if weight.strip() else 1.0
        except ValueError:
            raise PlanError("--skills", f"{part!r}: the weight must be a number") from None
        if value <= 0 or not math.isfinite(value):
            raise PlanError("--skills", f"{part!r}: the weight must be a positive number")
        if name in mix:
            raise PlanError("--skills", f"{name!r} is named twice")
        mix[name] = value
    if not mix:
        raise PlanError("--skills", "name at least one skill, e.g. billing,technical:2")
    return tuple(mix.items())


def draw_calls(
    plan: TrafficPlan, *, number_base: int | None = None, at: datetime | None = None
) -> list[PlannedCall]:
    """The run's callers. Arrivals, skills, patience and who takes a callback come from
    `plan.seed`; the caller IDs are callable numbers in a timezone where it is daytime `at`
    (now by default), counted from `number_base` (random by default), so a second run the
    same day does not meet the first run's callers as repeat callers (who get a higher
    priority)."""
    draws = random.Random(plan.seed)
    # Its own stream, so the rest of the traffic is the same whatever the callback rate.
    takes_callback = random.Random(plan.seed * 7_919 + 1)
    names = [name for name, _ in plan.skills]
    weights = [weight for _, weight in plan.skills]
    numbering = plan_for(at or datetime.now(UTC))
    base = secrets.randbelow(numbering.count) if number_base is None else number_base
    calls, arrival = [], 0.0
    for index in range(1, plan.calls + 1):
        arrival += draws.expovariate(plan.arrival_rate)
        skill = draws.choices(names, weights)[0]
        patience = draws.expovariate(1.0 / plan.patience)
        accepts = takes_callback.random() < plan.callback_rate
        calls.append(PlannedCall(index, arrival, skill, patience, numbering.number(base + index),
                                 accepts))
    return calls
