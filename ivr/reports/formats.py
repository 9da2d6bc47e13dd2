"""The KPI report (ivr.reports.kpis) as text for `ivr report kpis`: a table a supervisor
reads, or CSV for a spreadsheet. Both are made from the report's JSON, so every format shows
the same figures."""

from __future__ import annotations

import csv
import io
from typing import Any

# The columns of the per-period, per-skill and per-agent tables (the full list is in CSV).
COLUMNS = (
    ("offered", "offered"), ("answered", "answered"), ("abandoned", "aband."),
    ("short_abandoned", "short"), ("service_level", "SL"),
    ("average_speed_of_answer", "ASA"), ("average_handle_time", "AHT"),
    ("longest_wait", "longest"), ("transfers", "transf."),
    ("first_contact_resolution", "FCR"),
)


def fmt_value(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "share":
        return f"{100 * value:.1f}%"
    if unit == "seconds":
        return f"{value:.1f} s"
    return str(value)


def as_table(report: dict[str, Any]) -> str:
    kpis = report["kpis"]
    units = {k["name"]: k["unit"] for k in kpis}
    rules, filters = report["rules"], report["filters"]
    head = f"KPIs from {report['from']} to {report['to']} ({report['timezone']})"
    if filters["skill"]:
        head += f", skill {filters['skill']}"
    if filters["agent"]:
        head += f", agent {filters['agent']}"
    lines = [
        head,
        f"service level within {rules['service_level_seconds']:g} s; short abandons under "
        f"{rules['short_abandon_seconds']:g} s; repeat callers within {rules['repeat_days']} "
        "days; times in seconds",
        "",
        f"{'':<40}{'actual':>12}{'target':>12}",
    ]
    totals, targets = report["totals"], report["targets"]
    for kpi in kpis:
        name = kpi["name"]
        target = targets.get(name)
        line = (f"{kpi['label']:<40}{fmt_value(totals[name], kpi['unit']):>12}"
                f"{fmt_value(target['target'], kpi['unit']) if target else '':>12}")
        if name in totals["off_target"]:
            line += "  OFF TARGET"
        lines.append(line.rstrip())
    lines += ["", "calls by request category"]
    lines += [f"  {category:<38}{count:>12}"
              for category, count in totals["calls_by_category"].items()]
    sections = (
        (f"per {report['period']}", "period", report["periods"]),
        ("per skill", "skill", report["skills"]),
        ("per agent", "agent", report["agents"]),
    )
    for title, key, rows in sections:
        if not rows:
            continue
        lines += ["", title, _row_line(key, [label for _, label in COLUMNS], "off target")]
        for row in rows:
            cells = [fmt_value(row[name], units[name]) for name, _ in COLUMNS]
            lines.append(_row_line(str(row[key]), cells, ", ".join(row["off_target"])))
    return "\n".join(lines)


def _row_line(first: str, cells: list[str], flags: str) -> str:
    return (f"{first:<14}" + "".join(f"{cell:>10}" for cell in cells) + f"  {flags}").rstrip()


def as_csv(report: dict[str, Any]) -> str:
    """One row for the totals, one per period, skill and agent: the raw figures (shares as
    fractions, times in seconds), the request categories, and the KPIs off target."""
    names = [k["name"] for k in report["kpis"]]
    categories = list(report["totals"]["calls_by_category"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["group", "key", "from", "to", *names,
                     *(f"category:{c}" for c in categories), "off_target"])

    def write(group: str, key: str, lo: str, hi: str, row: dict[str, Any]) -> None:
        by_category = row["calls_by_category"]
        writer.writerow([group, key, lo, hi, *("" if row[n] is None else row[n] for n in names),
                         *(by_category.get(c, 0) for c in categories),
                         " ".join(row["off_target"])])

    write("total", "", report["from"], report["to"], report["totals"])
    for row in report["periods"]:
        write(report["period"], row["period"], row["from"], row["to"], row)
    for row in report["skills"]:
        write("skill", row["skill"], report["from"], report["to"], row)
    for row in report["agents"]:
        write("agent", row["agent"], report["from"], report["to"], row)
    return out.getvalue()
