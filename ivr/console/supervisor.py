"""The supervisor console: the live wallboard and its actions, recordings and transcripts,
call scoring, and the day's KPIs with charts. Supervisors and admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request

from ivr.console.security import SUPERVISING, page, signed_in
from ivr.runtime import current

bp = Blueprint("supervisor", __name__, url_prefix="/console")


def _render(template: str, **config: Any) -> str:
    rt = current()
    config |= {"telephony": rt.settings.telephony, "timezone": rt.settings.timezone}
    return render_template(template, me=signed_in(), page_config=config)


@bp.get("")
@page(*SUPERVISING)
def wallboard() -> str:
    return _render("console/wallboard.html")


@bp.get("/recordings")
@page(*SUPERVISING)
def recordings() -> str:
    return _render("console/recordings.html", query=request.args.get("q", ""),
                   recording=request.args.get("recording", type=int))


@bp.get("/scoring")
@page(*SUPERVISING)
def scoring() -> str:
    return _render("console/scoring.html", call=request.args.get("call", type=int))


@bp.get("/kpis")
@page(*SUPERVISING)
def kpis() -> str:
    return _render("console/kpis.html", date=request.args.get("date", ""))
