"""The simulator's only ways into the service: HTTP to the offline carrier's control API
(under /sim) and to the JSON API (with a supervisor's token)."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 15.0


class ServiceError(RuntimeError):
    """The service could not be reached or refused a request; the message says which."""


class ServiceClient:
    """Thread-safe for the simulator's use: one requests session per client."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        session: requests.Session | None = None,
        timeout: float = TIMEOUT,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.http = session or requests.Session()
        self.timeout = timeout

    # -- the offline carrier ---------------------------------------------------------------

    def carrier(self) -> dict[str, Any]:
        """The carrier's speed, support number and queue limit; ServiceError when the service
        at the URL has no offline carrier (it does not run with IVR_TELEPHONY=sim)."""
        response = self._request("GET", "/sim/carrier", auth=False, ok=(200, 404))
        if response.status_code == 404:
            raise ServiceError(
                f"{self.base_url} has no offline carrier at /sim/carrier: the "
                "simulator needs a service running with IVR_TELEPHONY=sim"
            )
        return response.json()

    def set_device(self, identity: str, device: dict[str, Any]) -> None:
        self._request("PUT", f"/sim/devices/{identity}", json=device, auth=False)

    def place_call(self, from_: str, script: dict[str, Any]) -> str:
        response = self._request(
            "POST",
            "/sim/phone/calls",
            auth=False,
            json={"from": from_, "script": script},
            ok=(201,),
        )
        return str(response.json()["sid"])

    def live_calls(self) -> set[str]:
        """The sids of every call leg still up at the carrier."""
        response = self._request("GET", "/sim/phone/calls", auth=False)
        return {call["sid"] for call in response.json()["calls"]}

    def events(
        self, sid: str, *, after: int = 0, wait: float = 0.0
    ) -> tuple[list[dict[str, Any]], bool]:
        """The call's events after the `after`th, and whether the call has ended; waits up to
        `wait` seconds for a new event (or the end) when there is none yet."""
        response = self._request(
            "GET",
            f"/sim/phone/calls/{sid}/events",
            auth=False,
            params={"after": after, "wait": wait},
            timeout=self.timeout + wait,
        )
        data = response.json()
        return data["events"], bool(data["ended"])

    def errors(self) -> list[dict[str, Any]]:
        """What the carrier found wrong with the service's answers, oldest first."""
        return list(self._request("GET", "/sim/errors", auth=False).json()["errors"])

    def hang_up(self, sid: str) -> None:
        self._request("POST", f"/sim/phone/calls/{sid}/hangup", auth=False, ok=(200, 404, 409))

    # -- the JSON API ----------------------------------------------------------------------

    def agents(self) -> list[dict[str, Any]]:
        return list(self._request("GET", "/api/agents").json()["agents"])

    def set_state(self, agent_id: int, state: str, reason: str | None = None) -> bool:
        """Change an agent's presence; False when the service refuses it now (409: on a call)."""
        body = {"state": state, **({"reason": reason} if reason else {})}
        response = self._request("PUT", f"/api/agents/{agent_id}/state", json=body, ok=(200, 409))
        return response.status_code == 200

    def calls(self, day: str, *, outcome: str | None = None) -> list[dict[str, Any]]:
        params = {"date": day, **({"outcome": outcome} if outcome else {})}
        return list(self._request("GET", "/api/calls", params=params).json()["calls"])

    def callbacks(self) -> list[dict[str, Any]]:
        """The newest callbacks (the API lists up to 1000), with their attempts."""
        return list(self._request("GET", "/api/callbacks").json()["callbacks"])

    def follow_ups(self) -> list[dict[str, Any]]:
        """Every follow-up, open and done (up to 1000, soonest due first)."""
        response = self._request("GET", "/api/followups", params={"status": "all"})
        return list(response.json()["follow_ups"])

    def followups_report(self, day: str) -> dict[str, Any]:
        """The service's figures of a day: missed calls, follow-ups, callbacks."""
        response = self._request("GET", "/api/reports/followups", params={"date": day})
        return dict(response.json())

    # -- plumbing --------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        auth: bool = True,
        ok: tuple[int, ...] = (200,),
        timeout: float | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        url = self.base_url + path
        try:
            response = self.http.request(
                method, url, headers=headers, timeout=timeout or self.timeout, **kwargs
            )
        except requests.RequestException as exc:
            raise ServiceError(f"cannot reach the service at {self.base_url}: {exc}") from None
        if response.status_code not in ok:
            raise ServiceError(
                f"{method} {path} answered {response.status_code}: {_message(response)}"
            )
        return response


def _message(response: requests.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(data, dict):
        return str(data.get("reason") or data.get("error") or data.get("message") or data)[:200]
    return str(data)[:200]
