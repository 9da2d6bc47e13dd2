"""The charts of ivr.reports.charts drawn with matplotlib into a PNG for a report: the same
series the console draws with Chart.js, on a 2 x 2 page under a line of the main KPIs.

Drawn on matplotlib's Agg canvas (a Figure of its own, never pyplot's global state), so it
needs no display and is safe in a threaded server or a command."""

from __future__ import annotations

from typing import IO, Any

from ivr.reports.formats import fmt_value

COLOURS = ("#2457c5", "#137a4b", "#b42318", "#a86400", "#5b2a9c", "#0e7490", "#667085")
STATE_COLOURS = {"available": "#137a4b", "reserved": "#a86400", "busy": "#2457c5",
                 "wrap-up": "#5b2a9c", "not-ready": "#b42318"}  # as on the console
HEADLINE = ("offered", "answered", "abandoned", "service_level", "average_speed_of_answer",
            "average_handle_time", "longest_wait")


def draw_png(charts: dict[str, Any], out: str | IO[bytes], *,
             report: dict[str, Any] | None = None) -> None:
    """Write the four charts to `out` (a path or a binary file); with `report` (the KPI
    report of the same days), its main figures and their targets head the page."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(14, 9.5), dpi=100)
    FigureCanvasAgg(figure)
    span = charts["from"] if charts["from"] == charts["to"] else \
        f"{charts['from']} to {charts['to']}"
    figure.suptitle(f"Calls of {span} ({charts['timezone']})", fontsize=15, fontweight="bold")
    if report is not None:
        figure.text(0.5, 0.93, headline(report), ha="center", fontsize=10.5, color="#344054")
    axes = figure.subplots(2, 2)
    for ax, chart in zip(axes.flat, charts["charts"], strict=False):
        _draw(ax, chart)
    figure.subplots_adjust(top=0.88, bottom=0.09, hspace=0.42, wspace=0.16, left=0.05,
                           right=0.98)
    figure.savefig(out, format="png")


def headline(report: dict[str, Any]) -> str:
    """`offered 30 · service level 80.0% (target 85.5%, off target) · ...`"""
    kpis = {k["name"]: k for k in report["kpis"]}
    totals, targets = report["totals"], report["targets"]
    parts = []
    for name in HEADLINE:
        kpi = kpis[name]
        text = f"{kpi['label']} {fmt_value(totals.get(name), kpi['unit'])}"
        if name in targets:
            text += f" (target {fmt_value(targets[name]['target'], kpi['unit'])}"
            text += ", OFF TARGET)" if name in totals["off_target"] else ")"
        parts.append(text)
    return " · ".join(parts)


def _draw(ax: Any, chart: dict[str, Any]) -> None:
    labels = chart["labels"]
    positions = list(range(len(labels)))
    datasets = chart["datasets"]
    stacked = chart.get("stacked", False)
    ax.set_title(chart["title"], fontsize=11.5)
    if chart["type"] == "line":
        for i, data in enumerate(datasets):
            ax.plot(positions, [_nan(v) for v in data["data"]], color=_colour(i, data),
                    label=data["label"], marker=".")
    else:
        width = 0.8 if stacked else 0.8 / max(1, len(datasets))
        bottom = [0.0] * len(labels)
        for i, data in enumerate(datasets):
            values = [v or 0.0 for v in data["data"]]
            shift = 0.0 if stacked else (i - (len(datasets) - 1) / 2) * width
            ax.bar([p + shift for p in positions], values, width=width, bottom=bottom,
                   color=_colour(i, data), label=data["label"])
            if stacked:
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    if chart.get("unit") == "share":
        ax.set_ylim(0, 1.05)
        ax.yaxis.set_major_formatter(_percent_formatter())
    else:
        ax.set_ylim(bottom=0)
    if chart.get("unit") == "calls":
        ax.yaxis.set_major_locator(_whole_numbers())
    step = 4 if len(labels) > 12 else 1  # every two hours on the half-hour charts
    ax.set_xticks(positions[::step])
    ax.set_xticklabels(labels[::step], rotation=45 if step > 1 else 0, fontsize=8.5)
    ax.set_ylabel(chart.get("unit", ""))
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8.5, loc="upper left")


def _colour(index: int, dataset: dict[str, Any]) -> str:
    return STATE_COLOURS.get(dataset["label"], COLOURS[index % len(COLOURS)])


def _whole_numbers() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value


def _percent_formatter() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(xmax=1)
