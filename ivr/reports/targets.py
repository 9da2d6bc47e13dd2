"""KPI targets: which way each KPI is better, the target of each (fixed in the report policy,
or else the best month of the last twelve, eased by the policy's `target_easing`), and which
KPIs of a row are off their target.

Only shares and times get a target from history: a count (calls offered, answered...) grows
with the length of the period, so a month's best says nothing about a day. A count with a
direction may still have a fixed target in the policy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ivr.reports.policy import ReportPolicy, ReportPolicyError

HIGHER, LOWER = "higher", "lower"
DIRECTIONS = {
    "answered": HIGHER,
    "abandoned": LOWER,
    "abandon_rate": LOWER,
    "service_level": HIGHER,
    "average_speed_of_answer": LOWER,
    "average_handle_time": LOWER,
    "average_talk_time": LOWER,
    "average_wrap_up_time": LOWER,
    "longest_wait": LOWER,
    "missed": LOWER,
    "missed_rate": LOWER,
    "not_followed_up_same_day": LOWER,
    "not_followed_up_same_day_rate": LOWER,
    "callbacks_completed": HIGHER,
    "transfers": LOWER,
    "repeat_callers": LOWER,
    "first_contact_resolution": HIGHER,
}
FROM_HISTORY_UNITS = ("share", "seconds")


@dataclass(frozen=True)
class Target:
    kpi: str
    value: float
    better: str
    source: str  # "policy", or "best month"
    month: str | None = None  # the best month, for a target from history
    best: float | None = None  # its figure, before easing

    def to_json(self) -> dict[str, Any]:
        return {"target": self.value, "better": self.better, "source": self.source,
                "month": self.month, "best": self.best}


def check(policy: ReportPolicy) -> None:
    """Every fixed target names a KPI that has a direction (a typo must not go unnoticed)."""
    for name in policy.targets:
        if name not in DIRECTIONS:
            raise ReportPolicyError(
                f"{policy.source}: targets: {name!r} is not a KPI with a target; "
                f"those are {', '.join(sorted(DIRECTIONS))}")


def eased(best: float, better: str, easing: float, unit: str) -> float:
    """The best figure made slightly easier to reach: lower for a higher-is-better KPI."""
    value = best * (1 - easing) if better == HIGHER else best * (1 + easing)
    return round(value, 4 if unit == "share" else 3)


def targets(
    history: list[tuple[str, dict[str, Any]]],
    *,
    policy: ReportPolicy,
    units: dict[str, str],
) -> dict[str, Target]:
    """`history`: (month, figures) for the months that had calls. A KPI with no figure in
    any of them, and no fixed target, has no target."""
    check(policy)
    found: dict[str, Target] = {}
    for name, better in DIRECTIONS.items():
        if name in policy.targets:
            found[name] = Target(name, policy.targets[name], better, "policy")
            continue
        if units.get(name) not in FROM_HISTORY_UNITS:
            continue
        months = [(month, row[name]) for month, row in history if row.get(name) is not None]
        if not months:
            continue
        pick = max if better == HIGHER else min
        month, best = pick(months, key=lambda item: item[1])
        found[name] = Target(name, eased(best, better, policy.target_easing, units[name]),
                             better, "best month", month=month, best=best)
    return found


def on_target(value: float | None, target: Target) -> bool | None:
    """None when there is no figure to judge."""
    if value is None:
        return None
    return value >= target.value if target.better == HIGHER else value <= target.value


def off_target(row: dict[str, Any], found: dict[str, Target]) -> list[str]:
    """The KPIs of a row that miss their target, in the order of `found`."""
    return [name for name, target in found.items() if on_target(row.get(name), target) is False]
