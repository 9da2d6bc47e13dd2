"""The admin page: users, agents with their skills, skills, and the call flow, which is saved
only when the linter finds nothing wrong with it (the linter's messages say what to fix)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from callflows.loader import FlowInvalid, parse_flow
from ivr.console.forms import AgentForm, FlowForm, SkillForm, SkillsForm, UserForm
from ivr.console.security import page, signed_in
from ivr.routing import agents as agent_service
from ivr.routing.models import Agent, Skill
from ivr.routing.queue import ensure_skill
from ivr.runtime import current
from ivr.users.models import User
from ivr.users.service import UserError, add_user

bp = Blueprint("console_admin", __name__, url_prefix="/admin")


def _agent_choices() -> list[SelectChoice]:
    with current().db.transaction() as session:
        names = [SelectChoice(str(a.id), a.name) for a in agent_service.list_agents(session)]
    return [SelectChoice("", "—"), *names]


def _forms() -> dict[str, Any]:
    user_form, skills_form = UserForm(prefix="user"), SkillsForm(prefix="skills")
    user_form.agent.choices = _agent_choices()
    skills_form.agent.choices = _agent_choices()[1:]
    return {"user_form": user_form, "agent_form": AgentForm(prefix="agent"),
            "skills_form": skills_form, "skill_form": SkillForm(prefix="skill")}


def _render(status: int = 200, **forms: Any) -> tuple[str, int]:
    values = _forms() | forms
    with current().db.transaction() as session:
        users = session.scalars(select(User).order_by(User.username)).all()
        agent_rows = agent_service.list_agents(session)
        agent_names = {a.id: a.name for a in agent_rows}
        listing = {
            "users": [{"username": u.username, "role": u.role,
                       "agent": agent_names.get(u.agent_id)} for u in users],
            "agents": [{"name": a.name, "endpoint": a.endpoint, "state": a.state,
                        "skills": ", ".join(f"{s.skill.name}:{s.level}" for s in a.skills)}
                       for a in agent_rows],
            "skills": session.scalars(select(Skill).order_by(Skill.name)).all(),
        }
    return render_template("console/admin.html", me=signed_in(), **listing, **values), status


@bp.get("")
@page("admin")
def index() -> Any:
    return _render()


@bp.post("/users")
@page("admin")
def new_user() -> Any:
    form = UserForm(prefix="user")
    form.agent.choices = _agent_choices()
    if not form.validate_on_submit():
        return _render(400, user_form=form)
    agent_id = int(form.agent.data) if form.agent.data else None
    if form.role.data == "agent" and agent_id is None:
        form.agent.errors.append("an agent user works as one agent: choose it")
        return _render(400, user_form=form)
    rt = current()
    try:
        with rt.db.transaction() as session:
            if agent_id is not None and session.scalar(
                select(User.id).where(User.agent_id == agent_id)
            ):
                raise UserError("that agent already has a user")
            add_user(session, username=form.username.data, password=form.password.data,
                     role=form.role.data, now=rt.clock.now(), agent_id=agent_id)
    except UserError as exc:
        form.username.errors.append(str(exc))
        return _render(400, user_form=form)
    flash(f"User {form.username.data} ({form.role.data}) added. Their API token can be "
          f"rotated with `ivr users`; they sign in here with their password.")
    return redirect(url_for("console_admin.index"))


@bp.post("/agents")
@page("admin")
def new_agent() -> Any:
    form = AgentForm(prefix="agent")
    if not form.validate_on_submit():
        return _render(400, agent_form=form)
    rt = current()
    name = form.name.data.strip()
    try:
        skills = agent_service.parse_skills(form.skills.data)
        with rt.db.transaction() as session:
            agent_service.add_agent(session, name=name,
                                    endpoint=(form.endpoint.data or f"client:{name}").strip(),
                                    skills=skills, now=rt.clock.now())
    except agent_service.AgentError as exc:
        form.skills.errors.append(str(exc))
        return _render(400, agent_form=form)
    flash(f"Agent {name} added with {form.skills.data}. Add a user for them to sign in.")
    return redirect(url_for("console_admin.index"))


@bp.post("/agents/skills")
@page("admin")
def agent_skills() -> Any:
    form = SkillsForm(prefix="skills")
    form.agent.choices = _agent_choices()[1:]
    if not form.validate_on_submit():
        return _render(400, skills_form=form)
    rt = current()
    try:
        skills = agent_service.parse_skills(form.skills.data)
        with rt.db.transaction() as session:
            agent = session.get(Agent, int(form.agent.data or 0))
            if agent is None:
                raise agent_service.AgentError("choose an agent")
            agent_service.set_skills(session, agent=agent, skills=skills)
            name = agent.name
    except agent_service.AgentError as exc:
        form.skills.errors.append(str(exc))
        return _render(400, skills_form=form)
    flash(f"{name}: skills set to {form.skills.data}.")
    return redirect(url_for("console_admin.index"))


@bp.post("/skills")
@page("admin")
def new_skill() -> Any:
    form = SkillForm(prefix="skill")
    if not form.validate_on_submit():
        return _render(400, skill_form=form)
    with current().db.transaction() as session:
        skill = ensure_skill(session, form.name.data.strip())
        if form.description.data:
            skill.description = form.description.data.strip()
    flash(f"Skill {form.name.data} saved.")
    return redirect(url_for("console_admin.index"))


@bp.route("/flow", methods=["GET", "POST"])
@page("admin")
def flow() -> Any:
    rt = current()
    path = Path(rt.flows.path)
    form = FlowForm()
    problems: list[str] = []
    if form.validate_on_submit():
        text = form.text.data.replace("\r\n", "\n")
        try:
            parse_flow(text, filename=path.name)
        except FlowInvalid as exc:
            problems = [str(problem) for problem in exc.problems]
        else:
            _replace(path, text)
            rt.flows.current()  # load it now, so the page shows what the service runs
            flash(f"Flow saved to {path} and loaded.")
            return redirect(url_for("console_admin.flow"))
    elif not form.is_submitted():
        form.text.data = path.read_text(encoding="utf-8")
    status = 400 if form.is_submitted() else 200
    return render_template("console/flow.html", me=signed_in(), form=form, path=path,
                           problems=problems, running_error=rt.flows.last_error), status


def _replace(path: Path, text: str) -> None:
    """Write the whole file at once: the service never reads half a flow."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
