"""The API for wrap-up: the request categories an agent chooses from, and saving the
wrap-up of a call (category, resolved, notes)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify

from ivr.api.auth import require, supervising, user
from ivr.api.views import agent_or_404, body, text_field, wrap_up_view
from ivr.calls.models import Call
from ivr.calls.wrapup import NotTheirCall, WrapUpError, save_wrap_up
from ivr.runtime import current

bp = Blueprint("api_wrapup", __name__, url_prefix="/api")


@bp.get("/wrapup/categories")
@require()
def categories() -> Response:
    return jsonify(categories=list(current().reports.categories))


@bp.post("/calls/<int:call_id>/wrap-up")
@require()
def wrap_up(call_id: int) -> Response:
    """The agent who talked to the caller wraps the call up (a supervisor may, for an agent
    named in `agent_id`)."""
    data = body()
    category = text_field(data, "category")
    resolved = data.get("resolved", False)
    if not isinstance(resolved, bool):
        abort(400, description="field 'resolved' must be true or false")
    notes = data.get("notes")
    if notes is not None and not isinstance(notes, str):
        abort(400, description="field 'notes' must be a string")
    agent_id = data.get("agent_id", user().agent_id)
    if supervising() and agent_id is None:
        abort(400, description="field 'agent_id' names the agent whose wrap-up this is")
    if agent_id is None:
        abort(403, description="only agents wrap calls up")
    if not isinstance(agent_id, int) or isinstance(agent_id, bool):
        abort(400, description="field 'agent_id' must be an agent's id")
    if not supervising() and agent_id != user().agent_id:
        abort(403, description="agents wrap up only their own calls")
    rt = current()
    with rt.db.transaction() as session:
        call = session.get(Call, call_id)
        if call is None:
            abort(404, description=f"no call {call_id}")
        # Locked: saving ends wrap-up, and must not overwrite a sign-out made meanwhile.
        agent = agent_or_404(session, agent_id, lock=True)
        try:
            saved = save_wrap_up(
                session, call=call, agent=agent, category=category, resolved=resolved,
                notes=(notes or "").strip() or None, categories=rt.reports.categories,
                now=rt.clock.now(),
            )
        except NotTheirCall as exc:
            abort(409, description=str(exc))
        except WrapUpError as exc:
            abort(400, description=str(exc))
        view = wrap_up_view(saved)
    rt.poke_router()
    return jsonify(view), 201
