"""The softphone's server side: Twilio access tokens for an agent's client identity, the
settings they need (validated), and what the desktop is told about the phone."""

from __future__ import annotations

import jwt
import pytest

from ivr.console.softphone import SoftphoneUnavailable, access_token, phone_config
from ivr.settings import Settings, SettingsError, from_env, validate

KEY = "SK" + "a" * 32
APP = "AP" + "b" * 32
SECRET = "s" * 32


def twilio_settings(**extra) -> Settings:
    return validate(Settings(database_url="sqlite:///x.db", telephony="twilio",
                             twilio_account_sid="AC" + "c" * 32, twilio_auth_token="t",
                             **extra))


def test_the_access_token_lets_the_agent_identity_receive_calls():
    settings = twilio_settings(twilio_api_key=KEY, twilio_api_secret=SECRET,
                               twilio_twiml_app_sid=APP)
    token = access_token(settings, identity="alice", ttl=600)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["iss"] == KEY and claims["sub"] == settings.twilio_account_sid
    assert claims["grants"]["identity"] == "alice"
    assert claims["grants"]["voice"] == {"incoming": {"allow": True},
                                         "outgoing": {"application_sid": APP}}
    assert claims["exp"] - claims["nbf"] <= 600


def test_without_the_api_key_there_is_no_token_and_the_desktop_says_why():
    settings = twilio_settings()
    with pytest.raises(SoftphoneUnavailable, match="IVR_TWILIO_API_KEY"):
        access_token(settings, identity="alice")
    assert phone_config(settings, "client:alice")["mode"] == "unconfigured"
    assert phone_config(settings, "sip:alice@pbx.example")["mode"] == "external"


def test_the_offline_carrier_drives_the_agent_device_by_its_identity():
    settings = validate(Settings(database_url="sqlite:///x.db"))
    assert phone_config(settings, "client:alice") == {
        "mode": "sim", "identity": "alice", "endpoint": "client:alice", "control": "/sim/devices/"}
    assert phone_config(settings, "+15551230000")["identity"] == "+15551230000"


@pytest.mark.parametrize(("environ", "message"), [
    ({"IVR_TWILIO_API_KEY": KEY}, "IVR_TWILIO_API_SECRET: the softphone needs"),
    ({"IVR_TWILIO_API_KEY": "KS123", "IVR_TWILIO_API_SECRET": "x",
      "IVR_TWILIO_TWIML_APP_SID": APP}, "IVR_TWILIO_API_KEY: must be 'SK'"),
    ({"IVR_TWILIO_API_KEY": KEY, "IVR_TWILIO_API_SECRET": "x",
      "IVR_TWILIO_TWIML_APP_SID": "AP1"}, "IVR_TWILIO_TWIML_APP_SID: must be 'AP'"),
])
def test_softphone_settings_are_checked_and_named(environ, message):
    with pytest.raises(SettingsError, match=message):
        from_env(environ)


def test_the_secret_is_masked_when_settings_are_described():
    from ivr.settings import describe

    shown = describe(from_env({"IVR_TWILIO_API_KEY": KEY, "IVR_TWILIO_API_SECRET": "s3cret",
                               "IVR_TWILIO_TWIML_APP_SID": APP}))
    assert shown["IVR_TWILIO_API_SECRET"] == "***"


def test_the_desktop_asks_no_token_from_the_offline_carrier(signed_in):
    ann = signed_in("ann")
    answer = ann.post("/desktop/token", headers={"X-CSRFToken": ann.csrf})
    assert answer.status_code == 409
    assert "offline carrier" in answer.get_json()["reason"]
