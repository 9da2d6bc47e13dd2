"""Every carrier webhook must carry a valid X-Twilio-Signature for the URL the carrier saw."""

from __future__ import annotations

import hmac
import logging

from flask import Request, abort
from twilio.request_validator import RequestValidator

log = logging.getLogger(__name__)


def url_as_carrier_saw_it(request: Request, public_url: str) -> str:
    """The public base URL (the carrier's view, behind any proxy) plus the request's path and
    query string."""
    url = public_url.rstrip("/") + request.path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    return url


def require_signature(request: Request, *, auth_token: str, public_url: str) -> None:
    """Abort with 403 unless the request is signed by the carrier; nothing else happens first."""
    signature = request.headers.get("X-Twilio-Signature", "")
    url = url_as_carrier_saw_it(request, public_url)
    params = request.form.to_dict(flat=True) if request.method == "POST" else {}
    validator = RequestValidator(auth_token)
    # The URL as the carrier requested it first: one HMAC where `validate` always computes
    # two (the URL with its port and without), which it is still asked for when this fails.
    if signature and (_same(validator.compute_signature(url, params), signature)
                      or validator.validate(url, params, signature)):
        return
    log.warning(
        "rejected %s %s from %s: %s X-Twilio-Signature",
        request.method,
        url,
        request.remote_addr,
        "wrong" if signature else "missing",
    )
    abort(403, description="invalid or missing X-Twilio-Signature")


def _same(expected: str, given: str) -> bool:
    return hmac.compare_digest(expected.encode(), given.encode())
