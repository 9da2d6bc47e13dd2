"""What each web process of `ivr serve` starts beside its app (`start_background`) and stops
with it, and the server's defaults. The server itself (gunicorn) is `ivr.webserver`, kept
apart so that the other `ivr` commands, which read these defaults for their options, do not
import gunicorn."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ivr.runtime import Runtime

WORKERS = 1
# Every open console holds one thread for its live stream (server-sent events) as long as it
# is open, so a worker's threads must outnumber its open consoles plus the carrier's webhooks
# at once; a webhook finding every thread taken waits for one.
THREADS = 64
# A live stream never finishes on its own, so a stopping worker waits this long for its
# requests in flight (gunicorn's default, 30 s, would hold every stop), then stops its
# background parts; the master kills a worker still running STOP_MARGIN_SECONDS after that.
STOP_SECONDS = 3
STOP_MARGIN_SECONDS = 10


def start_background(runtime: Runtime) -> None:
    """Start what runs beside the webhooks in this process, once its app is built: the waiting
    callers re-keyed to this process's aging setting, the timers when the web processes run
    them (IVR_SCHEDULER=embedded; with several processes the leader lock makes one lead, the
    others stand by), the router, and the relay that brings other processes' call events to
    this one's live screens (on PostgreSQL by LISTEN, on SQLite by reading the log).
    `runtime.stop()` stops them."""
    from ivr.dispatcher import Dispatcher
    from ivr.routing.queue import rekey

    runtime.db.run(lambda session: rekey(session, policy=runtime.policy))
    if runtime.settings.scheduler == "embedded":
        from ivr.jobs import Timers

        runtime.timers = Timers(runtime)
        runtime.timers.start()
    runtime.dispatcher = Dispatcher(runtime)
    runtime.dispatcher.start()
    if runtime.db.is_sqlite:
        from ivr.eventfollower import EventFollower

        runtime.relay = EventFollower(runtime.db, runtime.bus)
    else:
        from ivr.eventrelay import EventRelay

        runtime.relay = EventRelay(runtime.db, runtime.bus)
    runtime.relay.start()


def stop_background(runtime: Runtime) -> None:
    """Stop what `start_background` started (`runtime.stop()`), then end the live streams
    still open, whose threads would otherwise keep the process from exiting."""
    from ivr.console.live import end_streams

    runtime.stop()
    end_streams(runtime)
