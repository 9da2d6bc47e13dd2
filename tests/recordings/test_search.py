"""Search over transcripts decoded from real speech, on SQLite (FTS5) and PostgreSQL
(tsvector, 'simple'): hits carry the call, the segment and its time offset; filters by date,
agent, skill and outcome; the index follows the segments in their transaction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from ivr.routing import queue
from ivr.routing.agents import add_agent
from recordings import retention, search, service
from recordings.models import Recording
from recordings.search import Filters, SearchError
from recordings.storage import LocalStorage

from .conftest import new_call


def seed(db, clock, transcript, *, sid, call_sid, agent, skill, outcome, days_ago=0):
    """A call handled by `agent` for `skill`, its stored recording and its transcript."""
    started = clock.now() - timedelta(days=days_ago)
    call_id = new_call(db, started, sid=call_sid, outcome=outcome)
    with db.transaction() as session:
        from ivr.calls.models import Call
        from ivr.routing.models import Agent

        found = session.query(Agent).filter_by(name=agent).one_or_none()
        if found is None:
            found = add_agent(
                session, name=agent, endpoint=f"client:{agent}", skills={skill: 2}, now=started
            )
        call = session.get(Call, call_id)
        queue.enqueue(session, call=call, skills={skill: 1}, priority=0, reasons=[], now=started)
        recording = Recording(
            sid=sid,
            call_id=call_id,
            agent_id=found.id,
            kind="conversation",
            source_url="https://carrier.test/r",
            channels=2,
            started_at=started,
            created_at=started,
            audio_status="stored",
            storage_key=f"{started:%Y/%m/%d}/{sid}.wav",
            transcript_status="running",
        )
        session.add(recording)
        session.flush()
        service.store_transcript(
            session, recording_id=recording.id, transcript=transcript, now=started
        )
        return recording.id, found.id


def a_word_it_heard(transcript, speaker):
    """The longest word the recogniser heard from `speaker`, and its segment."""
    segments = [s for s in transcript.segments if s.speaker == speaker]
    word, segment = max(
        ((w.word, s) for s in segments for w in s.words), key=lambda pair: len(pair[0])
    )
    return word, segment


@pytest.fixture
def seeded(db, clock, dialogue_transcript):
    first = seed(
        db,
        clock,
        dialogue_transcript,
        sid="RE" + "1" * 32,
        call_sid="CA" + "1" * 32,
        agent="ann",
        skill="billing",
        outcome="answered",
    )
    second = seed(
        db,
        clock,
        dialogue_transcript,
        sid="RE" + "2" * 32,
        call_sid="CA" + "2" * 32,
        agent="ben",
        skill="technical",
        outcome="transferred",
        days_ago=3,
    )
    return first, second


def test_a_word_the_recogniser_heard_finds_its_segment_and_offset(db, seeded, dialogue_transcript):
    (first, ann), (second, ben) = seeded
    word, segment = a_word_it_heard(dialogue_transcript, "customer")
    with db.transaction() as session:
        hits = search.search(session, query=word)
    assert {hit.recording_id for hit in hits} == {first, second}
    newest = hits[0]
    assert (newest.recording_id, newest.agent, newest.outcome) == (first, "ann", "answered")
    assert newest.speaker == "customer"
    assert word in newest.text.split()
    assert newest.start_seconds == segment.start and newest.end_seconds == segment.end
    assert newest.as_json()["segment"]["start_seconds"] == segment.start


def test_every_word_of_the_query_must_be_in_the_segment(db, seeded, dialogue_transcript):
    customer_word, _ = a_word_it_heard(dialogue_transcript, "customer")
    agent_word, _ = a_word_it_heard(dialogue_transcript, "agent")
    with db.transaction() as session:
        both = search.search(session, query=f"{customer_word} {agent_word}")
        one = search.search(session, query=agent_word)
    assert customer_word == agent_word or both == []
    assert one and all(hit.speaker == "agent" for hit in one)


def test_a_prefix_finds_longer_words(db, seeded, dialogue_transcript):
    word, _ = a_word_it_heard(dialogue_transcript, "agent")
    with db.transaction() as session:
        hits = search.search(session, query=word[:-1] + "*") if len(word) > 1 else []
    assert len(word) == 1 or any(word in hit.text.split() for hit in hits)


def test_filters_narrow_the_hits(db, seeded, dialogue_transcript, clock):
    (first, ann), (second, ben) = seeded
    word, _ = a_word_it_heard(dialogue_transcript, "customer")

    def found(**filters):
        with db.transaction() as session:
            return {
                hit.recording_id
                for hit in search.search(session, query=word, filters=Filters(**filters))
            }

    assert found(agent_id=ann) == {first}
    assert found(agent_id=ben) == {second}
    assert found(skill="technical") == {second}
    assert found(skill="outage") == set()
    assert found(outcome="answered") == {first}
    assert found(since=clock.now() - timedelta(days=1)) == {first}
    assert found(until=clock.now() - timedelta(days=1)) == {second}
    assert found(agent_only=ann) == {first}


def test_a_query_without_words_is_refused(db):
    with db.transaction() as session:
        for query in ("", "   ", "*** --"):
            with pytest.raises(SearchError, match="at least one word"):
                search.search(session, query=query)
        with pytest.raises(SearchError, match="at most"):
            search.search(session, query=" ".join(["word"] * 20))


def test_search_syntax_typed_by_a_user_is_taken_as_words(db, seeded):
    with db.transaction() as session:
        assert search.search(session, query='"NEAR( OR AND -') == []


def test_the_index_follows_a_new_transcript_in_the_same_transaction(
    db, seeded, dialogue_transcript, clock
):
    (first, _), _ = seeded
    word, _ = a_word_it_heard(dialogue_transcript, "customer")
    with db.transaction() as session:
        before = {
            hit.segment_id
            for hit in search.search(session, query=word)
            if hit.recording_id == first
        }
        service.store_transcript(
            session, recording_id=first, transcript=dialogue_transcript, now=clock.now()
        )
        after = {
            hit.segment_id
            for hit in search.search(session, query=word)
            if hit.recording_id == first
        }
    assert before and after and before.isdisjoint(after)  # old segments gone from the index
    if db.is_sqlite:
        with db.transaction() as session:
            indexed = session.execute(text("SELECT count(*) FROM transcript_search")).scalar()
            segments = session.execute(text("SELECT count(*) FROM transcript_segments")).scalar()
        assert indexed == segments


def test_a_failed_transaction_leaves_no_index_entries(db, seeded, dialogue_transcript, clock):
    (first, _), _ = seeded
    word, _ = a_word_it_heard(dialogue_transcript, "customer")
    with pytest.raises(RuntimeError):
        with db.transaction() as session:
            service.store_transcript(
                session, recording_id=first, transcript=dialogue_transcript, now=clock.now()
            )
            raise RuntimeError("the transaction fails after the segments were written")
    with db.transaction() as session:
        hits = [hit for hit in search.search(session, query=word) if hit.recording_id == first]
        segment_ids = {s.id for s in session.get(Recording, first).segments}
    assert hits and {hit.segment_id for hit in hits} <= segment_ids


def test_retention_deletes_old_audio_and_keeps_the_transcript(
    db, seeded, clock, tmp_path, dialogue, dialogue_transcript
):
    (first, _), (second, _) = seeded
    storage = LocalStorage(tmp_path / "recordings")
    with db.transaction() as session:
        for rid in (first, second):
            recording = session.get(Recording, rid)
            storage.put(recording.storage_key, dialogue, media_type="audio/wav")
    with db.transaction() as session:
        assert retention.expired(session, now=clock.now(), days=0) == []
        assert retention.expired(session, now=clock.now(), days=2) == [second]
    with db.transaction() as session:
        assert retention.delete_audio(
            session, recording_id=second, storage=storage, now=clock.now(), days=2
        )
    with db.transaction() as session:
        old = session.get(Recording, second)
        assert (old.audio_status, old.audio_deleted_at) == ("deleted", clock.now())
        assert storage.local_path(old.storage_key) is None
        assert old.segments  # kept
        from ivr.calls.models import CallEvent

        event = session.query(CallEvent).filter_by(kind="recording.audio_deleted").one()
        assert event.call_id == old.call_id
        assert event.data["retention_days"] == 2 and event.data["transcript_deleted"] is False
        assert storage.local_path(session.get(Recording, first).storage_key) is not None
    word, _ = a_word_it_heard(dialogue_transcript, "customer")
    with db.transaction() as session:
        assert second in {hit.recording_id for hit in search.search(session, query=word)}


def test_retention_can_take_the_transcript_too(db, seeded, clock, tmp_path, dialogue_transcript):
    _, (second, _) = seeded
    storage = LocalStorage(tmp_path / "recordings")
    with db.transaction() as session:
        assert retention.delete_audio(
            session,
            recording_id=second,
            storage=storage,
            now=clock.now(),
            days=2,
            keep_transcripts=False,
        )
    word, _ = a_word_it_heard(dialogue_transcript, "customer")
    with db.transaction() as session:
        assert session.get(Recording, second).segments == []
        assert second not in {hit.recording_id for hit in search.search(session, query=word)}
        # Done once: a second run finds nothing to delete.
        assert not retention.delete_audio(
            session, recording_id=second, storage=storage, now=clock.now(), days=2
        )


def test_ivr_recordings_search_prints_the_call_and_the_offset(
    db, seeded, dialogue_transcript, database_url, tmp_path, monkeypatch
):
    from click.testing import CliRunner

    from ivr.cli import cli

    (first, _), (second, _) = seeded
    word, segment = a_word_it_heard(dialogue_transcript, "customer")
    monkeypatch.setenv("IVR_DATABASE_URL", database_url)
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("IVR_BUSINESS_HOURS", "always")
    result = CliRunner().invoke(cli, ["recordings", "search", word, "--agent", "ben"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines and all(f"recording {second} at " in line for line in lines)
    minutes, seconds = divmod(segment.start, 60)
    assert any(f"at {int(minutes):02d}:{seconds:05.2f} customer: " in line for line in lines)
    nobody = CliRunner().invoke(cli, ["recordings", "search", word, "--agent", "nobody"])
    assert nobody.exit_code == 1 and "no agent named 'nobody'" in nobody.output
    empty = CliRunner().invoke(cli, ["recordings", "search", "--"])
    assert empty.exit_code == 2  # WORDS are required
