"""The `twilio` library's HTTP client, pointed at the offline carrier: every request the real
client builds for https://api.twilio.com/... goes to the sim's base URL instead, with the same
method, parameters, body and credentials. Only this swaps in sim mode, so the production code
path (the Twilio adapter and the `twilio` client) is the one tested."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response


class SimHttpClient(TwilioHttpClient):
    def __init__(self, base_url: str, **kwargs: Any) -> None:
        """`base_url`: where the carrier app is served, e.g. http://127.0.0.1:5000/sim."""
        super().__init__(**kwargs)
        self.base_url = base_url.rstrip("/")

    def rewrite(self, url: str) -> str:
        """The sim URL for a Twilio API URL: same path and query, the sim's origin."""
        parts = urlsplit(url)
        return self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
