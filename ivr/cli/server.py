"""`ivr serve`: the service in one process with a threaded WSGI server."""

from __future__ import annotations

import gc
import os
import signal

import click

from ivr.cli.context import CliContext, pass_cli


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_cli
def serve(cli: CliContext, host: str, port: int) -> None:
    """Start the service (webhooks, API, consoles; the offline carrier in sim mode)."""
    from werkzeug.serving import make_server

    overrides = {}
    if not os.environ.get("IVR_PUBLIC_URL"):
        # Without a public URL the carrier (offline or a tunnel) reaches us where we listen.
        overrides["public_url"] = (
            f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        )
    app = cli.app(**overrides)
    settings = app.extensions["ivr"].settings
    runtime = app.extensions["ivr"]
    if settings.scheduler == "embedded":
        from ivr.jobs import Timers

        runtime.timers = Timers(runtime)
        runtime.timers.start()
    from ivr.dispatcher import Dispatcher
    from ivr.routing.queue import rekey

    runtime.db.run(lambda session: rekey(session, policy=runtime.policy))
    runtime.dispatcher = Dispatcher(runtime)
    runtime.dispatcher.start()
    server = make_server(host, port, app, threaded=True)
    # What start-up made (modules, the flow, SQLAlchemy's mappers and statement caches) lives
    # as long as the process: out of the collector's scans, its pauses stay short under load.
    gc.collect()
    gc.freeze()
    click.echo(
        f"ivr: serving on http://{host}:{port} (public URL {settings.public_url}, "
        f"telephony {settings.telephony}, flow {settings.flow})"
    )
    if settings.is_sim:
        click.echo("ivr: offline carrier ready; place a call from another terminal with: ivr call")
    # SIGTERM (docker stop, systemd, kill) stops as Ctrl-C does: the timers, the router and
    # the transcription processes end with the service instead of outliving it.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()  # returns on Ctrl-C and SIGTERM: werkzeug ends it quietly
    finally:
        click.echo("ivr: stopping")
        runtime.stop()
        server.server_close()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@click.command()
@pass_cli
def worker(cli: CliContext) -> None:
    """Run the timers (callbacks, deadlines, retention) for a service whose web processes run
    with IVR_SCHEDULER=off. Several workers may run: one leads, the others stand by."""
    import signal
    import threading

    from ivr.jobs import Timers

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
