"""The recordings API: access rules (agents hear their own calls, supervisors all), playback
with range requests, the audit log of every playback and download, search, and pausing a
call's recording."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from ivr.calls.models import CallEvent
from ivr.routing import queue
from ivr.routing.agents import add_agent
from ivr.routing.models import Reservation
from ivr.users.service import add_user
from recordings import service
from recordings.models import Recording, RecordingAccess
from recordings.storage import key_for

from .conftest import new_call


@pytest.fixture
def center(make_app, clock, dialogue, dialogue_transcript):
    """Two agents and a supervisor; one recorded, transcribed call for each agent."""
    app = make_app(vosk_model="none")
    rt = app.extensions["ivr"]
    people, recordings = {}, {}
    for index, name in enumerate(("ann", "ben"), start=1):
        call_id = new_call(rt.db, clock.now(), sid=f"CA{index:032d}", outcome="answered")
        sid = f"RE{index:032d}"
        key = key_for(sid, clock.now(), "wav")
        rt.recordings.storage.put(key, dialogue, media_type="audio/wav")
        with rt.db.transaction() as session:
            agent = add_agent(
                session,
                name=name,
                endpoint=f"client:{name}",
                skills={"billing": 2},
                now=clock.now(),
            )
            _, token = add_user(
                session,
                username=name,
                password="pw-123",
                role="agent",
                now=clock.now(),
                agent_id=agent.id,
            )
            recording = Recording(
                sid=sid,
                call_id=call_id,
                agent_id=agent.id,
                kind="conversation",
                source_url="https://carrier.test/r",
                channels=2,
                started_at=clock.now(),
                created_at=clock.now(),
                audio_status="stored",
                storage_key=key,
                media_type="audio/wav",
                size_bytes=len(dialogue),
                sha256="f" * 64,
                stored_at=clock.now(),
                transcript_status="running",
            )
            session.add(recording)
            session.flush()
            service.store_transcript(
                session, recording_id=recording.id, transcript=dialogue_transcript, now=clock.now()
            )
            people[name] = {"Authorization": f"Bearer {token}"}
            recordings[name] = (recording.id, call_id, agent.id)
    with rt.db.transaction() as session:
        _, token = add_user(
            session, username="sue", password="pw-123", role="supervisor", now=clock.now()
        )
    people["sue"] = {"Authorization": f"Bearer {token}"}
    return app, app.test_client(), people, recordings


def access_log(app):
    with app.extensions["ivr"].db.transaction() as session:
        return [
            (row.username, row.action, row.byte_range)
            for row in session.scalars(select(RecordingAccess).order_by(RecordingAccess.id))
        ]


def test_agents_hear_only_their_own_calls_and_supervisors_all(center):
    app, client, people, recordings = center
    ann_recording = recordings["ann"][0]
    assert client.get(f"/api/recordings/{ann_recording}", headers=people["ann"]).status_code == 200
    refused = client.get(f"/api/recordings/{ann_recording}", headers=people["ben"])
    assert refused.status_code == 403 and "their own calls" in refused.get_json()["reason"]
    assert (
        client.get(f"/api/recordings/{ann_recording}/audio", headers=people["ben"]).status_code
        == 403
    )
    assert client.get(f"/api/recordings/{ann_recording}", headers=people["sue"]).status_code == 200
    assert client.get(f"/api/recordings/{ann_recording}").status_code == 401
    assert access_log(app) == []  # refused requests hear nothing and log nothing


def test_the_detail_has_the_transcript_with_word_timings(center, dialogue_transcript):
    _, client, people, recordings = center
    view = client.get(f"/api/recordings/{recordings['ann'][0]}", headers=people["sue"]).get_json()
    assert view["audio_status"] == "stored" and view["transcript_status"] == "done"
    assert [(s["speaker"], s["text"], s["start_seconds"]) for s in view["segments"]] == [
        (s.speaker, s.text, s.start) for s in dialogue_transcript.segments
    ]
    assert view["segments"][0]["words"][0][0] == dialogue_transcript.segments[0].words[0].word


def test_the_list_shows_an_agent_their_own_recordings(center, clock):
    _, client, people, recordings = center
    day = clock.now().date().isoformat()
    mine = client.get(f"/api/recordings?date={day}", headers=people["ann"]).get_json()
    assert [r["id"] for r in mine["recordings"]] == [recordings["ann"][0]]
    everyone = client.get(f"/api/recordings?date={day}", headers=people["sue"]).get_json()
    assert {r["id"] for r in everyone["recordings"]} == {recordings["ann"][0], recordings["ben"][0]}
    by_call = client.get(f"/api/recordings?call_id={recordings['ben'][1]}", headers=people["sue"])
    assert [r["id"] for r in by_call.get_json()["recordings"]] == [recordings["ben"][0]]


def test_playback_answers_range_requests_and_every_one_is_audited(center, dialogue):
    app, client, people, recordings = center
    url = f"/api/recordings/{recordings['ann'][0]}/audio"
    whole = client.get(url, headers=people["ann"])
    assert whole.status_code == 200 and whole.data == dialogue
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.mimetype == "audio/wav"
    part = client.get(url, headers=people["ann"] | {"Range": "bytes=100-1099"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(dialogue)}"
    assert part.data == dialogue[100:1100]
    download = client.get(url + "?download=1", headers=people["sue"])
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert f"RE{1:032d}.wav" in download.headers["Content-Disposition"]
    assert access_log(app) == [
        ("ann", "play", None),
        ("ann", "play", "bytes=100-1099"),
        ("sue", "download", None),
    ]
    log = client.get(f"/api/recordings/{recordings['ann'][0]}/access", headers=people["sue"])
    assert [(a["username"], a["action"]) for a in log.get_json()["access"]] == [
        ("ann", "play"),
        ("ann", "play"),
        ("sue", "download"),
    ]
    assert (
        client.get(
            f"/api/recordings/{recordings['ann'][0]}/access", headers=people["ann"]
        ).status_code
        == 403
    )


def test_audio_that_is_not_here_says_why(center, clock):
    app, client, people, recordings = center
    rid = recordings["ann"][0]
    with app.extensions["ivr"].db.transaction() as session:
        recording = session.get(Recording, rid)
        recording.audio_status = "deleted"
    gone = client.get(f"/api/recordings/{rid}/audio", headers=people["sue"])
    assert gone.status_code == 410 and "deleted" in gone.get_json()["reason"]
    with app.extensions["ivr"].db.transaction() as session:
        session.get(Recording, rid).audio_status = "pending"
    assert client.get(f"/api/recordings/{rid}/audio", headers=people["sue"]).status_code == 409
    assert client.get("/api/recordings/999/audio", headers=people["sue"]).status_code == 404
    assert access_log(app) == []


def test_search_through_the_api_finds_the_segment_and_its_offset(
    center, dialogue_transcript, clock
):
    _, client, people, recordings = center
    segment = max(dialogue_transcript.segments, key=lambda s: len(s.words))
    word = max((w.word for w in segment.words), key=len)
    hits = client.get(f"/api/recordings/search?q={word}", headers=people["sue"]).get_json()["hits"]
    assert {hit["recording_id"] for hit in hits} == {recordings["ann"][0], recordings["ben"][0]}
    assert any(
        hit["segment"]["start_seconds"] == segment.start
        and hit["segment"]["speaker"] == segment.speaker
        for hit in hits
    )
    own = client.get(f"/api/recordings/search?q={word}", headers=people["ben"]).get_json()["hits"]
    assert {hit["recording_id"] for hit in own} == {recordings["ben"][0]}
    tomorrow = (clock.now() + timedelta(days=1)).date().isoformat()
    later = client.get(f"/api/recordings/search?q={word}&from={tomorrow}", headers=people["sue"])
    assert later.get_json()["hits"] == []
    by_agent = client.get(
        f"/api/recordings/search?q={word}&agent={recordings['ann'][2]}&outcome=answered",
        headers=people["sue"],
    )
    assert {hit["recording_id"] for hit in by_agent.get_json()["hits"]} == {recordings["ann"][0]}
    bad = client.get("/api/recordings/search?q=", headers=people["sue"])
    assert bad.status_code == 400 and "at least one word" in bad.get_json()["reason"]
    assert (
        client.get("/api/recordings/search?q=x&from=someday", headers=people["sue"]).status_code
        == 400
    )


def test_an_agent_pauses_and_resumes_the_recording_of_their_call(center, carrier_double, clock):
    app, client, people, recordings = center
    _, call_id, agent_id = recordings["ann"]
    url = f"/api/calls/{call_id}/recording"
    assert client.post(url, json={"status": "paused"}, headers=people["ann"]).status_code == 409
    with app.extensions["ivr"].db.transaction() as session:
        from ivr.calls.models import Call

        call = session.get(Call, call_id)
        entry = queue.enqueue(
            session, call=call, skills={"billing": 1}, priority=0, reasons=[], now=clock.now()
        )
        entry.status = "connected"
        session.add(
            Reservation(
                entry_id=entry.id,
                agent_id=agent_id,
                call_id=call_id,
                status="connected",
                created_at=clock.now(),
                answered_at=clock.now(),
            )
        )
    assert client.post(url, json={"status": "paused"}, headers=people["ben"]).status_code == 403
    assert client.post(url, json={"status": "stop"}, headers=people["ann"]).status_code == 400
    paused = client.post(url, json={"status": "paused"}, headers=people["ann"])
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    clock.advance(20)
    resumed = client.post(url, json={"status": "in-progress"}, headers=people["sue"])
    assert resumed.status_code == 200
    assert carrier_double.updates == [(f"CA{1:032d}", "paused"), (f"CA{1:032d}", "in-progress")]
    with app.extensions["ivr"].db.transaction() as session:
        rows = session.scalars(
            select(CallEvent).where(
                CallEvent.kind.in_(("recording.paused", "recording.resumed")),
                CallEvent.call_id == call_id,
            )
        )
        assert [(e.kind, e.data["by"], e.agent_id) for e in rows] == [
            ("recording.paused", "ann", agent_id),
            ("recording.resumed", "sue", agent_id),
        ]
