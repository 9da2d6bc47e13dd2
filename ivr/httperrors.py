"""HTTP errors as JSON with a reason a person can act on."""

from __future__ import annotations

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException


def json_error(exc: HTTPException) -> Response:
    response = jsonify(error=exc.name, reason=exc.description)
    response.status_code = exc.code or 500
    return response
