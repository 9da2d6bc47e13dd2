"""`ivr transcribe FILE` and `ivr recordings ...`: the same transcription, search and ingest
code the service runs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import click

from ivr.cli.context import CliContext, pass_cli


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:05.2f}"


@click.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--kind",
    type=click.Choice(["conversation", "voicemail"]),
    default="conversation",
    show_default=True,
    help="A dual-channel conversation is the caller on channel 1 and the agent on channel 2.",
)
@click.option("--json", "as_json", is_flag=True, help="Segments and words as JSON.")
@pass_cli
def transcribe(cli: CliContext, file: Path, kind: str, as_json: bool) -> None:
    """Print the transcript of an audio FILE (WAV; other formats through ffmpeg)."""
    from recordings.transcribe import (
        NO_MODEL,
        AudioUnreadable,
        ModelError,
        Transcriber,
        find_model,
        speakers_for,
        split_channels,
    )

    settings = cli.settings()
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise click.ClickException(f"{file}: {exc.strerror or exc}") from None
    try:
        channels, _ = split_channels(data)
    except AudioUnreadable as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    try:
        model = find_model(settings.vosk_model)
    except ModelError as exc:
        raise click.ClickException(f"IVR_VOSK_MODEL: {exc}") from None
    if model is None:
        raise click.ClickException(
            f"{NO_MODEL}: set IVR_VOSK_MODEL to a Vosk model folder (see README, Recordings)"
        )
    try:
        transcript = Transcriber(model).transcribe(
            data, speakers=speakers_for(kind, len(channels))
        )
    except (AudioUnreadable, ModelError) as exc:
        raise click.ClickException(f"{file}: {exc}") from None
    if as_json:
        click.echo(
            json.dumps(
                {
                    "file": str(file),
                    "seconds": round(transcript.seconds, 2),
                    "channels": transcript.channels,
                    "model": transcript.model,
                    "segments": [
                        {
                            "speaker": s.speaker,
                            "channel": s.channel,
                            "start": s.start,
                            "end": s.end,
                            "text": s.text,
                            "confidence": s.confidence,
                            "words": [[w.word, w.start, w.end, w.confidence] for w in s.words],
                        }
                        for s in transcript.segments
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(
        f"# {file}: {transcript.seconds:.1f} s, {transcript.channels} channel(s), "
        f"model {transcript.model}"
    )
    if not transcript.segments:
        click.echo("(no speech recognised)")
    for segment in transcript.segments:
        click.echo(
            f"[{_clock(segment.start)}-{_clock(segment.end)}] {segment.speaker:<8} "
            f"{segment.text}  ({segment.confidence:.2f})"
        )


@click.group()
def recordings() -> None:
    """Recordings: search transcripts, retry failed downloads."""


def _day(value: str | None, name: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"must be YYYY-MM-DD, not {value!r}", param_hint=name) from None


@recordings.command("search")
@click.argument("words", nargs=-1, required=True)
@click.option("--from", "since", default=None, help="Calls started on or after YYYY-MM-DD.")
@click.option("--to", "until", default=None, help="Calls started on or before YYYY-MM-DD.")
@click.option("--agent", default=None, help="An agent's name.")
@click.option("--skill", default=None, help="A skill the caller queued for.")
@click.option("--outcome", default=None, help="answered, voicemail, ...")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 500))
@pass_cli
def search_command(
    cli: CliContext,
    words: tuple[str, ...],
    since: str | None,
    until: str | None,
    agent: str | None,
    skill: str | None,
    outcome: str | None,
    limit: int,
) -> None:
    """Segments whose transcript has every one of WORDS (word* matches a prefix)."""
    from ivr.routing.agents import by_name
    from recordings.search import Filters, SearchError, search

    runtime = cli.runtime()
    tz = runtime.calendar.tz
    first, last = _day(since, "--from"), _day(until, "--to")
    with runtime.db.transaction() as session:
        agent_id = None
        if agent:
            found = by_name(session, agent)
            if found is None:
                raise click.ClickException(f"no agent named {agent!r}")
            agent_id = found.id
        filters = Filters(
            since=datetime.combine(first, time(0), tz).astimezone(UTC) if first else None,
            until=datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
            if last
            else None,
            agent_id=agent_id,
            skill=skill,
            outcome=outcome,
        )
        try:
            hits = search(session, query=" ".join(words), filters=filters, limit=limit)
        except SearchError as exc:
            raise click.ClickException(str(exc)) from None
    if not hits:
        click.echo("no segment matches")
    for hit in hits:
        started = hit.call_started_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        click.echo(
            f"call {hit.call_id} ({started}, {hit.agent or '-'}, {hit.outcome or '-'}) "
            f"recording {hit.recording_id} at {_clock(hit.start_seconds)} "
            f"{hit.speaker}: {hit.text}"
        )


@recordings.command("retry")
@click.argument("sid")
@pass_cli
def retry_command(cli: CliContext, sid: str) -> None:
    """Try again a download that was given up (the recording's RecordingSid)."""
    from sqlalchemy import select

    from recordings import service
    from recordings.models import Recording

    runtime = cli.runtime()
    with runtime.db.transaction() as session:
        recording = session.scalar(select(Recording).where(Recording.sid == sid))
        if recording is None:
            raise click.ClickException(f"no recording {sid}")
        try:
            service.retry(session, recording=recording, now=runtime.clock.now())
        except service.RecordingError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{sid}: queued; a running service (or `ivr worker`) downloads it within a minute")
