"""Requests to the service, as Twilio makes them: form-encoded POST (or GET with the parameters
in the query string), signed with X-Twilio-Signature, with the standard voice parameters."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.sax.saxutils import escape

import phonenumbers
import requests
from twilio.request_validator import RequestValidator

from ivr.sim.line import CallEnded
from ivr.sim.resources import SIP_CODES, CallLeg, utcnow

log = logging.getLogger(__name__)
API_VERSION = "2010-04-01"
TWIML_TYPES = ("text/xml", "application/xml")


class ApplicationError(Exception):
    """The service's answer cannot drive the call (Twilio's 11200, 12100, 12200, 12300):
    the caller hears the application error message and the call ends."""

    def __init__(self, code: int, message: str, url: str | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.url = url


class Webhooks:
    """Signs and sends every request to the service; failures are reported to `on_error`."""

    def __init__(
        self,
        *,
        auth_token: str,
        session: requests.Session,
        timeout: float,
        on_error: Callable[[dict[str, Any]], None],
    ) -> None:
        self.validator = RequestValidator(auth_token)
        self.session = session
        self.timeout = timeout
        self.on_error = on_error
        self.stopped = threading.Event()

    def send(self, url: str, method: str, params: dict[str, str]) -> requests.Response:
        """The request Twilio would make; raises requests.RequestException on failure."""
        method = method.upper() if method else "POST"
        if method == "GET":
            separator = "&" if urlsplit(url).query else "?"
            full = url + (separator + urlencode(params) if params else "")
            headers = self._headers(full, {})
            return self.session.get(full, headers=headers, timeout=self.timeout)
        headers = self._headers(url, params)
        return self.session.post(url, data=params, headers=headers, timeout=self.timeout)

    def fetch_twiml(self, url: str, method: str, params: dict[str, str]) -> str:
        """The TwiML the service answers; ApplicationError for anything a carrier cannot use."""
        if self.stopped.is_set():
            raise CallEnded("carrier")
        try:
            response = self.send(url, method, params)
        except requests.RequestException as exc:
            raise ApplicationError(11200, f"HTTP retrieval failure: {exc}", url) from None
        if not 200 <= response.status_code < 300:
            raise ApplicationError(
                11200, f"HTTP retrieval failure: the service answered {response.status_code}", url
            )
        mimetype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if mimetype.startswith("audio/"):
            # An audio answer is played, then the call hangs up, as Twilio does.
            return f"<Response><Play>{escape(url)}</Play></Response>"
        if mimetype not in TWIML_TYPES and not mimetype.endswith("+xml"):
            raise ApplicationError(
                12300, f"Invalid Content-Type {mimetype or '(none)'!r}: TwiML must be text/xml",
                url,
            )
        return response.text

    def notify(self, url: str, method: str, params: dict[str, str], *, call_sid: str) -> None:
        """A request whose answer does not drive the call (status and recording callbacks,
        an action the call has already left): failures are recorded, never fatal."""
        if self.stopped.is_set():
            return
        try:
            response = self.send(url, method, params)
        except requests.RequestException as exc:
            self.on_error(_error(call_sid, url, 11200, f"HTTP retrieval failure: {exc}", False))
            return
        if not 200 <= response.status_code < 300:
            message = f"HTTP retrieval failure: the service answered {response.status_code}"
            self.on_error(_error(call_sid, url, 11200, message, False))

    def _headers(self, url: str, params: dict[str, str]) -> dict[str, str]:
        return {
            "X-Twilio-Signature": self.validator.compute_signature(url, params),
            "User-Agent": "TwilioProxy/1.1 (ivr offline carrier)",
        }


def voice_params(leg: CallLeg) -> dict[str, str]:
    """The standard parameters Twilio sends with every voice request about `leg`."""
    params = {
        "AccountSid": leg.account_sid,
        "ApiVersion": API_VERSION,
        "CallSid": leg.sid,
        "CallStatus": leg.status,
        "Direction": leg.direction,
        "From": leg.from_,
        "To": leg.to,
        "Caller": leg.from_,
        "Called": leg.to,
    }
    for prefix, number in (("From", leg.from_), ("To", leg.to)):
        legacy = "Caller" if prefix == "From" else "Called"
        place = {"City": "", "State": "", "Zip": "", "Country": _country(number)}
        for part, value in place.items():
            params[prefix + part] = value
            params[legacy + part] = value
    if leg.parent_sid:
        params["ParentCallSid"] = leg.parent_sid
    if leg.answered_by:
        params["AnsweredBy"] = leg.answered_by
    return params


def status_params(leg: CallLeg) -> dict[str, str]:
    """A status callback's parameters; bumps the leg's sequence number."""
    params = voice_params(leg)
    params.update(
        {
            "Timestamp": format_datetime(utcnow()),
            "CallbackSource": "call-progress-events",
            "SequenceNumber": str(leg.sequence),
        }
    )
    leg.sequence += 1
    if leg.ended:
        duration = leg.duration or 0
        params["CallDuration"] = str(duration)
        params["Duration"] = str(-(-duration // 60))  # billed minutes
        params["SipResponseCode"] = SIP_CODES.get(leg.status, "487")
    return params


def _country(number: str) -> str:
    if not number.startswith("+"):
        return ""
    try:
        country_code = phonenumbers.parse(number).country_code
    except phonenumbers.NumberParseException:
        return ""
    region = phonenumbers.region_code_for_country_code(country_code or 0)
    return "" if region == phonenumbers.UNKNOWN_REGION else region


def _error(call_sid: str, url: str, code: int, message: str, fatal: bool) -> dict[str, Any]:
    return {"call_sid": call_sid, "url": url, "code": code, "message": message, "fatal": fatal,
            "at": format_datetime(utcnow())}


def error_record(error: ApplicationError, call_sid: str) -> dict[str, Any]:
    return _error(call_sid, error.url or "", error.code, error.message, True)
