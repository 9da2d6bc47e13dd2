"""Browser libraries from the npm registry, served by the service itself (never a CDN).

`frontend/package.json` and its lock name them; `make install` runs `npm ci` there. Only the
files named below are served, at /console/vendor/<name>."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, send_file

from ivr.settings import PROJECT_ROOT

NODE_MODULES = PROJECT_ROOT / "frontend" / "node_modules"
FILES = {
    "chart.umd.min.js": "chart.js/dist/chart.umd.min.js",
    "twilio.min.js": "@twilio/voice-sdk/dist/twilio.min.js",
}

bp = Blueprint("console_vendor", __name__, url_prefix="/console/vendor")


def vendored(name: str, root: Path = NODE_MODULES) -> Path:
    """The installed file served as `name`; LookupError when it is not one, or missing."""
    relative = FILES.get(name)
    if relative is None:
        raise LookupError(f"{name} is not a vendored file")
    path = root / relative
    if not path.is_file():
        raise LookupError(f"{path} is missing: run `make install` (npm ci in frontend/)")
    return path


@bp.get("/<name>")
def vendor_file(name: str) -> Response:
    try:
        path = vendored(name)
    except LookupError as exc:
        abort(404, description=str(exc))
    response = send_file(path, mimetype="text/javascript", max_age=3600)
    return response
