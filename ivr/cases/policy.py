"""The case policy file: the impact x urgency matrix, service levels per priority, outcomes.
Read once and checked; a broken file is refused with its path, line and field."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from ivr.policyfile import located, read_mapping

DEFAULT_POLICY = Path(__file__).with_name("policy.yaml")
PRIORITIES = ("P1", "P2", "P3", "P4")


class CasePolicyError(ValueError):
    """The case policy file is wrong; the message names the file and the field."""


@dataclass(frozen=True)
class ServiceLevel:
    respond: timedelta
    resolve: timedelta
    courtesy: timedelta


@dataclass(frozen=True)
class CasePolicy:
    impacts: tuple[str, ...]
    urgencies: tuple[str, ...]
    matrix: dict[str, dict[str, str]]
    default_impact: str
    default_urgency: str
    by_topic: dict[str, tuple[str, str]]
    vip_urgency: str
    router_priority: dict[str, int]
    levels: dict[str, ServiceLevel]
    warn_at: float
    outcomes: tuple[str, ...]
    source: str = field(default=str(DEFAULT_POLICY))

    def priority(self, impact: str, urgency: str) -> str:
        if impact not in self.impacts:
            raise CasePolicyError(f"impact must be one of {', '.join(self.impacts)}")
        if urgency not in self.urgencies:
            raise CasePolicyError(f"urgency must be one of {', '.join(self.urgencies)}")
        return self.matrix[impact][urgency]

    def defaults_for(self, *, topic: str | None, vip: bool) -> tuple[str, str]:
        """Impact and urgency before an agent knows more: from the IVR's choice and the
        contact."""
        impact, urgency = self.by_topic.get(topic or "", (self.default_impact,
                                                          self.default_urgency))
        if vip and self.urgencies.index(urgency) < self.urgencies.index(self.vip_urgency):
            urgency = self.vip_urgency
        return impact, urgency

    def level(self, priority: str) -> ServiceLevel:
        return self.levels.get(priority, self.levels["default"])


def _fail(source: str, node: Any, what: str) -> CasePolicyError:
    return CasePolicyError(located(source, node, what))


def load(path: Path | str = DEFAULT_POLICY) -> CasePolicy:
    source = str(path)
    data, nodes, root = read_mapping(path, CasePolicyError)

    def need(name: str, kind: type) -> Any:
        if not isinstance(data.get(name), kind):
            raise _fail(source, nodes.get(name, root), f"'{name}' must be a {kind.__name__}")
        return data[name]

    impacts = tuple(need("impacts", list))
    urgencies = tuple(need("urgencies", list))
    matrix = need("matrix", dict)
    for impact in impacts:
        row = matrix.get(impact)
        if not isinstance(row, dict) or set(row) != set(urgencies):
            raise _fail(source, nodes["matrix"], f"matrix row '{impact}' must give a priority "
                        f"for each urgency: {', '.join(urgencies)}")
        bad = [p for p in row.values() if p not in PRIORITIES]
        if bad:
            raise _fail(source, nodes["matrix"], f"unknown priority {bad[0]!r}; use "
                        f"{', '.join(PRIORITIES)}")
    defaults = need("defaults", dict)
    by_topic = {
        topic: (spec.get("impact"), spec.get("urgency"))
        for topic, spec in (defaults.get("by_topic") or {}).items()
    }
    for topic, (impact, urgency) in by_topic.items():
        if impact not in impacts or urgency not in urgencies:
            raise _fail(source, nodes["defaults"], f"defaults.by_topic.{topic}: unknown impact "
                        "or urgency")
    levels = {}
    for name, spec in need("service_levels", dict).items():
        try:
            levels[name] = ServiceLevel(*(timedelta(hours=float(spec[k]))
                                          for k in ("respond", "resolve", "courtesy")))
        except (KeyError, TypeError, ValueError):
            raise _fail(source, nodes["service_levels"], f"service_levels.{name} needs "
                        "respond, resolve and courtesy in hours") from None
    if "default" not in levels:
        raise _fail(source, nodes["service_levels"], "service_levels needs a 'default'")
    router = need("router_priority", dict)
    if set(router) != set(PRIORITIES):
        raise _fail(source, nodes["router_priority"], f"router_priority needs "
                    f"{', '.join(PRIORITIES)}")
    outcomes = tuple(need("outcomes", list))
    warn_at = float(data.get("warn_at", 0.8))
    if not 0 < warn_at < 1:
        raise _fail(source, nodes.get("warn_at"), "warn_at must be between 0 and 1")
    impact = defaults.get("impact", impacts[0])
    urgency = defaults.get("urgency", urgencies[0])
    vip_urgency = defaults.get("vip_urgency", urgency)
    for value, allowed, name in ((impact, impacts, "impact"), (urgency, urgencies, "urgency"),
                                 (vip_urgency, urgencies, "vip_urgency")):
        if value not in allowed:
            raise _fail(source, nodes["defaults"], f"defaults.{name}: {value!r} is not listed")
    return CasePolicy(
        impacts=impacts, urgencies=urgencies, matrix=matrix, default_impact=impact,
        default_urgency=urgency, by_topic=by_topic, vip_urgency=vip_urgency,
        router_priority={k: int(v) for k, v in router.items()}, levels=levels,
        warn_at=warn_at, outcomes=outcomes, source=source,
    )
