"""`ivr report ...`: the same figures the API serves, computed by the same code."""

from __future__ import annotations

import json
from datetime import date

import click

from ivr.cli.context import CliContext, pass_cli


@click.group()
def report() -> None:
    """Reports: follow-ups of missed calls, KPIs and their charts, cases."""


def _day(value: str | None, runtime) -> date:
    if value is None:
        return runtime.clock.now().astimezone(runtime.calendar.tz).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"use YYYY-MM-DD, not {value!r}", param_hint="--date") from None


@report.command("followups")
@click.option("--date", "day", default=None, help="YYYY-MM-DD (business timezone); today.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_cli
def followups(cli: CliContext, day: str | None, as_json: bool) -> None:
    """Missed calls, same-day follow-ups and callbacks of a day."""
    from callback.reports import followups_report

    runtime = cli.runtime()
    with runtime.db.transaction() as session:
        figures = followups_report(session, day=_day(day, runtime), tz=runtime.calendar.tz)
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    f, c = figures["follow_ups"], figures["callbacks"]
    rate = "n/a" if f["same_day_rate"] is None else f"{f['same_day_rate']:.0%}"
    lines = [
        f"Follow-ups for {figures['date']}",
        f"  missed calls          {figures['missed_calls']:>6}  "
        + ", ".join(f"{k} {v}" for k, v in figures["missed_by_kind"].items()),
        f"  follow-ups created    {f['created']:>6}",
        f"  done the same day     {f['done_same_day']:>6}   same-day rate {rate}",
        f"  escalated             {f['escalated']:>6}",
        f"  breached              {f['breached']:>6}",
        f"  callbacks offered     {c['offered']:>6}",
        f"  callbacks accepted    {c['accepted']:>6}   (keep place {c['accepted_keep_place']},"
        f" scheduled {c['accepted_scheduled']})",
        f"  callbacks completed   {c['completed']:>6}   failed {c['failed']}",
        f"  attempts              {c['attempts']:>6}  "
        + ", ".join(f"{k} {v}" for k, v in c["attempts_by_result"].items()),
    ]
    click.echo("\n".join(lines))


@report.command("cases")
@click.option("--month", default=None, help="YYYY-MM (business timezone); this month.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_cli
def cases_report(cli: CliContext, month: str | None, as_json: bool) -> None:
    """Cases by category and outcome, first-contact resolution and service level."""
    from ivr.cases.reports import cases_report as build

    runtime = cli.runtime()
    month = month or runtime.clock.now().astimezone(runtime.calendar.tz).strftime("%Y-%m")
    with runtime.db.transaction() as session:
        try:
            figures = build(session, month=month, tz=runtime.calendar.tz)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--month") from None
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return

    def rate(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.0%}"

    click.echo(f"Cases for {figures['month']}: {figures['opened']} opened, "
               f"{figures['closed']} closed, {figures['still_open']} of those opened still open")
    click.echo(f"  resolved at first contact {rate(figures['first_contact_resolution_rate'])}, "
               f"within service level {rate(figures['within_service_level_rate'])}")
    for category, outcomes in figures["closed_by_category_and_outcome"].items():
        listed = ", ".join(f"{outcome} {count}" for outcome, count in outcomes.items())
        click.echo(f"  {category:<16} {sum(outcomes.values()):>5}   {listed}")


def _given_day(value: str, hint: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"use YYYY-MM-DD, not {value!r}", param_hint=hint) from None


def _mean(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


@report.command("scores")
@click.option("--from", "first", required=True, help="First day of the calls, YYYY-MM-DD.")
@click.option("--to", "last", required=True, help="Last day of the calls, YYYY-MM-DD.")
@click.option("--agent", "agent_name", default=None, help="Only this agent (their name).")
@click.option("--period", type=click.Choice(("day", "week", "month")), default="week",
              show_default=True, help="Group per day, ISO week or month.")
@click.option("--scorecard", default=None, help="A scorecard's name; the default one.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@pass_cli
def scores_report(cli: CliContext, first: str, last: str, agent_name: str | None, period: str,
                  scorecard: str | None, as_json: bool) -> None:
    """Call scores per agent and per period: scored calls, mean percentage, each criterion.
    Days are the calls' days in the business timezone."""
    from sqlalchemy import select

    from ivr.routing.models import Agent
    from ivr.scoring.service import ScoringError
    from ivr.scoring.service import report as build

    runtime = cli.runtime()
    start, end = _given_day(first, "--from"), _given_day(last, "--to")
    cards = runtime.scorecards
    card = cards.get(scorecard or cards.default)
    if card is None:
        raise click.BadParameter(f"{scorecard!r} is not a scorecard; use "
                                 f"{', '.join(cards.names)}", param_hint="--scorecard")
    with runtime.db.transaction() as session:
        agent_id = None
        if agent_name is not None:
            agent_id = session.scalar(select(Agent.id).where(Agent.name == agent_name))
            if agent_id is None:
                raise click.BadParameter(f"no agent named {agent_name!r}", param_hint="--agent")
        try:
            figures = build(session, scorecard=card, start=start, end=end,
                            tz=runtime.calendar.tz, period=period, agent_id=agent_id)
        except ScoringError as exc:
            raise click.BadParameter(str(exc), param_hint="--from/--to") from None
    if as_json:
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(f"Scores on {figures['scorecard']}, {figures['from']} to {figures['to']}, "
               f"per {period} ({figures['timezone']})")
    if not figures["rows"]:
        click.echo("  no scored calls")
        return
    keys = [c["key"] for c in figures["criteria"]]
    width = max(len(row["agent"]) for row in figures["agents"]) + 2

    def line(label: str, row: dict) -> str:
        means = "".join(f"{_mean(row['criteria'][k]):>{len(k) + 2}}" for k in keys)
        return (f"{label:<10} {row['agent']:<{width}} {row['scored_calls']:>5} "
                f"{row['mean_percent']:>6.1f}%{means}")

    click.echo(f"{'period':<10} {'agent':<{width}} {'calls':>5} {'mean':>7}"
               + "".join(f"{k:>{len(k) + 2}}" for k in keys))
    for row in figures["rows"]:
        click.echo(line(row["period"], row))
    for row in figures["agents"]:
        click.echo(line("all", row))


@report.command("kpis")
@click.option("--from", "first", default=None, help="First day, YYYY-MM-DD; today.")
@click.option("--to", "last", default=None, help="Last day, YYYY-MM-DD; the first.")
@click.option("--skill", default=None, help="Only the calls queued for this skill.")
@click.option("--agent", default=None, help="Only the calls this agent answered (name or id).")
@click.option("--period", type=click.Choice(("day", "week", "month")), default="day",
              show_default=True, help="Group per day, ISO week or month.")
@click.option("--format", "fmt", type=click.Choice(("table", "csv", "json", "png")),
              default="table", show_default=True, help="png: the charts, drawn with matplotlib.")
@click.option("--output", type=click.Path(dir_okay=False), default=None,
              help="Write to this file (png: default kpis-FROM-TO.png).")
@pass_cli
def kpis_report(cli: CliContext, first: str | None, last: str | None, skill: str | None,
                agent: str | None, period: str, fmt: str, output: str | None) -> None:
    """The KPIs of a range of business days (the same report as /api/reports/kpis): totals,
    per period, per skill and per agent, with their targets; or the charts as a PNG."""
    from ivr.reports import formats, service
    from ivr.reports.kpis import KpiError
    from ivr.reports.policy import ReportPolicyError

    runtime = cli.runtime()
    args = {"from": first, "to": last, "period": period, "skill": skill, "agent": agent}
    with runtime.db.transaction() as session:
        build = {"tz": runtime.calendar.tz, "policy": runtime.reports,
                 "now": runtime.clock.now()}
        try:
            figures = service.kpis(session, args=args, **build)
            charts = service.charts(session, args=args, **build) if fmt == "png" else None
        except KpiError as exc:
            raise click.BadParameter(str(exc), param_hint=f"--{exc.parameter}") from None
        except ReportPolicyError as exc:
            raise click.ClickException(f"IVR_REPORT_POLICY: {exc}") from None
    if charts is not None:
        from ivr.reports.drawing import draw_png

        path = output or f"kpis-{figures['from']}-{figures['to']}.png"
        draw_png(charts, path, report=figures)
        click.echo(f"charts written to {path}")
        return
    text = {"json": lambda: json.dumps(figures, indent=2), "csv": lambda: formats.as_csv(figures),
            "table": lambda: formats.as_table(figures)}[fmt]()
    if output is None:
        click.echo(text)
        return
    with open(output, "w", encoding="utf-8") as out:
        out.write(text if text.endswith("\n") else text + "\n")
    click.echo(f"{fmt} written to {output}")


@click.group()
def incidents() -> None:
    """Outages callers hear about before they queue."""


@incidents.command("declare")
@click.argument("subject")
@click.argument("message")
@pass_cli
def incident_declare(cli: CliContext, subject: str, message: str) -> None:
    from ivr.cases import incidents as domain

    runtime = cli.runtime()
    try:
        with runtime.db.transaction() as session:
            incident = domain.declare(session, subject=subject, message=message, by="cli",
                                      now=runtime.clock.now(), calendar=runtime.calendar,
                                      policy=runtime.cases)
            click.echo(f"incident {incident.id} on {subject} declared")
    except domain.IncidentError as exc:
        raise click.ClickException(str(exc)) from None


@incidents.command("clear")
@click.argument("incident_id", type=int)
@click.option("--message", default="", help="Said in the text to subscribers.")
@pass_cli
def incident_clear(cli: CliContext, incident_id: int, message: str) -> None:
    from ivr.cases import incidents as domain
    from ivr.cases.models import Incident

    runtime = cli.runtime()
    try:
        with runtime.db.transaction() as session:
            incident = session.get(Incident, incident_id)
            if incident is None:
                raise domain.IncidentError(f"no incident {incident_id}")
            texts = domain.clear(session, incident=incident, message=message, by="cli",
                                 now=runtime.clock.now(), calendar=runtime.calendar,
                                 callbacks=runtime.callbacks)
    except domain.IncidentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"incident {incident_id} cleared; {len(texts)} texts queued")


@click.group()
def dnc() -> None:
    """The do-not-call list: numbers the dialler never calls."""


@dnc.command("add")
@click.argument("number")
@click.option("--reason", default=None)
@pass_cli
def dnc_add(cli: CliContext, number: str, reason: str | None) -> None:
    from callback.models import DoNotCall
    from callback.service import customer_number

    e164 = customer_number(number)
    if e164 is None:
        raise click.BadParameter(f"{number!r} is not a valid phone number", param_hint="NUMBER")
    runtime = cli.runtime()
    with runtime.db.transaction() as session:
        if session.get(DoNotCall, e164) is None:
            session.add(DoNotCall(number=e164, added_at=runtime.clock.now(), reason=reason))
    click.echo(f"{e164} will not be called")


@dnc.command("list")
@pass_cli
def dnc_list(cli: CliContext) -> None:
    from sqlalchemy import select

    from callback.models import DoNotCall

    with cli.runtime().db.transaction() as session:
        for row in session.scalars(select(DoNotCall).order_by(DoNotCall.number)):
            click.echo(f"{row.number}  {row.added_at:%Y-%m-%d}  {row.reason or ''}".rstrip())
