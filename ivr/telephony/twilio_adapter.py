"""The Twilio adapter. The offline carrier is reached through this same adapter: only the
HTTP client under the `twilio` library changes, so the production code path is the tested one."""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from ivr.settings import Settings
from ivr.telephony.port import SentText, TelephonyError


def make_client(settings: Settings) -> Client:
    if settings.is_sim:
        from ivr.sim.httpclient import SimHttpClient

        http_client = SimHttpClient(settings.sim_url)
        return Client(
            settings.twilio_account_sid, settings.twilio_auth_token, http_client=http_client
        )
    return Client(settings.twilio_account_sid, settings.twilio_auth_token)


class TwilioTelephony:
    def __init__(self, client: Client) -> None:
        self.client = client

    def redirect(self, call_sid: str, url: str) -> None:
        with _carrier_errors(f"redirecting call {call_sid}"):
            self.client.calls(call_sid).update(url=url, method="POST")

    def hangup(self, call_sid: str) -> None:
        with _carrier_errors(f"hanging up call {call_sid}"):
            self.client.calls(call_sid).update(status="completed")

    def call_status(self, call_sid: str) -> tuple[str, int | None]:
        with _carrier_errors(f"fetching call {call_sid}"):
            call = self.client.calls(call_sid).fetch()
        duration = int(call.duration) if call.duration not in (None, "") else None
        return str(call.status), duration

    def dial(
        self,
        *,
        to: str,
        from_: str,
        url: str,
        status_callback: str,
        machine_detection: bool = False,
        timeout: int = 30,
    ) -> str:
        options: dict[str, object] = {}
        if machine_detection:
            options["machine_detection"] = "Enable"
        with _carrier_errors(f"dialling {to}"):
            call = self.client.calls.create(
                to=to,
                from_=from_,
                url=url,
                method="POST",
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=["initiated", "ringing", "answered", "completed"],
                timeout=timeout,
                **options,
            )
        return str(call.sid)

    def fetch_recording(self, recording_url: str, *, media_format: str = "wav") -> bytes:
        # Media is binary, which the library's text responses would mangle: fetch it over
        # HTTP with the account's credentials, as Twilio documents for RecordingUrl.
        url = (
            recording_url
            if recording_url.endswith(f".{media_format}")
            else f"{recording_url}.{media_format}"
        )
        try:
            response = requests.get(
                url, auth=(self.client.username, self.client.password), timeout=30
            )
        except requests.RequestException as exc:
            raise TelephonyError(f"fetching recording {url}: {exc}") from exc
        if response.status_code != 200:
            raise TelephonyError(
                f"fetching recording {url}: carrier answered {response.status_code}"
            )
        return response.content

    def delete_recording(self, recording_sid: str) -> None:
        with _carrier_errors(f"deleting recording {recording_sid}"):
            self.client.recordings(recording_sid).delete()

    def update_recording(
        self, call_sid: str, status: str, *, recording_sid: str = "Twilio.CURRENT"
    ) -> str:
        with _carrier_errors(f"setting the recording of call {call_sid} {status}"):
            recording = (
                self.client.calls(call_sid)
                .recordings(recording_sid)
                .update(status=status, pause_behavior="silence")
            )
        return str(recording.sid)

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        with _carrier_errors(f"texting {to}"):
            message = self.client.messages.create(to=to, from_=from_, body=body)
        return str(message.sid)

    def texts_to(self, to: str, *, limit: int = 20) -> list[SentText]:
        with _carrier_errors(f"listing the texts to {to}"):
            found = self.client.messages.list(to=to, limit=limit)
        return [SentText(str(m.sid), m.body or "", m.date_created) for m in found]


class _carrier_errors:
    """Turn the twilio library's exceptions into TelephonyError naming what was attempted."""

    def __init__(self, doing: str) -> None:
        self.doing = doing

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> bool:  # type: ignore[no-untyped-def]
        if exc is None:
            return False
        if isinstance(exc, TwilioRestException):
            raise TelephonyError(
                f"{self.doing}: {exc.status} {exc.msg}", status=exc.status, code=exc.code
            ) from exc
        if isinstance(exc, TwilioException | OSError):
            raise TelephonyError(f"{self.doing}: {exc}") from exc
        return False
