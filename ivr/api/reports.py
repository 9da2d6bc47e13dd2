"""The API for the KPIs and the day's charts (supervisors and admins): the same report as
`ivr report kpis` and the console's KPI page, computed by ivr.reports."""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, request

from ivr.api.auth import SUPERVISING, require
from ivr.reports import service
from ivr.reports.kpis import KpiError
from ivr.reports.policy import ReportPolicyError
from ivr.runtime import current

bp = Blueprint("api_reports", __name__, url_prefix="/api/reports")


def _answer(build) -> Response:
    rt = current()
    with rt.db.transaction() as session:
        try:
            return jsonify(build(session, args=request.args, tz=rt.calendar.tz,
                                 policy=rt.reports, now=rt.clock.now()))
        except KpiError as exc:
            abort(400, description=str(exc))
        except ReportPolicyError as exc:  # a fixed target naming no KPI: fix the file
            abort(500, description=f"IVR_REPORT_POLICY: {exc}")


@bp.get("/kpis")
@require(*SUPERVISING)
def kpis() -> Response:
    """?from=&to=&period=day|week|month&skill=&agent=&targets=true|false"""
    return _answer(service.kpis)


@bp.get("/charts")
@require(*SUPERVISING)
def charts() -> Response:
    """?date= (or from=&to=), optional skill= and agent="""
    return _answer(service.charts)
