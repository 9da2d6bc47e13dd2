"""The report policy file: wrap-up categories, how the KPIs count, and their targets. Read once
and checked; a broken file is refused with its path, line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivr.policyfile import located, read_mapping

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")


class ReportPolicyError(ValueError):
    """The report policy file is wrong; the message names the file, line and field."""


@dataclass(frozen=True)
class ReportPolicy:
    categories: tuple[str, ...] = ("other",)
    service_level_seconds: float = 20.0
    short_abandon_seconds: float = 5.0
    repeat_days: int = 7
    target_easing: float = 0.05
    targets: dict[str, float] = field(default_factory=dict)
    source: str = str(DEFAULT_POLICY)


def _fail(source: str, node: Any, what: str) -> ReportPolicyError:
    return ReportPolicyError(located(source, node, what))


def load(path: Path | str = DEFAULT_POLICY) -> ReportPolicy:
    source = str(path)
    data, nodes, root = read_mapping(path, ReportPolicyError)

    def number(name: str, default: float, *, low: float, high: float | None = None) -> float:
        value = data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(source, nodes.get(name, root), f"'{name}' must be a number")
        if value < low or (high is not None and value > high):
            span = f"at least {low:g}" if high is None else f"between {low:g} and {high:g}"
            raise _fail(source, nodes.get(name, root), f"'{name}' must be {span}")
        return float(value)

    categories = data.get("categories")
    if (not isinstance(categories, list) or not categories
            or not all(isinstance(c, str) and c.strip() for c in categories)):
        raise _fail(source, nodes.get("categories", root),
                    "'categories' must be a list of names (what agents choose at wrap-up)")
    if len(set(categories)) != len(categories):
        raise _fail(source, nodes["categories"], "'categories' lists a name twice")
    targets = data.get("targets") or {}
    if not isinstance(targets, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in targets.values()
    ):
        raise _fail(source, nodes.get("targets", root),
                    "'targets' must map KPI names to numbers")
    policy = ReportPolicy(
        categories=tuple(c.strip() for c in categories),
        service_level_seconds=number("service_level_seconds", 20, low=0.1),
        short_abandon_seconds=number("short_abandon_seconds", 5, low=0),
        repeat_days=int(number("repeat_days", 7, low=1)),
        target_easing=number("target_easing", 0.05, low=0, high=0.5),
        targets={str(k): float(v) for k, v in targets.items()},
        source=source,
    )
    from ivr.reports.targets import check  # here: targets reads this module

    try:
        check(policy)  # a typo in a KPI's name is refused at start-up, not in a report
    except ReportPolicyError as exc:
        raise _fail(source, nodes["targets"], str(exc).removeprefix(f"{source}: ")) from None
    return policy
