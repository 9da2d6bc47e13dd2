"""`ivr users` and `ivr agents`: the people who sign in and the agents calls are routed to."""

from __future__ import annotations

import click

from ivr.cli.context import CliContext, pass_cli


@click.group()
def users() -> None:
    """Users who sign in (agents, supervisors, admins)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["agent", "supervisor", "admin"]), required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--agent", "agent_name", default=None, help="Link to this agent (role agent).")
@pass_cli
def add_user(
    cli: CliContext, username: str, role: str, password: str, agent_name: str | None
) -> None:
    """Add a user; prints their API token once."""
    from ivr.routing.agents import by_name
    from ivr.users.service import UserError
    from ivr.users.service import add_user as add

    runtime = cli.runtime()
    try:
        with runtime.db.transaction() as session:
            agent_id = None
            if agent_name:
                agent = by_name(session, agent_name)
                if agent is None:
                    raise UserError(f"no agent named {agent_name!r}")
                agent_id = agent.id
            user, token = add(
                session,
                username=username,
                password=password,
                role=role,
                now=runtime.clock.now(),
                agent_id=agent_id,
            )
    except UserError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {role} {user.username}; API token (shown once): {token}")


@users.command("list")
@pass_cli
def list_users(cli: CliContext) -> None:
    from sqlalchemy import select

    from ivr.users.models import User

    with cli.runtime().db.transaction() as session:
        for user in session.scalars(select(User).order_by(User.username)):
            click.echo(f"{user.username:<16} {user.role}")


@click.group(invoke_without_command=True)
@click.pass_context
def agents(ctx: click.Context) -> None:
    """Agents: list them (default), add them, change their skills."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(list_agents)


@agents.command("list")
@pass_cli
def list_agents(cli: CliContext) -> None:
    from ivr.routing.agents import list_agents as all_agents

    with cli.runtime().db.transaction() as session:
        for agent in all_agents(session):
            skills = ",".join(f"{s.skill.name}:{s.level}" for s in agent.skills)
            reason = f" ({agent.state_reason})" if agent.state_reason else ""
            click.echo(f"{agent.name:<12} {agent.state + reason:<22} {agent.endpoint:<24} {skills}")


@agents.command("add")
@click.argument("name")
@click.option("--endpoint", default=None, help="client:NAME (default), sip:user@host or +E164.")
@click.option("--skills", default="general:1", show_default=True, help="e.g. billing:3,general:2")
@pass_cli
def add_agent(cli: CliContext, name: str, endpoint: str | None, skills: str) -> None:
    from ivr.routing.agents import AgentError, parse_skills
    from ivr.routing.agents import add_agent as add

    runtime = cli.runtime()
    try:
        with runtime.db.transaction() as session:
            agent = add(
                session,
                name=name,
                endpoint=endpoint or f"client:{name}",
                skills=parse_skills(skills),
                now=runtime.clock.now(),
            )
            click.echo(f"added agent {agent.name} at {agent.endpoint}")
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None


@agents.command("skills")
@click.argument("name")
@click.argument("skills")
@pass_cli
def set_agent_skills(cli: CliContext, name: str, skills: str) -> None:
    """Set skill levels, e.g. `ivr agents skills alice billing:5,technical:1`."""
    from ivr.routing.agents import AgentError, by_name, parse_skills, set_skills

    runtime = cli.runtime()
    try:
        with runtime.db.transaction() as session:
            agent = by_name(session, name)
            if agent is None:
                raise AgentError(f"no agent named {name!r}")
            set_skills(session, agent=agent, skills=parse_skills(skills))
    except AgentError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{name}: {skills}")
