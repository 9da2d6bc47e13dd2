"""Audio the offline carrier makes and reads: recordings as real WAV files of the right length
and channel count, with synthesised speech (espeak-ng, resampled by sox to the 8 kHz a
telephone recording has), and the length of a WAV file it is asked to play.

A dual-channel recording of a <Dial> has the parent call (the caller) on the first channel and
the child call (the agent) on the second, as Twilio documents; the parties take turns, agent
first. A paused span is silent (PauseBehavior=silence) or cut out (skip)."""

from __future__ import annotations

import io
import math
import shutil
import struct
import subprocess
import threading
import wave
from array import array
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

SAMPLE_RATE = 8000  # telephone audio, as Twilio records it
BYTES_PER_SAMPLE = 2
FIRST_WORDS_AT = 0.5  # seconds into the conversation before the first line
TURN_GAP = 0.6  # seconds between one party's line and the other's
CACHE_SIZE = 256


class SpeechUnavailable(RuntimeError):
    """espeak-ng or sox is missing: the offline carrier cannot make speech."""


def voice_for(text: str) -> str:
    """espeak-ng's voice for the text: Korean for Hangul, else English."""
    if any("\uac00" <= ch <= "\ud7a3" or "\u1100" <= ch <= "\u11ff" for ch in text):
        return "ko"
    return "en-us"


class _SpeechCache:
    """Synthesised lines by (voice, text), least recently used dropped first: a line is
    synthesised once however many recordings say it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str) -> bytes:
        key = (voice_for(text), text)
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        pcm = _synthesise(*key)
        with self._lock:
            self._items[key] = pcm
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return pcm


def _synthesise(voice: str, text: str) -> bytes:
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SpeechUnavailable(f"{tool} is not installed (the Makefile's system-deps)")
    speech = subprocess.run(
        ["espeak-ng", "-v", voice, "--stdout", text], capture_output=True, check=True, timeout=30
    ).stdout
    converted = subprocess.run(
        ["sox", "-t", "wav", "-", "-t", "raw", "-r", str(SAMPLE_RATE), "-e", "signed",
         "-b", "16", "-c", "1", "-"],
        input=speech, capture_output=True, check=True, timeout=30,
    )
    return converted.stdout


_cache = _SpeechCache(CACHE_SIZE)


def speech(text: str) -> bytes:
    """`text` spoken, as 8 kHz mono 16-bit little-endian PCM."""
    return _cache.get(text)


def speech_seconds(text: str) -> float:
    return len(speech(text)) / (SAMPLE_RATE * BYTES_PER_SAMPLE)


@dataclass(frozen=True)
class Script:
    """Who says what in a recording: lines per channel (channel 1 first), said in turns
    starting with `first_channel`, beginning `start` seconds into the recording."""

    lines: tuple[tuple[str, ...], ...]
    start: float = 0.0
    first_channel: int = 1


def timeline(script: Script) -> list[tuple[int, float, str]]:
    """(channel, offset in seconds, line) in the order they are said."""
    turns: list[tuple[int, str]] = []
    channels = len(script.lines)
    order = [(script.first_channel - 1 + i) % channels for i in range(channels)]
    longest = max((len(lines) for lines in script.lines), default=0)
    for index in range(longest):
        for channel in order:
            if index < len(script.lines[channel]):
                turns.append((channel + 1, script.lines[channel][index]))
    said = []
    cursor = script.start + (FIRST_WORDS_AT if channels > 1 else 0.0)
    for channel, line in turns:
        said.append((channel, round(cursor, 3), line))
        cursor += speech_seconds(line) + (TURN_GAP if channels > 1 else 0.2)
    return said


def recording_wav(
    seconds: float,
    channels: int = 1,
    script: Script | None = None,
    pauses: Sequence[tuple[float, float | None]] = (),
    pause_behavior: str = "silence",
) -> bytes:
    """A 16-bit PCM WAV of `seconds` at 8 kHz with `channels` (1 or 2): the script's lines
    at their turns, silence elsewhere and in the paused spans (or, with `skip`, the paused
    spans cut out: `seconds` is then the length without them)."""
    kept_seconds = seconds
    if pause_behavior == "skip":
        seconds += sum((end if end is not None else seconds) - start for start, end in pauses)
    total = max(0, round(seconds * SAMPLE_RATE))
    tracks = [bytearray(total * BYTES_PER_SAMPLE) for _ in range(channels)]
    if script is not None:
        for channel, offset, line in timeline(script):
            if channel > channels:
                continue
            _place(tracks[channel - 1], speech(line), offset)
    spans = [(start, end if end is not None else seconds) for start, end in pauses]
    for track in tracks:
        for start, end in spans:
            _silence(track, start, end)
    if pause_behavior == "skip" and spans:
        tracks = [_cut(track, spans) for track in tracks]
        total = round(kept_seconds * SAMPLE_RATE)
        tracks = [track[: total * BYTES_PER_SAMPLE] for track in tracks]
    return _wav(tracks)


def _byte(offset_seconds: float) -> int:
    return max(0, round(offset_seconds * SAMPLE_RATE)) * BYTES_PER_SAMPLE


def _place(track: bytearray, pcm: bytes, offset: float) -> None:
    start = _byte(offset)
    room = len(track) - start
    if room <= 0:
        return
    track[start : start + min(room, len(pcm))] = pcm[:room]


def _silence(track: bytearray, start: float, end: float) -> None:
    # Every sample the paused span touches is silent: rounding either edge inwards would let
    # a sample of what was said while paused through.
    first = max(0, math.floor(start * SAMPLE_RATE)) * BYTES_PER_SAMPLE
    last = min(len(track), math.ceil(end * SAMPLE_RATE) * BYTES_PER_SAMPLE)
    if last > first:
        track[first:last] = bytes(last - first)


def _cut(track: bytearray, spans: list[tuple[float, float]]) -> bytearray:
    kept = bytearray()
    position = 0
    for start, end in sorted(spans):
        kept += track[position : _byte(start)]
        position = max(position, _byte(end))
    kept += track[position:]
    return kept


def _wav(tracks: list[bytearray]) -> bytes:
    channels = len(tracks)
    if channels == 1:
        frames = bytes(tracks[0])
    else:
        interleaved = array("h", bytes(len(tracks[0]) * channels))
        for index, track in enumerate(tracks):
            interleaved[index::channels] = array("h", bytes(track))
        frames = interleaved.tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(BYTES_PER_SAMPLE)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(frames)
    return buffer.getvalue()


def wav_seconds(data: bytes) -> float | None:
    """The length of a WAV file, or None if `data` is not one."""
    try:
        with wave.open(io.BytesIO(data), "rb") as audio:
            rate = audio.getframerate()
            return audio.getnframes() / rate if rate else None
    except (wave.Error, EOFError, struct.error):
        return None
