"""The whole pipeline through the offline carrier over real HTTP: a call is answered and
recorded in two channels (paused while the caller gives card details), the recording is
downloaded, transcribed with the real Korean model and found by a word the model heard, with
the segment's time offset. And a voicemail left after hours, the same way."""

from __future__ import annotations

import io
import wave
from array import array
from datetime import UTC, datetime

import requests
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from ivr.clock import ManualClock
from ivr.routing.agents import add_agent
from ivr.routing.models import Reservation
from ivr.routing.presence import set_state
from ivr.sim import CallerScript, Device
from ivr.users.service import add_user
from recordings.models import Recording

from .conftest import AGENT_LINE, CUSTOMER_LINE, VOICEMAIL_LINE
from flowpaths import write_flow
from support import wait_for

CARD_LINE = "카드 번호는 일 이 삼 사 입니다"
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def token(live, username, role, agent_id=None):
    with live.db.transaction() as session:
        _, secret = add_user(
            session,
            username=username,
            password="pw-123",
            role=role,
            now=live.runtime.clock.now(),
            agent_id=agent_id,
        )
    return {"Authorization": f"Bearer {secret}"}


def api(live, method, path, headers, **kwargs):
    return requests.request(method, live.url + path, headers=headers, timeout=30, **kwargs)


def settled_recording(live, call_sid):
    def done():
        with live.db.transaction() as session:
            found = session.scalar(
                select(Recording)
                .join(Call, Call.id == Recording.call_id)
                .where(Call.sid == call_sid)
            )
        return (
            found if found is not None and found.transcript_status in ("done", "failed") else None
        )

    return wait_for(done, timeout=180, what="the recording to be transcribed")


def test_a_recorded_call_is_transcribed_and_found_by_a_word_in_it(
    live_factory, transcriber, tmp_path
):
    # A one-menu flow: this test is about recordings, not the default flow's menus.
    live = live_factory(sim_speed=10.0, flow=write_flow(tmp_path))
    live.runtime.recordings.use_transcriber(transcriber)  # the session's model, loaded once
    rt, carrier = live.runtime, live.carrier
    with live.db.transaction() as session:
        agent = add_agent(
            session,
            name="alice",
            endpoint="client:alice",
            skills={"technical": 2},
            now=rt.clock.now(),
        )
        set_state(session, agent=agent, state="available", now=rt.clock.now())
        agent_id = agent.id
    alice = token(live, "alice", "agent", agent_id)
    supervisor = token(live, "sam", "supervisor")
    carrier.set_device(Device("alice", mode="auto", answer_after=1, talk_time=11))
    carrier.recordings.set_agent_lines("alice", [AGENT_LINE])
    sid = carrier.place_call(
        "+15551239999", caller=CallerScript(answers=["1"], lines=[CUSTOMER_LINE, CARD_LINE])
    )

    # Connected: the caller is about to give card details, so the agent pauses the recording.
    live_recording = wait_for(lambda: carrier.recordings.list(sid), what="the recording")[0]
    with live.db.transaction() as session:
        call_id = session.scalar(select(Call.id).where(Call.sid == sid))
    wait_for(lambda: _connected(live, call_id), what="the agent to answer")
    wait_for(lambda: live_recording.offset() >= 4.9, what="the caller's first line")
    paused = api(live, "POST", f"/api/calls/{call_id}/recording", alice, json={"status": "paused"})
    assert paused.status_code == 200, paused.text
    wait_for(lambda: live_recording.offset() >= 9.0, what="the card details")
    resumed = api(
        live, "POST", f"/api/calls/{call_id}/recording", alice, json={"status": "in-progress"}
    )
    assert resumed.status_code == 200, resumed.text

    recording = settled_recording(live, sid)
    assert (recording.kind, recording.channels, recording.agent_id) == ("conversation", 2, agent_id)
    assert (recording.audio_status, recording.transcript_status) == ("stored", "done")
    path = live.runtime.settings.var_dir / "recordings" / recording.storage_key
    assert recording.storage_key == f"{recording.started_at:%Y/%m/%d}/{recording.sid}.wav"
    stored = path.read_bytes()
    assert len(stored) == recording.size_bytes

    # The paused span is silence in the audio, and nothing was heard in it.
    ((pause_start, pause_end),) = live_recording.pauses
    rate, tracks = _tracks(stored)
    for track in tracks:
        assert max(track[int(pause_start * rate) : int(pause_end * rate)]) == 0
    detail = api(live, "GET", f"/api/recordings/{recording.id}", alice).json()
    words = [w for s in detail["segments"] for w in s["words"]]
    assert words and all(
        end <= pause_start + 0.1 or start >= pause_end - 0.1 for _, start, end, _ in words
    )
    assert {s["speaker"] for s in detail["segments"]} == {"agent", "customer"}

    # A supervisor searches a word the model heard and lands on its segment and offset.
    segment = max(detail["segments"], key=lambda s: len(s["words"]))
    word = max((w[0] for w in segment["words"]), key=len)
    hits = api(
        live,
        "GET",
        "/api/recordings/search",
        supervisor,
        params={"q": word, "skill": "technical", "agent": agent_id},
    ).json()["hits"]
    mine = [h for h in hits if h["segment"]["id"] == segment["id"]]
    assert mine and mine[0]["call_id"] == call_id
    assert mine[0]["segment"]["start_seconds"] == segment["start_seconds"]

    # The agent plays it back (a range, as a player asks); the playback is audited.
    part = api(
        live, "GET", f"/api/recordings/{recording.id}/audio", alice | {"Range": "bytes=0-43"}
    )
    assert part.status_code == 206 and part.content == stored[:44]
    audit = api(live, "GET", f"/api/recordings/{recording.id}/access", supervisor).json()
    assert [(a["username"], a["action"], a["range"]) for a in audit["access"]] == [
        ("alice", "play", "bytes=0-43")
    ]
    with live.db.transaction() as session:
        kinds = list(
            session.scalars(
                select(CallEvent.kind).where(CallEvent.call_id == call_id).order_by(CallEvent.id)
            )
        )
    recording_kinds = [k for k in kinds if k.startswith("recording.")]
    assert recording_kinds == [
        "recording.paused",
        "recording.resumed",
        "recording.completed",
        "recording.stored",
        "recording.transcribed",
    ]
    assert carrier.errors == []


