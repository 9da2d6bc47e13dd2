"""<Enqueue>: the call waits in a named queue, executing the waitUrl's TwiML and requesting it
again each time it runs out, until <Leave>, a REST redirect, a hang-up or an error takes it
out; then the action URL is requested with QueueResult and QueueTime."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from ivr.sim.callers import CallerScript
from ivr.sim.line import CallEnded, Redirected, Target
from ivr.sim.webhooks import ApplicationError

if TYPE_CHECKING:
    from ivr.sim.resources import CarrierQueue
    from ivr.sim.twiml import Document, Interpreter, Verb

HOLD_MUSIC_SECONDS = 30.0
MIN_LOOP_SECONDS = 1.0  # a wait document that takes no time is not re-requested in a spin


def enqueue(interp: Interpreter, verb: Verb, doc: Document) -> Target | None:
    name = verb.text
    if not name:
        raise ApplicationError(12200, "<Enqueue> needs a queue name", doc.url)
    action = doc.resolve(verb.attr("action")) if verb.attr("action") else None
    method = verb.attr("method", "POST")
    queue = interp.carrier.join_queue(name, interp.leg.sid)
    if queue is None:
        interp.line.emit("dequeued", queue=name, result="queue-full")
        return Target(action, method, {"QueueResult": "queue-full"}) if action else None

    entered = time.monotonic()
    interp.queue = queue
    interp.line.emit("enqueued", queue=name, position=queue.position(interp.leg.sid))
    party = interp.leg.party
    if isinstance(party, CallerScript) and party.patience is not None:
        interp.line.hang_up_after("patience", party.patience)
    try:
        _wait(interp, queue, verb, doc, entered)
        result = "leave"  # not reached: the wait loop only ends by an exception
    except _Left as left:
        result = left.result
    except Redirected:
        _notify(interp, action, method, _dequeue(interp, queue, entered, "redirected"))
        raise
    except CallEnded:
        params = _dequeue(interp, queue, entered, "hangup")
        _notify(interp, action, method, params | {"CallStatus": "completed"})
        raise
    except Exception:
        interp.carrier.leave_queue(queue, interp.leg.sid, 0.0)
        raise
    params = _dequeue(interp, queue, entered, result)
    return Target(action, method, params) if action else None


class _Left(Exception):
    def __init__(self, result: str) -> None:
        super().__init__(result)
        self.result = result


def _wait(interp: Interpreter, queue: CarrierQueue, verb: Verb, doc: Document,
          entered: float) -> None:
    from ivr.sim.twiml import LeftQueue

    wait_url = doc.resolve(verb.attr("waitUrl")) if verb.attr("waitUrl") else None
    home = Target(wait_url, verb.attr("waitUrlMethod", "POST")) if wait_url else None
    target = home
    while True:
        if target is None:
            interp.line.emit("play", url="hold-music", seconds=HOLD_MUSIC_SECONDS)
            interp.line.wait(HOLD_MUSIC_SECONDS)
            continue
        started = time.monotonic()
        params = _queue_params(interp, queue, entered)
        interp.line.emit("waiting", queue=queue.name, position=params["QueuePosition"])
        try:
            wait_doc = interp.fetch(Target(target.url, target.method, params | target.params))
            target = interp.run(wait_doc, wait_loop=True) or home
        except LeftQueue:
            raise _Left("leave") from None
        except ApplicationError as exc:
            interp.carrier.record_error(exc, interp.leg.sid, fatal=False)
            raise _Left("error") from None
        if interp.line.elapsed(started) < MIN_LOOP_SECONDS:
            interp.line.wait(MIN_LOOP_SECONDS)


def _queue_params(interp: Interpreter, queue: CarrierQueue, entered: float) -> dict[str, str]:
    with interp.carrier.lock:
        return {
            "QueueSid": queue.sid,
            "QueuePosition": str(queue.position(interp.leg.sid)),
            "QueueTime": str(int(interp.line.elapsed(entered))),
            "AvgQueueTime": str(queue.average_wait()),
            "CurrentQueueSize": str(len(queue.members)),
            "MaxQueueSize": str(queue.max_size),
        }


def _dequeue(interp: Interpreter, queue: CarrierQueue, entered: float,
             result: str) -> dict[str, str]:
    waited = interp.line.elapsed(entered)
    interp.line.hang_up_after("patience", None)
    interp.carrier.leave_queue(queue, interp.leg.sid, waited)
    interp.queue = None
    interp.line.emit("dequeued", queue=queue.name, result=result)
    return {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(int(waited))}


def _notify(interp: Interpreter, action: str | None, method: str, params: dict[str, str]) -> None:
    if action:
        interp.notify(action, method, params)
