"""`ivr serve`: the service on gunicorn's threaded workers; `ivr worker`: the timers alone."""

from __future__ import annotations

import os
from typing import Any

import click

from ivr import serving
from ivr.cli.context import CliContext, pass_cli
from ivr.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option(
    "--workers", default=serving.WORKERS, show_default=True, type=click.IntRange(min=1),
    help="Web processes, each routing and with its own transcription pool; more than one "
    "needs PostgreSQL (in sim mode the offline carrier then runs in a process of its own).",
)
@click.option(
    "--threads", default=serving.THREADS, show_default=True, type=click.IntRange(min=1),
    help="Threads per web process. Every open console holds one for its live stream, so this "
    "must exceed the consoles open plus the carrier's webhooks at once.",
)
@click.option("--access-log", is_flag=True,
              help="A line a request on stdout (off by default: it costs about as much CPU as "
              "a bare request; a proxy in front usually keeps that log).")
@pass_cli
def serve(cli: CliContext, host: str, port: int, workers: int, threads: int,
          access_log: bool) -> None:
    """Start the service (webhooks, API, consoles; the offline carrier in sim mode)."""
    overrides = {}
    if not os.environ.get("IVR_PUBLIC_URL"):
        # Without a public URL the carrier (offline or a tunnel) reaches us where we listen.
        overrides["public_url"] = (
            f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        )
    settings = cli.settings(**overrides)
    _refuse_several_workers(settings, workers)
    cli.check_flow()  # here, with one line, rather than in every worker as it boots
    cli.check_database()
    carrier = None
    if settings.is_sim and workers > 1:
        # The carrier keeps its calls in memory, so there is one, in a process of its own;
        # the workers' Twilio client talks to it, and their /sim forwards to it.
        from ivr.sim.standalone import CarrierProcess

        carrier = CarrierProcess(env=os.environ | {"IVR_PUBLIC_URL": settings.public_url})
        carrier.start()
        settings = cli.override(sim_url=carrier.url, sim_elsewhere=True)

    def build() -> Any:  # in each worker, after the fork
        app = cli.app()
        runtime = app.extensions["ivr"]
        try:
            serving.start_background(runtime)
        except BaseException:
            runtime.stop()
            raise
        return app

    def ready() -> None:
        click.echo(
            f"ivr: serving on http://{host}:{port} (public URL {settings.public_url}, "
            f"telephony {settings.telephony}, flow {settings.flow})"
        )
        if settings.is_sim:
            click.echo(
                "ivr: offline carrier ready; place a call from another terminal with: ivr call"
            )

    from ivr.webserver import WebServer

    # SIGTERM (docker stop, systemd, kill) stops as Ctrl-C does: in each worker the timers,
    # the router and the transcription processes end with the service instead of outliving it.
    try:
        WebServer(
            build, host=host, port=port, workers=workers, threads=threads,
            access_log=access_log, log_level=settings.log_level, ready=ready,
            exiting=lambda: click.echo("ivr: stopping"),
            stop=lambda app: serving.stop_background(app.extensions["ivr"]),
        ).run()
    finally:
        if carrier is not None:
            carrier.stop()


def _refuse_several_workers(settings: Settings, workers: int) -> None:
    if workers == 1:
        return
    if settings.is_sqlite:
        raise click.ClickException(
            f"--workers {workers} needs PostgreSQL (IVR_DATABASE_URL): SQLite has one writer, "
            "so more processes only wait for each other. Serve with --workers 1, and more "
            "--threads for more consoles."
        )


@click.command()
@pass_cli
def worker(cli: CliContext) -> None:
    """Run the timers (callbacks, deadlines, retention) for a service whose web processes run
    with IVR_SCHEDULER=off. Several workers may run: one leads, the others stand by."""
    import signal
    import threading

    from ivr.jobs import Timers

    cli.check_database()
    runtime = cli.runtime()
    timers = Timers(runtime)
    runtime.timers = timers
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    timers.start()
    click.echo("ivr worker: started; leading the timers or standing by for the leader")
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        timers.shutdown()
        click.echo("ivr worker: stopped")
