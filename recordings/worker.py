"""The recording worker of one process: downloads (off the webhook's request, on a small
thread pool, retried with backoff) and transcriptions (in worker processes). Every step's
state is in the database first, so a recording whose work is pending when the process stops
is picked up again by `sweep` (run at start-up and every minute by the timers).

The carrier and the storage are only called outside a transaction."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from recordings import audio, service
from recordings.storage import Storage, StorageError, key_for, sha256
from recordings.transcribe import (
    NO_MODEL,
    AudioUnreadable,
    ModelError,
    TranscriptionPool,
    find_model,
    speakers_for,
)

log = logging.getLogger(__name__)


class Clock(Protocol):
    def now(self) -> datetime: ...


class Carrier(Protocol):
    def fetch_recording(self, recording_url: str, *, media_format: str = "wav") -> bytes: ...

    def delete_recording(self, recording_sid: str) -> None: ...


class Transcribing(Protocol):
    def transcribe(self, data: bytes, *, speakers: Any) -> Any: ...


class RecordingWorker:
    def __init__(
        self,
        *,
        transaction: Callable[[], AbstractContextManager[Session]],
        clock: Clock,
        telephony: Carrier,
        storage: Storage,
        model_setting: str = "",
        transcription_workers: int = 0,
        transcriber: Transcribing | None = None,
        delete_at_carrier: bool = False,
        retry_seconds: float = 30.0,
        threads: int = 4,
    ) -> None:
        self.transaction = transaction
        self.clock = clock
        self.telephony = telephony
        self.storage = storage
        self.model_setting = model_setting
        self.transcription_workers = transcription_workers
        self.delete_at_carrier = delete_at_carrier
        self.retry_seconds = retry_seconds
        self.threads = threads
        self._transcriber = transcriber
        self._owns_transcriber = False
        self._model_checked = transcriber is not None
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._timers: set[threading.Timer] = set()
        self._stopped = False

    # -- queueing -------------------------------------------------------------------------

    def submit(self, recording_id: int) -> Future[None] | None:
        """Download (if due) and transcribe the recording, on the worker's threads."""
        with self._lock:
            if self._stopped:
                return None
            if self._executor is None:
                self._executor = ThreadPoolExecutor(self.threads, thread_name_prefix="recordings")
            return self._executor.submit(self._guarded, recording_id)

    def _guarded(self, recording_id: int) -> None:
        try:
            self.process(recording_id)
        except Exception:  # the worker must outlive one bad recording; the sweep retries it
            log.exception("recording %s: processing failed", recording_id)

    def sweep(self) -> list[int]:
        """Queue every recording with work left: downloads due, transcripts missing. Returns
        the ids queued."""
        now = self.clock.now()
        # Without a model, those already marked no-model wait until one is configured.
        # (Asked before the transaction: finding the model may load it.)
        with_model = self._available_transcriber() is not None
        with self.transaction() as session:
            downloads = service.due_downloads(session, now=now)
            transcripts = service.waiting_transcriptions(
                session, now=now, include_no_model=with_model
            )
        queued = sorted(set(downloads) | set(transcripts))
        for recording_id in queued:
            self.submit(recording_id)
        return queued

    def _retry_later(self, recording_id: int, when: datetime) -> None:
        delay = max(0.0, (when - self.clock.now()).total_seconds())
        timer = threading.Timer(delay, self._retry_now, args=(recording_id,))
        timer.daemon = True
        with self._lock:
            if self._stopped:
                return
            self._timers.add(timer)
        timer.start()

    def _retry_now(self, recording_id: int) -> None:
        with self._lock:
            self._timers = {
                t for t in self._timers if t.is_alive() and t is not threading.current_thread()
            }
        self.submit(recording_id)

    # -- the work -------------------------------------------------------------------------

    def process(self, recording_id: int) -> None:
        """Download the recording if that is still to do, then transcribe it."""
        self.download(recording_id)
        self.transcribe(recording_id)

    def download(self, recording_id: int) -> bool:
        """One download attempt; True when the audio is stored by this call."""
        now = self.clock.now()
        with self.transaction() as session:
            job = service.claim_download(session, recording_id=recording_id, now=now)
        if job is None:
            return False
        try:
            data = self.telephony.fetch_recording(job.url)
            extension, media_type = audio.media_of(data)
            key = key_for(job.sid, job.started_at, extension)
            checksum = sha256(data)
            self.storage.put(key, data, media_type=media_type)
            # Read back: the stored copy must be the very bytes downloaded.
            stored = self.storage.get(key)
            if len(stored) != len(data) or sha256(stored) != checksum:
                raise StorageError(f"the stored copy of {job.sid} differs from the download")
        except Exception as exc:  # every failure of an attempt is counted, then retried
            self._attempt_failed(job, exc)
            return False
        problem = None
        try:
            audio.check(data)
        except AudioUnreadable as exc:
            problem = f"{exc}; the carrier's copy is kept"
        with self.transaction() as session:
            service.audio_stored(
                session,
                recording_id=job.recording_id,
                key=key,
                size=len(data),
                checksum=checksum,
                media_type=media_type,
                now=self.clock.now(),
                problem=problem,
            )
        log.info("recording %s stored at %s (%d bytes)", job.sid, key, len(data))
        if self.delete_at_carrier and problem is None:
            self._delete_at_carrier(job)
        return True

    def _attempt_failed(self, job: service.Download, exc: Exception) -> None:
        error = str(exc) or type(exc).__name__
        log.warning("recording %s: download attempt %d failed: %s", job.sid, job.attempt, exc)
        with self.transaction() as session:
            again = service.download_failed(
                session,
                recording_id=job.recording_id,
                error=error,
                now=self.clock.now(),
                retry_seconds=self.retry_seconds,
            )
        if again is not None:
            self._retry_later(job.recording_id, again)
        else:
            log.error("recording %s: download given up: %s", job.sid, error)

    def _delete_at_carrier(self, job: service.Download) -> None:
        try:
            self.telephony.delete_recording(job.sid)
        except Exception as exc:  # our copy is safe; the carrier's stays a while longer
            log.warning("recording %s: the carrier's copy was not deleted: %s", job.sid, exc)
            return
        with self.transaction() as session:
            service.carrier_copy_deleted(
                session, recording_id=job.recording_id, now=self.clock.now()
            )

    def transcribe(self, recording_id: int) -> bool:
        """Transcribe stored audio; True when a transcript was stored."""
        now = self.clock.now()
        with self.transaction() as session:
            job = service.claim_transcription(session, recording_id=recording_id, now=now)
        if job is None:
            return False
        try:
            transcriber = self.transcriber()
        except ModelError as exc:
            self._unavailable(job, "no-model", f"{NO_MODEL}: {exc}")
            return False
        if transcriber is None:
            self._unavailable(job, "no-model", f"{NO_MODEL} (set IVR_VOSK_MODEL)")
            return False
        try:
            data = self.storage.get(job.storage_key)
            transcript = transcriber.transcribe(data, speakers=speakers_for(job.kind, job.channels))
        except AudioUnreadable as exc:
            self._unavailable(job, "failed", str(exc))
            return False
        except Exception as exc:  # a broken pool, a storage failure: the sweep tries again
            log.exception("recording %s: transcription failed", job.sid)
            if isinstance(exc, BrokenExecutor):
                self._drop_transcriber()  # a worker process died: start new ones next time
            self._unavailable(job, "pending", f"transcription failed, will be retried: {exc}")
            return False
        with self.transaction() as session:
            service.store_transcript(
                session, recording_id=job.recording_id, transcript=transcript, now=self.clock.now()
            )
        log.info("recording %s transcribed: %d segments", job.sid, len(transcript.segments))
        return True

    def _unavailable(self, job: service.TranscriptionJob, status: str, reason: str) -> None:
        with self.transaction() as session:
            service.transcription_unavailable(
                session,
                recording_id=job.recording_id,
                status=status,
                reason=reason,
                now=self.clock.now(),
            )

    # -- the model ------------------------------------------------------------------------

    def _available_transcriber(self) -> Transcribing | None:
        try:
            return self.transcriber()
        except ModelError:
            return None

    def use_transcriber(self, transcriber: Transcribing) -> None:
        """Transcribe with this one (a model already loaded) instead of worker processes."""
        with self._lock:
            self._transcriber = transcriber
            self._owns_transcriber = False
            self._model_checked = True

    def transcriber(self) -> Transcribing | None:
        """The worker processes, started on first use; None without a model."""
        with self._lock:
            if self._transcriber is None and not self._model_checked:
                path = find_model(self.model_setting)
                self._model_checked = True
                if path is not None:
                    self._transcriber = TranscriptionPool(path, workers=self.transcription_workers)
                    self._owns_transcriber = True
            return self._transcriber

    def _drop_transcriber(self) -> None:
        with self._lock:
            if not self._owns_transcriber:
                return
            broken, self._transcriber = self._transcriber, None
            self._model_checked = self._owns_transcriber = False
        if broken is not None:
            broken.close()  # type: ignore[attr-defined]

    def shutdown(self, *, wait: bool = True) -> None:
        with self._lock:
            self._stopped = True
            timers, self._timers = self._timers, set()
            executor, self._executor = self._executor, None
        for timer in timers:
            timer.cancel()
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=not wait)
        if self._owns_transcriber and self._transcriber is not None:
            self._transcriber.close()  # type: ignore[attr-defined]
