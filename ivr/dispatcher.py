"""Runs the router after each event that may make a match (a caller arrives, an agent comes
free) and every few seconds (aging, skill expansion, finished wrap-ups), then connects each
reservation: the caller's call is redirected through the carrier's REST API to the agent.

The carrier is only called after the reservation is committed, never inside a transaction.
The texts a round finds due go out from a thread of their own, so callers are never kept
waiting for an agent behind the carrier's answers to text messages."""

from __future__ import annotations

import logging
import queue
import threading

from callback import manners
from callback import service as callback_service
from ivr import casework
from ivr.cases import messages
from ivr.routing import reservations
from ivr.routing.agents import is_phone
from ivr.routing.models import Reservation
from ivr.routing.router import sweep
from ivr.runtime import Runtime
from ivr.telephony import TelephonyError

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(self, rt: Runtime, *, interval: float = 2.0) -> None:
        self.rt = rt
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._outbox: queue.Queue[int | None] = queue.Queue()
        self._texting: set[int] = set()  # in the outbox, so a later round does not add them
        self._texting_lock = threading.Lock()
        self._texter: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="dispatcher", daemon=True)
        self._thread.start()
        self._texter = threading.Thread(target=self._send_loop, name="texter", daemon=True)
        self._texter.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._outbox.put(None)
        for thread in (self._thread, self._texter):
            if thread is not None:
                thread.join(timeout=10)

    def poke(self) -> None:
        """Route soon (from a webhook, after its transaction committed)."""
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            if self._stop.is_set():
                return
            try:
                self.run_once()
            except Exception:  # the loop must outlive one bad round; the next one retries
                log.exception("routing round failed")

    def run_once(self) -> list[int]:
        """One routing round: reserve what can be reserved, then connect it. Returns the ids
        of the reservations connected."""
        with self._lock:  # one round at a time in this process; other processes use row locks
            made, texts = self.rt.db.run(self._route)
            connected = [rid for rid in made if self._connect(rid)]
        self._queue_texts(texts)
        return connected

    def _queue_texts(self, ids: list[int]) -> None:
        """Hand due texts to the texter; without one (a round run by hand), send them now.
        A text still held after a stop is found due again by the next round."""
        if self._texter is None or not self._texter.is_alive():
            casework.send_texts(self.rt, ids)
            return
        with self._texting_lock:
            fresh = [message_id for message_id in ids if message_id not in self._texting]
            self._texting.update(fresh)
        for message_id in fresh:
            self._outbox.put(message_id)

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            message_id = self._outbox.get()
            if message_id is None:
                return
            try:
                casework.send_texts(self.rt, [message_id])
            except Exception:  # the texter must outlive one bad text; it stays held or sending
                log.exception("sending text %s failed", message_id)
            finally:
                with self._texting_lock:
                    self._texting.discard(message_id)

    def _route(self, session) -> tuple[list[int], list[int]]:
        """The reservations made, and the held texts due (found in the same transaction)."""
        now = self.rt.clock.now()
        made = [r.id for r in sweep(session, now=now, policy=self.rt.policy)]
        return made, messages.due_texts(session, now=now)

    def _connect(self, reservation_id: int) -> bool:
        with self.rt.db.transaction() as session:
            reservation = session.get(Reservation, reservation_id)
            call_sid = reservation.entry.call.sid if reservation else None
            kind = reservation.entry.kind if reservation else None
        if call_sid is None:
            return False
        if kind == "callback":
            return self._call_back(reservation_id)
        url = f"{self.rt.settings.public_url}/voice/connect/{reservation_id}"
        try:
            self.rt.telephony.redirect(call_sid, url)
            return True
        except TelephonyError as exc:
            log.warning(
                "cannot connect reservation %s (call %s): %s", reservation_id, call_sid, exc
            )
            failure = exc
            self.rt.db.run(lambda session: self._undo(session, reservation_id, failure))
            return False

    def _undo(self, session, reservation_id: int, exc: TelephonyError) -> None:
        reservation = session.get(Reservation, reservation_id)
        now = self.rt.clock.now()
        why = f"redirect failed: {exc}"
        if exc.call_gone:
            # The caller hung up before we could connect (unknown to the carrier, or ended).
            reservations.caller_left(session, reservation=reservation,
                                     call=reservation.entry.call, now=now, why=why)
        elif reservations.canceled(session, reservation=reservation, now=now, why=why):
            reservation.entry.status = "waiting"
            reservation.entry.agent_id = None

    def _call_back(self, reservation_id: int) -> bool:
        """A callback's turn: if the dialler's manners allow it, call the agent first (the
        customer is dialled from the agent's leg once they answer)."""
        rt = self.rt
        verdict = rt.db.run(lambda session: self._may_dial(session, reservation_id))
        if verdict is None:
            return False
        delay = rt.db.run(
            lambda session: manners.take_dial_slot(session, now=rt.clock.now(),
                                                   policy=rt.callbacks)
        )
        manners.wait(delay)
        base = rt.settings.public_url
        try:
            agent_sid = rt.telephony.dial(
                to=verdict,
                from_=rt.settings.support_number,
                url=f"{base}/voice/callback/{reservation_id}/agent",
                status_callback=f"{base}/voice/callback/{reservation_id}/agent-status",
                # An agent's mobile may be answered by its voicemail, which is no agent.
                machine_detection=is_phone(verdict),
                timeout=rt.policy.ring_timeout,
            )
        except TelephonyError as exc:
            log.warning("cannot call agent for callback reservation %s: %s", reservation_id,
                        exc)
            why = str(exc)
            rt.db.run(lambda session: self._release(session, reservation_id, why))
            return False
        rt.db.run(lambda session: self._attempt(session, reservation_id, agent_sid))
        return True

    def _may_dial(self, session, reservation_id: int) -> str | None:
        """The agent's endpoint to dial, or None when the customer may not be called now (the
        callback then waits for the time it may)."""
        reservation = session.get(Reservation, reservation_id)
        callback = callback_service.by_entry(session, reservation.entry_id)
        now = self.rt.clock.now()
        verdict = manners.may_dial(session, number=callback.number, now=now,
                                   calendar=self.rt.calendar, policy=self.rt.callbacks)
        if verdict.allowed:
            return reservation.agent.endpoint
        reservations.canceled(session, reservation=reservation, now=now,
                              why=f"dialler: {verdict.reason}")
        entry = reservation.entry
        entry.agent_id = None
        if verdict.not_before is None:
            callback.status = "canceled"
            callback.reason = verdict.reason
            entry.status = "left"
            entry.left_at = now
        else:
            callback.status = "scheduled"
            callback.due_at = verdict.not_before
            entry.status = "scheduled"
        return None

    def _release(self, session, reservation_id: int, why: str) -> None:
        reservation = session.get(Reservation, reservation_id)
        if reservations.canceled(session, reservation=reservation, now=self.rt.clock.now(),
                                 why=f"dial failed: {why}"):
            reservation.entry.status = "waiting"
            reservation.entry.agent_id = None

    def _attempt(self, session, reservation_id: int, agent_sid: str) -> None:
        reservation = session.get(Reservation, reservation_id)
        callback = callback_service.by_entry(session, reservation.entry_id)
        callback_service.start_attempt(session, callback=callback, reservation=reservation,
                                       agent_call_sid=agent_sid, now=self.rt.clock.now())
