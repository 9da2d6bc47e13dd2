"""Text messages: POST /Messages.json queues one; a moment later it is sent and delivered,
with status callbacks (MessageStatus) when a StatusCallback was given. Nothing leaves the
machine: the control API lists what was sent."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ivr.sim.resources import CarrierError, Message, new_sid, utcnow
from ivr.sim.webhooks import API_VERSION

if TYPE_CHECKING:
    from ivr.sim.carrier import Carrier

DELIVERY_SECONDS = 1.0


class Messages:
    def __init__(self, carrier: Carrier) -> None:
        self.carrier = carrier
        self._messages: dict[str, Message] = {}
        self._timers: list[threading.Timer] = []
        self._stopped = False

    def send(self, *, to: str, from_: str, body: str,
             status_callback: str | None = None) -> Message:
        if not to:
            raise CarrierError(400, 21604, "A 'To' phone number is required.")
        if not from_:
            raise CarrierError(400, 21603, "A 'From' phone number is required.")
        if not body:
            raise CarrierError(400, 21602, "Message body is required.")
        message = Message(sid=new_sid("SM"), account_sid=self.carrier.account_sid, from_=from_,
                          to=to, body=body, status_callback=status_callback)
        timer = threading.Timer(DELIVERY_SECONDS / self.carrier.speed, self._deliver, [message])
        timer.daemon = True
        with self.carrier.lock:
            if self._stopped:
                raise CarrierError(503, 20503, "the offline carrier is shutting down")
            self._messages[message.sid] = message
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()
        return message

    def get(self, sid: str) -> Message:
        with self.carrier.lock:
            message = self._messages.get(sid)
        if message is None:
            raise CarrierError(404, 20404, f"The requested resource /2010-04-01/Accounts/"
                                           f"{self.carrier.account_sid}/Messages/{sid}.json "
                                           "was not found")
        return message

    def list(self, *, to: str | None = None, from_: str | None = None) -> list[Message]:
        """Messages, newest first."""
        with self.carrier.lock:
            found = list(self._messages.values())
        return [m for m in reversed(found)
                if (to is None or m.to == to) and (from_ is None or m.from_ == from_)]

    def stop(self) -> None:
        with self.carrier.lock:
            self._stopped = True
            timers = list(self._timers)
        for timer in timers:
            timer.cancel()

    def _deliver(self, message: Message) -> None:
        for status in ("sent", "delivered"):
            with self.carrier.lock:
                message.status = status
                message.date_updated = utcnow()
                if status == "sent":
                    message.date_sent = message.date_updated
            if message.status_callback:
                params = {"AccountSid": message.account_sid, "ApiVersion": API_VERSION,
                          "MessageSid": message.sid, "SmsSid": message.sid,
                          "MessageStatus": status, "SmsStatus": status,
                          "From": message.from_, "To": message.to}
                self.carrier.webhooks.notify(message.status_callback, "POST", params,
                                             call_sid="")
