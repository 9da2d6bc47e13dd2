"""The browser softphone's side on the server: the Twilio access token for an agent's
`client:` identity (with the real carrier), and what the desktop needs to know to drive the
phone (the offline carrier's control API, or the Twilio Voice SDK)."""

from __future__ import annotations

from typing import Any

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

from ivr.settings import Settings

TOKEN_TTL_SECONDS = 3600


class SoftphoneUnavailable(RuntimeError):
    """The softphone cannot work with these settings; the message says which to set."""


def client_identity(endpoint: str) -> str | None:
    """The Voice SDK identity of a `client:NAME` endpoint; None for SIP and numbers."""
    return endpoint[len("client:"):] if endpoint.startswith("client:") else None


def device_identity(endpoint: str) -> str:
    """The key the offline carrier knows the endpoint by (the client name, or the address)."""
    return client_identity(endpoint) or endpoint


def access_token(settings: Settings, *, identity: str, ttl: int = TOKEN_TTL_SECONDS) -> str:
    """A signed JWT letting the browser receive calls for `identity` (and place calls
    through the TwiML app), valid for `ttl` seconds."""
    if not settings.twilio_softphone_ready:
        raise SoftphoneUnavailable(
            "the browser softphone needs IVR_TWILIO_API_KEY, IVR_TWILIO_API_SECRET and "
            "IVR_TWILIO_TWIML_APP_SID (Twilio Console: API keys, TwiML apps)"
        )
    token = AccessToken(settings.twilio_account_sid, settings.twilio_api_key,
                        settings.twilio_api_secret, identity=identity, ttl=ttl)
    token.add_grant(VoiceGrant(incoming_allow=True,
                               outgoing_application_sid=settings.twilio_twiml_app_sid))
    return token.to_jwt()


def phone_config(settings: Settings, endpoint: str) -> dict[str, Any]:
    """How the desktop's phone buttons reach the call: `sim` (the offline carrier's control
    API, which stands in for the person at the device) or `twilio` (the Voice SDK)."""
    if settings.is_sim:
        return {"mode": "sim", "identity": device_identity(endpoint), "endpoint": endpoint,
                "control": "/sim/devices/"}
    identity = client_identity(endpoint)
    if identity is None:
        return {"mode": "external", "endpoint": endpoint,
                "why": f"calls ring at {endpoint}; answer them there"}
    if not settings.twilio_softphone_ready:
        return {"mode": "unconfigured", "endpoint": endpoint,
                "why": "set IVR_TWILIO_API_KEY, IVR_TWILIO_API_SECRET and "
                       "IVR_TWILIO_TWIML_APP_SID for the browser softphone"}
    return {"mode": "twilio", "identity": identity, "endpoint": endpoint}
