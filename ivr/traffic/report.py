"""The simulation's report: call-center figures for all calls and per skill, whether every
call has exactly one outcome, and how the service's own records compare. Every time is in
simulated seconds."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

from ivr.traffic.outcomes import UNFINISHED, CallResult


def figures(results: list[CallResult], *, threshold: float) -> dict[str, Any]:
    """Offered, answered, abandoned, the other outcomes, service level (the share of callers
    who reached a queue, answered or abandoned, that an agent answered within `threshold`
    seconds), average speed of answer, average handle (talk) time, longest wait."""
    outcomes: dict[str, int] = {}
    for result in results:
        outcomes[result.outcome] = outcomes.get(result.outcome, 0) + 1
    answered = [r for r in results if r.outcome == "answered"]
    abandoned = [r for r in results if r.outcome == "abandoned"]
    waits = [r.wait for r in answered if r.wait is not None]
    talks = [r.talk for r in answered if r.talk is not None]
    queued = len(answered) + len(abandoned)
    within = sum(1 for wait in waits if wait <= threshold)
    all_waits = waits + [r.wait for r in abandoned if r.wait is not None]
    return {
        "offered": len(results),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "other": len(results) - len(answered) - len(abandoned),
        "outcomes": dict(sorted(outcomes.items())),
        "answered_within_service_level": within,
        "service_level": _ratio(within, queued),
        "abandon_rate": _ratio(len(abandoned), queued),
        "average_speed_of_answer": _mean(waits),
        "average_handle_time": _mean(talks),
        "longest_wait": round(max(all_waits), 2) if all_waits else None,
    }


@dataclass
class Report:
    run: dict[str, Any]
    results: list[CallResult]
    threshold: float
    service: dict[str, Any] = field(default_factory=dict)
    agents: dict[str, Any] = field(default_factory=dict)
    carrier_errors: list[dict[str, Any]] = field(default_factory=list)
    follow_ups: dict[str, Any] = field(default_factory=dict)

    @property
    def unaccounted(self) -> list[CallResult]:
        """Calls without exactly one known outcome: not placed, not over, or recorded
        differently (or not at all) by the service."""
        return [r for r in self.results if r.outcome in UNFINISHED or r.agrees is False]

    @property
    def every_call_has_one_outcome(self) -> bool:
        return not self.unaccounted

    @property
    def every_missed_call_followed_up(self) -> bool:
        """Each missed call of the run has a follow-up at the service (the same-day rule)."""
        return bool(self.follow_ups.get("checked")) and not self.follow_ups["not_followed_up"]

    def callbacks(self) -> dict[str, Any]:
        """Callbacks as the callers lived them: offered while waiting, taken (keep my place),
        and what became of each taken one by the end of the run."""
        taken = [r for r in self.results if r.outcome == "callback"]
        status = [(r.callback or {}).get("status") for r in taken]
        return {
            "offered": sum(r.callback_offered for r in self.results),
            "accepted": len(taken),
            "completed": status.count("completed"),
            "failed": status.count("failed"),
            "not_over": sum(s not in ("completed", "failed", "canceled") for s in status),
            "attempts": sum((r.callback or {}).get("attempts", 0) for r in taken),
        }

    def to_json(self) -> dict[str, Any]:
        skills = sorted({r.skill for r in self.results})
        return {
            "run": self.run,
            "totals": figures(self.results, threshold=self.threshold),
            "skills": {
                skill: figures(
                    [r for r in self.results if r.skill == skill], threshold=self.threshold
                )
                for skill in skills
            },
            "callbacks": self.callbacks(),
            "follow_ups": self.follow_ups,
            "accounting": {
                "every_call_has_one_outcome": self.every_call_has_one_outcome,
                "calls": len(self.results),
                "with_one_outcome": len(self.results) - len(self.unaccounted),
                "unaccounted": [_unaccounted(r) for r in self.unaccounted],
                "every_missed_call_followed_up": self.every_missed_call_followed_up,
            },
            "service": self.service,
            "agents": self.agents,
            "carrier_errors": {"count": len(self.carrier_errors), "first": self.carrier_errors[:5]},
            "calls": [r.to_json() for r in self.results],
        }

    def to_text(self) -> str:
        data = self.to_json()
        run = data["run"]
        lines = [
            f"ivr simulate: {run['calls']} calls to {run['url']}, {run['agents']} agents, "
            f"{run['arrival_rate']:g} calls/s, handle time {run['handle_time']:g} s, "
            f"patience {run['patience']:g} s, seed {run['seed']}",
            f"times in simulated seconds (carrier speed {run['speed']:g}): "
            f"{run['simulated_seconds']:.0f} s simulated in {run['wall_seconds']:.0f} s",
            "",
            f"{'':<12}{'offered':>8}{'answered':>9}{'abandoned':>10}{'other':>6}"
            f"{'SL ' + format(self.threshold, 'g') + 's':>8}{'ASA':>8}{'AHT':>8}{'longest':>9}",
            _row("all", data["totals"]),
            *(_row(skill, values) for skill, values in data["skills"].items()),
            "",
            "outcomes: "
            + ", ".join(f"{name} {count}" for name, count in data["totals"]["outcomes"].items()),
        ]
        lines.extend(self._callback_lines(data))
        lines.extend(self._accounting_lines(data))
        if self.carrier_errors:
            lines.append(
                f"the carrier saw {len(self.carrier_errors)} errors in the service's "
                f"answers, first: {self.carrier_errors[0].get('message')}"
            )
        return "\n".join(lines)

    def _callback_lines(self, data: dict[str, Any]) -> list[str]:
        c, f = data["callbacks"], data["follow_ups"]
        lines = [
            f"callbacks: offered {c['offered']}, accepted {c['accepted']}, completed "
            f"{c['completed']}, failed {c['failed']}, not over {c['not_over']}, "
            f"attempts {c['attempts']}",
        ]
        if not f.get("checked"):
            return [*lines, f"follow-ups: not checked ({f.get('why', 'no answer')})"]
        made = f["follow_ups"]
        lines.append(
            f"follow-ups: {f['missed_calls']} missed calls, {f['followed_up']} followed up; "
            f"the service made {made['created']} follow-ups ({made['done']} done, "
            f"{made['open']} open, {made['escalated']} escalated, {made['breached']} breached)"
        )
        for day, figures in f["service"].items():
            rate = figures["follow_ups"]["same_day_rate"]
            lines.append(
                f"  {day}: missed {figures['missed_calls']}, follow-ups created "
                f"{figures['follow_ups']['created']}, done the same day "
                f"{figures['follow_ups']['done_same_day']} (rate "
                f"{'-' if rate is None else format(rate, '.0%')})"
            )
        for item in f["not_followed_up"][:20]:
            lines.append(f"  missed call {item['index']} {item['sid']} ({item['outcome']}) "
                         "has no follow-up")
        return lines

    def _accounting_lines(self, data: dict[str, Any]) -> list[str]:
        service = data["service"]
        checked = (
            f"{service.get('agree', 0)} of {len(self.results)} agree with the service's records"
        )
        if service.get("not_listed"):
            checked += f"; {service['not_listed']} not listed by the service (not checked)"
        if self.every_call_has_one_outcome:
            return [f"every call has exactly one outcome; {checked}"]
        lines = [f"{len(self.unaccounted)} calls lack exactly one outcome; {checked}:"]
        for item in data["accounting"]["unaccounted"][:20]:
            lines.append(
                f"  call {item['index']} {item['sid'] or '(not placed)'} "
                f"({item['skill']}): {item['why']}"
            )
        if len(self.unaccounted) > 20:
            lines.append(f"  ... and {len(self.unaccounted) - 20} more (see --json)")
        return lines


def _unaccounted(result: CallResult) -> dict[str, Any]:
    if result.outcome == "not_placed":
        why = f"not placed: {result.detail}"
    elif result.outcome == "unfinished":
        why = f"not over: {result.detail}"
    else:
        why = result.detail
    return {
        "index": result.index,
        "sid": result.sid,
        "skill": result.skill,
        "outcome": result.outcome,
        "service_outcome": result.service_outcome,
        "why": why,
    }


def _row(name: str, values: dict[str, Any]) -> str:
    return (
        f"{name:<12}{values['offered']:>8}{values['answered']:>9}{values['abandoned']:>10}"
        f"{values['other']:>6}{_percent(values['service_level']):>8}"
        f"{_seconds(values['average_speed_of_answer']):>8}"
        f"{_seconds(values['average_handle_time']):>8}{_seconds(values['longest_wait']):>9}"
    )


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: list[float]) -> float | None:
    return round(fmean(values), 2) if values else None


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"
