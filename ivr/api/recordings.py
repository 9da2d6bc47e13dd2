"""The recordings API: recordings and their transcripts, search, playback with range requests
(every playback or download goes to the audit log), and pausing a call's recording while the
caller gives card details. Agents see and hear only their own calls; supervisors all."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, send_file
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr import events
from ivr.api.auth import require, supervising, user
from ivr.calls.models import Call
from ivr.routing import reservations
from ivr.runtime import current
from ivr.telephony import TelephonyError
from recordings import search as transcript_search
from recordings.models import Recording, RecordingAccess
from recordings.storage import AudioMissing, StorageError

bp = Blueprint("recordings_api", __name__, url_prefix="/api")
RECORDING_CONTROLS = {"paused": "recording.paused", "in-progress": "recording.resumed"}


def recording_or_404(session: Session, recording_id: int) -> Recording:
    recording = session.get(Recording, recording_id)
    if recording is None:
        abort(404, description=f"no recording {recording_id}")
    return recording


def may_hear(recording: Recording) -> None:
    """Supervisors and admins hear every recording; an agent only those of their calls."""
    if supervising():
        return
    if user().agent_id is None or recording.agent_id != user().agent_id:
        abort(403, description="agents hear only the recordings of their own calls")


def recording_view(recording: Recording, *, transcript: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": recording.id,
        "sid": recording.sid,
        "call_id": recording.call_id,
        "agent_id": recording.agent_id,
        "kind": recording.kind,
        "channels": recording.channels,
        "duration_seconds": recording.duration_seconds,
        "started_at": recording.started_at.isoformat(),
        "audio_status": recording.audio_status,
        "transcript_status": recording.transcript_status,
        "error": recording.error,
        "size_bytes": recording.size_bytes,
        "sha256": recording.sha256,
        "media_type": recording.media_type,
        "speech_model": recording.speech_model,
        "audio_url": f"/api/recordings/{recording.id}/audio"
        if recording.audio_status == "stored"
        else None,
    }
    if transcript:
        view["segments"] = [
            {
                "id": segment.id,
                "speaker": segment.speaker,
                "channel": segment.channel,
                "start_seconds": segment.start_seconds,
                "end_seconds": segment.end_seconds,
                "text": segment.text,
                "confidence": segment.confidence,
                "words": segment.words,
            }
            for segment in recording.segments
        ]
    return view


def _day(raw: str | None, name: str) -> date | None:
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name} must be YYYY-MM-DD, not {raw!r}")


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        abort(400, description=f"{name} must be a number, not {raw!r}")
    return int(raw)


@bp.get("/recordings")
@require()
def list_recordings() -> Response:
    """Recordings of a call (call_id) or of a day (date, default today); newest first."""
    rt = current()
    query = select(Recording)
    call_id = _int_arg("call_id")
    if call_id is not None:
        query = query.where(Recording.call_id == call_id)
    else:
        day = _day(request.args.get("date"), "date") or datetime.now(rt.calendar.tz).date()
        start = datetime.combine(day, time(0), rt.calendar.tz)
        query = query.where(
            Recording.started_at >= start, Recording.started_at < start + timedelta(days=1)
        )
    if not supervising():
        if user().agent_id is None:
            abort(403, description="agents hear only the recordings of their own calls")
        query = query.where(Recording.agent_id == user().agent_id)
    with rt.db.transaction() as session:
        found = session.scalars(query.order_by(Recording.started_at.desc()).limit(500))
        return jsonify(recordings=[recording_view(r, transcript=False) for r in found])


@bp.get("/recordings/<int:recording_id>")
@require()
def recording_detail(recording_id: int) -> Response:
    """One recording with its state and its transcript (segments with word timings)."""
    rt = current()
    with rt.db.transaction() as session:
        recording = recording_or_404(session, recording_id)
        may_hear(recording)
        return jsonify(recording_view(recording, transcript=True))


@bp.get("/recordings/<int:recording_id>/audio")
@require()
def recording_audio(recording_id: int) -> Response:
    """The audio, with HTTP range requests for the player; `?download=1` for a file. Each
    request is written to the audit log before a byte is sent."""
    rt = current()
    download = request.args.get("download") in ("1", "true")
    with rt.db.transaction() as session:
        recording = recording_or_404(session, recording_id)
        may_hear(recording)
        if recording.audio_status != "stored" or not recording.storage_key:
            abort(
                409 if recording.audio_status != "deleted" else 410,
                description=f"recording {recording.sid} has no audio here "
                f"({recording.audio_status}{': ' + recording.error if recording.error else ''})",
            )
        session.add(
            RecordingAccess(
                recording_id=recording.id,
                user_id=user().id,
                username=user().username,
                at=rt.clock.now(),
                action="download" if download else "play",
                byte_range=(request.headers.get("Range") or "")[:100] or None,
            )
        )
        key, sha = recording.storage_key, recording.sha256
        media_type = recording.media_type or "application/octet-stream"
        stored_at = recording.stored_at
        name = f"{recording.sid}.{key.rsplit('.', 1)[-1]}"
    storage = rt.recordings.storage
    source: Any = storage.local_path(key)
    try:
        if source is None:
            source = io.BytesIO(storage.get(key))
    except AudioMissing as exc:
        abort(410, description=str(exc))
    except StorageError as exc:
        abort(502, description=str(exc))
    response = send_file(
        source,
        mimetype=media_type,
        as_attachment=download,
        download_name=name,
        conditional=True,
        etag=sha or True,
        last_modified=stored_at,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/recordings/<int:recording_id>/access")
@require("supervisor", "admin")
def recording_access(recording_id: int) -> Response:
    """The audit log of one recording: who played or downloaded it, when."""
    rt = current()
    with rt.db.transaction() as session:
        recording_or_404(session, recording_id)
        rows = session.scalars(
            select(RecordingAccess)
            .where(RecordingAccess.recording_id == recording_id)
            .order_by(RecordingAccess.id)
        )
        return jsonify(
            access=[
                {
                    "user_id": row.user_id,
                    "username": row.username,
                    "at": row.at.isoformat(),
                    "action": row.action,
                    "range": row.byte_range,
                }
                for row in rows
            ]
        )


@bp.get("/recordings/search")
@require()
def search_transcripts() -> Response:
    """Segments containing every word of `q`, with their call and time offset; filters:
    from/to (YYYY-MM-DD, calls started), agent (id), skill, outcome."""
    rt = current()
    tz = rt.calendar.tz
    since, until = _day(request.args.get("from"), "from"), _day(request.args.get("to"), "to")
    filters = transcript_search.Filters(
        since=datetime.combine(since, time(0), tz).astimezone(UTC) if since else None,
        until=datetime.combine(until + timedelta(days=1), time(0), tz).astimezone(UTC)
        if until
        else None,
        agent_id=_int_arg("agent"),
        skill=request.args.get("skill") or None,
        outcome=request.args.get("outcome") or None,
        agent_only=None if supervising() else _own_agent(),
    )
    limit = _int_arg("limit") or 50
    with rt.db.transaction() as session:
        try:
            hits = transcript_search.search(
                session, query=request.args.get("q", ""), filters=filters, limit=limit
            )
        except transcript_search.SearchError as exc:
            abort(400, description=str(exc))
        return jsonify(hits=[hit.as_json() for hit in hits])


def _own_agent() -> int:
    if user().agent_id is None:
        abort(403, description="agents search only the recordings of their own calls")
    return user().agent_id


@bp.post("/calls/<int:call_id>/recording")
@require()
def control_recording(call_id: int) -> Response:
    """Pause the call's recording (while the caller gives card details) or resume it. The
    paused span is silence in the recording; the pause and the resume are call events."""
    data = request.get_json(silent=True)
    status = data.get("status") if isinstance(data, dict) else None
    if status not in RECORDING_CONTROLS:
        abort(400, description="send {\"status\": \"paused\"} or {\"status\": \"in-progress\"}")
    rt = current()
    with rt.db.transaction() as session:
        call = session.get(Call, call_id)
        if call is None:
            abort(404, description=f"no call {call_id}")
        reservation = reservations.active_for_call(session, call_id=call_id)
        if reservation is None or reservation.status != "connected":
            abort(409, description=f"call {call_id} is not connected to an agent now")
        if not supervising() and reservation.agent_id != user().agent_id:
            abort(403, description="only the agent on the call (or a supervisor) may do this")
        call_sid, agent_id = call.sid, reservation.agent_id
    try:
        recording_sid = rt.telephony.update_recording(call_sid, status)
    except TelephonyError as exc:
        code = 409 if exc.status in (400, 404) else 502
        abort(code, description=f"the carrier did not change the recording: {exc}")
    with rt.db.transaction() as session:
        event = events.record(
            session,
            RECORDING_CONTROLS[status],
            at=rt.clock.now(),
            call_id=call_id,
            agent_id=agent_id,
            recording_sid=recording_sid,
            by=user().username,
        )
        session.flush()
        at = event.at.isoformat()
    return jsonify(call_id=call_id, recording_sid=recording_sid, status=status, at=at)
