"""The offline carrier's recordings hold real speech: the caller on channel 1 (the parent
call), the agent on channel 2 (the child call), in turns; a paused span is silent (or cut out
with PauseBehavior=skip)."""

from __future__ import annotations

import io
import wave
from array import array

import pytest

from ivr.sim import audio

from .conftest import AGENT_LINE, CUSTOMER_LINE, DIALOGUE_SECONDS

SCRIPT = audio.Script(lines=((CUSTOMER_LINE,), (AGENT_LINE,)), first_channel=2)


def channels_of(data: bytes) -> tuple[int, list[array]]:
    with wave.open(io.BytesIO(data)) as wav:
        count, rate = wav.getnchannels(), wav.getframerate()
        samples = array("h", wav.readframes(wav.getnframes()))
    return rate, [samples[index::count] for index in range(count)]


def loudness(samples: array, rate: int, start: float, end: float) -> int:
    window = samples[int(start * rate) : int(end * rate)]
    return max((abs(value) for value in window), default=0)


def test_the_agent_speaks_first_on_channel_2_and_the_caller_answers_on_channel_1():
    said = audio.timeline(SCRIPT)
    assert [(channel, line) for channel, _, line in said] == [(2, AGENT_LINE), (1, CUSTOMER_LINE)]
    rate, (caller, agent) = channels_of(audio.recording_wav(DIALOGUE_SECONDS, 2, SCRIPT))
    (_, agent_at, _), (_, caller_at, _) = said
    agent_ends = agent_at + audio.speech_seconds(AGENT_LINE)
    caller_ends = caller_at + audio.speech_seconds(CUSTOMER_LINE)
    assert loudness(agent, rate, agent_at, agent_ends) > 1000
    assert loudness(caller, rate, agent_at, agent_ends) == 0
    assert loudness(caller, rate, caller_at, caller_ends) > 1000
    assert loudness(agent, rate, caller_at, caller_ends) == 0
    assert loudness(caller, rate, 0, agent_at) == 0  # silence before anyone speaks


def test_a_paused_span_is_silence():
    pause = (1.0, 3.0)
    rate, tracks = channels_of(audio.recording_wav(DIALOGUE_SECONDS, 2, SCRIPT, pauses=[pause]))
    for track in tracks:
        assert loudness(track, rate, *pause) == 0
        assert len(track) == round(DIALOGUE_SECONDS * rate)
    spoken = audio.recording_wav(DIALOGUE_SECONDS, 2, SCRIPT)
    _, unpaused = channels_of(spoken)
    assert loudness(unpaused[1], rate, *pause) > 1000  # the agent was speaking then


def test_a_pause_between_samples_silences_every_sample_it_touches():
    # The carrier's offsets are wall-clock readings, not sample boundaries.
    pause = (1.00009, 2.99991)  # 8000.72 and 23999.28 samples
    rate, tracks = channels_of(audio.recording_wav(DIALOGUE_SECONDS, 2, SCRIPT, pauses=[pause]))
    agent = tracks[1]
    assert max(abs(value) for value in agent[8000:24000]) == 0
    _, unpaused = channels_of(audio.recording_wav(DIALOGUE_SECONDS, 2, SCRIPT))
    assert max(abs(value) for value in unpaused[1][8000:24000]) > 1000


def test_a_skipped_pause_is_cut_out():
    pause = (1.0, 3.0)
    kept = DIALOGUE_SECONDS - 2.0  # the carrier's duration leaves the paused span out
    data = audio.recording_wav(kept, 2, SCRIPT, pauses=[pause], pause_behavior="skip")
    rate, tracks = channels_of(data)
    assert len(tracks[0]) == round(kept * rate)
    _, whole = channels_of(audio.recording_wav(DIALOGUE_SECONDS, 2, SCRIPT))
    assert tracks[1][:rate] == whole[1][:rate]  # before the pause: the same audio
    assert tracks[0][rate:] == whole[0][3 * rate : 3 * rate + len(tracks[0]) - rate]


def test_speech_is_synthesised_once_per_line():
    first = audio.speech(CUSTOMER_LINE)
    assert audio.speech(CUSTOMER_LINE) is first
    assert audio.voice_for(CUSTOMER_LINE) == "ko" and audio.voice_for("hello") == "en-us"


@pytest.mark.parametrize("seconds", [0.0, 0.4])
def test_a_recording_shorter_than_its_lines_is_cut_at_its_end(seconds):
    rate, tracks = channels_of(audio.recording_wav(seconds, 2, SCRIPT))
    assert all(len(track) == round(seconds * rate) for track in tracks)
