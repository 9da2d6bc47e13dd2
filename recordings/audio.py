"""What a downloaded recording is: its format, and whether a WAV file is whole (its header
agrees with the samples that follow) before the carrier's copy may go."""

from __future__ import annotations

import io
import struct
import wave

from recordings.transcribe import AudioUnreadable


def media_of(data: bytes) -> tuple[str, str]:
    """(extension, media type) from the first bytes."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav", "audio/wav"
    if data[:3] == b"ID3" or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "mp3", "audio/mpeg"
    return "bin", "application/octet-stream"


def check(data: bytes) -> float | None:
    """The length in seconds of a whole WAV file; None for other formats (checked when they
    are decoded). AudioUnreadable when the file is damaged."""
    extension, _ = media_of(data)
    if extension == "mp3":
        return None
    if extension != "wav":
        raise AudioUnreadable(f"not a WAV or MP3 file (it starts with {data[:8]!r})")
    try:
        with wave.open(io.BytesIO(data), "rb") as audio:
            frames, rate = audio.getnframes(), audio.getframerate()
            width, channels = audio.getsampwidth(), audio.getnchannels()
            samples = audio.readframes(frames)
    except (wave.Error, EOFError, struct.error) as exc:
        raise AudioUnreadable(f"the WAV file is damaged: {exc}") from None
    expected = frames * width * channels
    if len(samples) != expected or rate <= 0:
        raise AudioUnreadable(
            f"the WAV file is cut short: its header promises {expected} bytes of samples, "
            f"it has {len(samples)}"
        )
    return frames / rate
