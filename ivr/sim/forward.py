"""/sim of a web process whose offline carrier runs in another process
(`ivr.sim.standalone`): each request is forwarded to the carrier and its answer returned as
it came. Only control traffic passes here (`ivr call`, `ivr simulate`, the softphones): the
service's own Twilio client talks to the carrier directly."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import requests

# Headers that belong to one connection, not to the request or answer (RFC 9110, 7.6.1),
# and those that requests has already acted on (it decodes the body).
NOT_FORWARDED = frozenset({"connection", "keep-alive", "proxy-connection", "te", "trailer",
                           "transfer-encoding", "upgrade", "content-encoding",
                           "content-length"})
# Long enough for the control API's long polls (`wait` of up to a minute).
TIMEOUT_SECONDS = 90


class Forward:
    """A WSGI app forwarding to `base_url` (the carrier's /sim), mounted at /sim."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        query = environ.get("QUERY_STRING", "")
        url = self.base_url + environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        try:
            answer = requests.request(
                environ["REQUEST_METHOD"], url, data=body, headers=_request_headers(environ),
                timeout=TIMEOUT_SECONDS, allow_redirects=False,
            )
        except requests.RequestException as exc:
            message = f"the offline carrier at {self.base_url} did not answer: {exc}".encode()
            start_response("502 Bad Gateway", [("Content-Type", "text/plain; charset=utf-8"),
                                               ("Content-Length", str(len(message)))])
            return [message]
        headers = [(name, value) for name, value in answer.headers.items()
                   if name.lower() not in NOT_FORWARDED]
        headers.append(("Content-Length", str(len(answer.content))))
        start_response(f"{answer.status_code} {answer.reason}", headers)
        return [answer.content]


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items()
               if key.startswith("HTTP_") and key[5:].replace("_", "-").lower()
               not in NOT_FORWARDED}
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    return headers
