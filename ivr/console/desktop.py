"""The agent desktop: presence, the softphone, the screen pop before answering, the call's
controls (recording pause, note, transfer with context), wrap-up, the agent's own callbacks,
follow-ups and scores. Supervisors open any agent's desktop read-only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, jsonify, render_template

from ivr.console.security import SUPERVISING, forbidden, page, signed_in
from ivr.console.softphone import SoftphoneUnavailable, access_token, client_identity, phone_config
from ivr.routing.models import Agent
from ivr.runtime import current

bp = Blueprint("desktop", __name__, url_prefix="/desktop")
NOT_READY_REASONS = ("break", "lunch", "training", "meeting", "coaching", "admin work")


@bp.get("")
@page()
def own() -> Any:
    user = signed_in()
    if user.agent_id is None:
        if user.supervising:
            return forbidden("You are not an agent. Open an agent's desktop from the wallboard "
                             "(read-only), or go to the console.")
        return forbidden("Your user is not linked to an agent; ask an admin.")
    return _render(user.agent_id, read_only=False)


@bp.get("/<int:agent_id>")
@page()
def agent_desktop(agent_id: int) -> Any:
    user = signed_in()
    if user.agent_id == agent_id:
        return _render(agent_id, read_only=False)
    if user.role not in SUPERVISING:
        return forbidden("Agents see only their own desktop.")
    return _render(agent_id, read_only=True)


def _render(agent_id: int, *, read_only: bool) -> Any:
    rt = current()
    with rt.db.transaction() as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            abort(404, description=f"no agent {agent_id}")
        name, endpoint = agent.name, agent.endpoint
    config = {
        "agentId": agent_id,
        "agentName": name,
        "readOnly": read_only,
        "phone": phone_config(rt.settings, endpoint),
        "notReadyReasons": list(NOT_READY_REASONS),
        "wrapUpSeconds": rt.policy.wrap_up_seconds,
    }
    return render_template("console/desktop.html", me=signed_in(), agent_name=name,
                           read_only=read_only, page_config=config)


@bp.post("/token")
@page()
def token() -> Response:
    """A Twilio access token for the signed-in agent's `client:` identity (Voice SDK)."""
    user = signed_in()
    rt = current()
    if user.agent_id is None:
        abort(403, description="only agents have a softphone")
    with rt.db.transaction() as session:
        identity = client_identity(session.get(Agent, user.agent_id).endpoint)
    if identity is None:
        abort(409, description="this agent's endpoint is not a browser softphone (client:NAME)")
    if rt.settings.is_sim:
        abort(409, description="the offline carrier needs no token: the desktop drives it")
    try:
        jwt = access_token(rt.settings, identity=identity)
    except SoftphoneUnavailable as exc:
        abort(409, description=str(exc))
    return jsonify(token=jwt, identity=identity)
