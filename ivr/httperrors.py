"""HTTP errors as JSON with a reason a person can act on."""

from __future__ import annotations

from flask import Response, jsonify
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import Conflict, HTTPException


def json_error(exc: HTTPException) -> Response:
    response = jsonify(error=exc.name, reason=exc.description)
    response.status_code = exc.code or 500
    return response


def changed_meanwhile(_exc: StaleDataError) -> Response:
    """A row the request read was changed by another transaction before the request wrote
    it (a caller taken by the router meanwhile, say): nothing was written; say so, not 500."""
    return json_error(Conflict(
        "the record changed while this request was handled (the router or another user "
        "got there first); nothing was changed: look again and send it again"))
