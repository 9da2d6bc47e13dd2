"""How the router decides: aging, skill expansion, agent choice, wrap-up and ring time."""

from __future__ import annotations

from dataclasses import dataclass

STRATEGIES = ("longest-idle", "highest-level")


@dataclass(frozen=True)
class RoutingPolicy:
    # Priority points a waiting caller gains per minute, so nobody waits for ever behind a
    # stream of urgent calls (0.5: a priority-1 caller outranks a new priority-5 one after 8').
    aging_per_minute: float = 0.5
    # Every this many seconds waited, each required minimum level drops by one (to 1). 0: never.
    expansion_seconds: int = 60
    strategy: str = "longest-idle"
    wrap_up_seconds: int = 30
    ring_timeout: int = 20
    # Handle time assumed for the estimated wait until there are real calls to learn from.
    default_handle_seconds: int = 180

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"routing strategy must be one of {', '.join(STRATEGIES)}")
        if self.aging_per_minute < 0 or self.expansion_seconds < 0:
            raise ValueError("aging and skill expansion must not be negative")

    def relaxed_level(self, min_level: int, waited_seconds: float) -> int:
        """The minimum level asked of an agent after `waited_seconds` in the queue."""
        if self.expansion_seconds <= 0:
            return min_level
        steps = int(max(waited_seconds, 0) // self.expansion_seconds)
        return max(1, min_level - steps)

    def effective_priority(self, priority: int, waited_seconds: float) -> float:
        return priority + self.aging_per_minute * max(waited_seconds, 0) / 60.0

    def order_key(self, priority: int, entered_epoch: float) -> float:
        """The effective priority's order with the clock taken out: at any moment, callers
        with a smaller key rank higher (priority + aging * (now - entered) / 60, descending,
        is aging * entered / 60 - priority, ascending)."""
        return self.aging_per_minute * entered_epoch / 60.0 - priority