def test_a_voicemail_after_hours_is_retried_transcribed_and_searchable(live_factory, transcriber):
    live = live_factory(
        clock=ManualClock(SATURDAY_NOON),
        business_hours="mon-fri 08:00-18:00",
        sim_speed=20.0,
        recording_retry_seconds=0.05,
    )
    live.runtime.recordings.use_transcriber(transcriber)
    live.carrier.recordings.fail_media(500)  # the first download fails at the carrier
    supervisor = token(live, "sam", "supervisor")
    sid = live.carrier.place_call("+15551238888", caller=CallerScript(voicemail=VOICEMAIL_LINE))

    recording = settled_recording(live, sid)
    assert (recording.kind, recording.channels, recording.agent_id) == ("voicemail", 1, None)
    assert recording.transcript_status == "done"
    assert recording.attempts == 2 and recording.error is None  # retried, then stored
    with live.db.transaction() as session:
        call = session.scalar(select(Call).where(Call.sid == sid))
        segments = session.get(Recording, recording.id).segments
        assert call.outcome == "voicemail"
    assert segments and {s.speaker for s in segments} == {"customer"}
    word = max((w[0] for s in segments for w in s.words), key=len)
    hits = api(
        live,
        "GET",
        "/api/recordings/search",
        supervisor,
        params={"q": word, "outcome": "voicemail"},
    ).json()["hits"]
    assert any(h["recording_id"] == recording.id for h in hits)


def _connected(live, call_id):
    with live.db.transaction() as session:
        return session.scalar(
            select(Reservation.id).where(
                Reservation.call_id == call_id, Reservation.status == "connected"
            )
        )


def _tracks(data):
    with wave.open(io.BytesIO(data)) as wav:
        count, rate = wav.getnchannels(), wav.getframerate()
        samples = array("h", wav.readframes(wav.getnframes()))
    return rate, [samples[index::count] for index in range(count)]
