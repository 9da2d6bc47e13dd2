"""Every webhook checks X-Twilio-Signature: unsigned or wrongly signed requests get 403 and
leave no trace but a log line."""

import logging

import pytest
from sqlalchemy import func, select

from ivr.calls.models import Call, CallEvent

WEBHOOKS = [
    "/voice/incoming",
    "/voice/status",
    "/voice/menu/main_menu?attempt=1",
    "/voice/menu/main_menu/silence?attempt=1",
    "/voice/queue/wait",
    "/voice/queue/result",
    "/voice/recover?attempt=1",
]
FORM = {
    "CallSid": "CA" + "a" * 32,
    "From": "+15551230000",
    "To": "+15005550006",
    "CallStatus": "in-progress",
    "Digits": "1",
}


def count_rows(db) -> tuple[int, int]:
    with db.transaction() as session:
        return (
            session.scalar(select(func.count(Call.id))),
            session.scalar(select(func.count(CallEvent.id))),
        )


@pytest.mark.parametrize("path", WEBHOOKS)
def test_unsigned_webhook_is_refused_and_writes_nothing(client, db, path, caplog) -> None:
    caplog.set_level(logging.WARNING)
    response = client.post(path, data=FORM)
    assert response.status_code == 403
    assert count_rows(db) == (0, 0)
    assert "missing X-Twilio-Signature" in caplog.text


@pytest.mark.parametrize("path", WEBHOOKS)
def test_wrongly_signed_webhook_is_refused_and_writes_nothing(
    client, db, settings, path, caplog
) -> None:
    from support import sign

    caplog.set_level(logging.WARNING)
    tampered = dict(FORM, From="+15559999999")
    response = client.post(
        path, data=tampered, headers={"X-Twilio-Signature": sign(settings, path, FORM)}
    )
    assert response.status_code == 403
    assert count_rows(db) == (0, 0)
    assert "wrong X-Twilio-Signature" in caplog.text


def test_signature_for_another_host_is_refused(client, db, settings) -> None:
    from support import sign

    other = settings.with_overrides(public_url="https://attacker.example.com")
    response = client.post(
        "/voice/incoming",
        data=FORM,
        headers={"X-Twilio-Signature": sign(other, "/voice/incoming", FORM)},
    )
    assert response.status_code == 403
    assert count_rows(db) == (0, 0)


def test_signature_uses_the_public_url_behind_a_proxy(client, carrier_post, settings) -> None:
    # The request reaches us as http://localhost/..., the carrier signed the public URL.
    assert settings.public_url.startswith("http://127.0.0.1")
    response = carrier_post("/voice/incoming", FORM)
    assert response.status_code == 200


def test_a_signature_of_the_url_with_or_without_its_port_is_accepted(client, settings) -> None:
    # Twilio signs the URL it requested; the library also accepts the same URL with its port
    # left out (or the scheme's default port added), as Twilio's own back ends differ.
    from twilio.request_validator import RequestValidator

    base = settings.public_url.rstrip("/")
    scheme, host, port = base.split(":")
    assert port.isdigit(), "the tests' public URL has a port"
    validator = RequestValidator(settings.twilio_auth_token)
    for n, signed_base in enumerate((base, f"{scheme}:{host}")):
        form = FORM | {"CallSid": f"CA{n:032x}"}
        signature = validator.compute_signature(signed_base + "/voice/incoming", form)
        response = client.post("/voice/incoming", data=form,
                               headers={"X-Twilio-Signature": signature})
        assert response.status_code == 200, signed_base
