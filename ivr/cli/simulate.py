"""`ivr simulate`: virtual callers and agents through a running service and its offline
carrier, over real HTTP, and a report of what happened to every call."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from ivr.cli.context import CliContext, pass_cli


class SkillMix(click.ParamType):
    """`billing:3,technical:1,general`: the skills callers ask for, with weights (default 1)."""

    name = "skills"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[tuple[str, float], ...]:
        if isinstance(value, tuple):
            return value
        from ivr.traffic.plan import PlanError, parse_skills

        try:
            return parse_skills(str(value))
        except PlanError as exc:
            self.fail(exc.message, param, ctx)


POSITIVE = click.FloatRange(min=0, min_open=True)


@click.command()
@click.option("--url", default=None, help="The running service (default: IVR_PUBLIC_URL).")
@click.option(
    "--calls", type=click.IntRange(min=1), default=100, show_default=True, help="Callers to place."
)
@click.option(
    "--agents",
    type=click.IntRange(min=1, max=999),
    default=10,
    show_default=True,
    help="Virtual agents (sim-agent-NN), each with every skill of the mix.",
)
@click.option(
    "--arrival-rate",
    type=POSITIVE,
    default=0.25,
    show_default=True,
    help="Calls per simulated second (Poisson arrivals).",
)
@click.option(
    "--handle-time",
    type=POSITIVE,
    default=30.0,
    show_default=True,
    help="Mean talk time, simulated seconds (exponential, drawn per call).",
)
@click.option(
    "--patience",
    type=POSITIVE,
    default=60.0,
    show_default=True,
    help="Mean time a caller holds in the queue before hanging up, simulated "
    "seconds (exponential, drawn per caller).",
)
@click.option(
    "--skills",
    type=SkillMix(),
    default="billing,technical,outage,general",
    show_default=True,
    help="The call mix: skills of the flow's queues, NAME[:WEIGHT].",
)
@click.option(
    "--callback-rate",
    type=click.FloatRange(min=0, max=1),
    default=0.0,
    show_default=True,
    help="The share of callers who take a callback (keeping their place) when offered one.",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="The same seed draws the same traffic."
)
@click.option(
    "--timeout",
    type=POSITIVE,
    default=None,
    help="Wall seconds before calls still up are hung up and reported unfinished "
    "(default: from the traffic and the carrier's speed).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@pass_cli
def simulate(
    cli: CliContext,
    url: str | None,
    calls: int,
    agents: int,
    arrival_rate: float,
    handle_time: float,
    patience: float,
    skills: tuple[tuple[str, float], ...],
    callback_rate: float,
    seed: int,
    timeout: float | None,
    as_json: bool,
) -> None:
    """Drive virtual callers and agents through a running service (IVR_TELEPHONY=sim) and
    report offered, answered, abandoned, service level, speed of answer, handle time and
    longest wait, overall and per skill. Times are simulated seconds (the carrier's
    IVR_SIM_SPEED scales them); callbacks offered, taken and made; the same-day follow-up
    of every missed call. Exits 1 when some call lacks exactly one outcome or some missed
    call has no follow-up."""
    from ivr.traffic.client import ServiceClient, ServiceError
    from ivr.traffic.plan import PlanError, TrafficPlan
    from ivr.traffic.provision import provision
    from ivr.traffic.runner import Simulation

    try:
        plan = TrafficPlan(
            calls=calls,
            agents=agents,
            arrival_rate=arrival_rate,
            handle_time=handle_time,
            patience=patience,
            skills=skills,
            seed=seed,
            callback_rate=callback_rate,
        )
    except PlanError as exc:
        raise click.BadParameter(exc.message, param_hint=f"'{exc.option}'") from None
    routes = _routes(cli, plan)
    base = (url or cli.settings().public_url).rstrip("/")
    client = ServiceClient(base)
    try:
        client.carrier()  # a service with its offline carrier is there, before any change
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    runtime = cli.runtime()
    levels = {name: routes[name].level for name, _ in plan.skills}
    try:
        with runtime.db.transaction() as session:
            people = provision(
                session, names=plan.agent_names(), skills=levels, now=runtime.clock.now()
            )
    except ValueError as exc:  # AgentError, UserError: the message says what to change
        raise click.ClickException(str(exc)) from None
    client.token = people.token
    progress = None if as_json else (lambda text: click.echo(f"ivr simulate: {text}", err=True))
    try:
        report = Simulation(
            plan,
            client=client,
            routes=routes,
            agents=people.agents,
            timeout=timeout,
            progress=progress,
        ).run()
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(report.to_json()))
    else:
        click.echo(report.to_text())
    if not (report.every_call_has_one_outcome and report.every_missed_call_followed_up):
        sys.exit(1)


def _routes(cli: CliContext, plan: Any) -> dict[str, Any]:
    """How callers reach each skill of the mix in the service's flow (IVR_FLOW)."""
    from callflows.loader import FlowInvalid, load_flow
    from ivr.traffic.routes import routes

    flow_path = cli.settings().flow
    try:
        found = routes(load_flow(flow_path))
    except (FlowInvalid, OSError) as exc:
        raise click.ClickException(f"IVR_FLOW: cannot read {flow_path}: {exc}") from None
    missing = [name for name, _ in plan.skills if name not in found]
    if missing:
        raise click.BadParameter(
            f"no queue of the flow {flow_path} asks for {', '.join(missing)}; "
            f"its queues' skills: {', '.join(found) or 'none'}",
            param_hint="'--skills'",
        )
    return found
