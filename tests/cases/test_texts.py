"""Sending held texts: at most once whoever finds them due, and never with a transaction open
while the carrier answers (on SQLite a transaction holds the one write lock); on both
engines."""

from __future__ import annotations

import threading
from datetime import time

from sqlalchemy import select

from callback.policy import END_OF_DAY, CallbackPolicy
from ivr import casework
from ivr.calendar import BusinessCalendar
from ivr.cases import messages
from ivr.cases.models import TextMessage
from ivr.telephony import TelephonyError

ANYTIME = BusinessCalendar.from_spec(timezone="UTC", hours="always")
# Local hours around the clock, so the text is due at once whenever the test runs.
POLICY = CallbackPolicy(customer_hours=(time(0, 0), END_OF_DAY))
NUMBER = "+12125550123"


class Carrier:
    """Takes texts; while it is being called, another thread reads the text's status."""

    def __init__(self, db, fail: bool = False) -> None:
        self.db, self.fail = db, fail
        self.sent: list[tuple[str, str]] = []
        self.seen_meanwhile: list[str] = []

    def send_sms(self, *, to: str, from_: str, body: str) -> str:
        reader = threading.Thread(target=self._read_status)
        reader.start()
        reader.join(timeout=60)  # a deadlock guard only: the read waits on nothing of ours
        assert not reader.is_alive(), "the text's transaction was still open at the carrier"
        if self.fail:
            raise TelephonyError("21610: the number has opted out", status=400)
        self.sent.append((to, body))
        return f"SM{len(self.sent):032x}"

    def _read_status(self) -> None:
        with self.db.transaction() as session:
            self.seen_meanwhile.extend(session.scalars(select(TextMessage.status)))


def held_text(db, clock) -> int:
    with db.transaction() as session:
        message = messages.queue_text(session, to=NUMBER, body="Case 123456: we have it.",
                                      purpose="case-opened", now=clock.now(), calendar=ANYTIME,
                                      policy=POLICY)
        assert message.status == "held"
        session.flush()
        return message.id


def test_a_text_is_sent_once_with_no_transaction_open_at_the_carrier(app, db, clock):
    runtime = app.extensions["ivr"]
    runtime.telephony = carrier = Carrier(db)
    message_id = held_text(db, clock)

    assert casework.send_texts(runtime, [message_id, message_id]) == 1
    assert casework.send_texts(runtime, [message_id]) == 0  # a second sender finds it taken
    assert carrier.sent == [(NUMBER, "Case 123456: we have it.")]
    # Seen from another connection during the carrier's call: claimed and committed.
    assert carrier.seen_meanwhile == ["sending"]
    with db.transaction() as session:
        message = session.get(TextMessage, message_id)
        assert (message.status, message.sid) == ("sent", f"SM{1:032x}")
        assert message.sent_at == clock.now()


def test_a_refused_text_is_failed_with_the_carriers_reason(app, db, clock):
    runtime = app.extensions["ivr"]
    runtime.telephony = Carrier(db, fail=True)
    message_id = held_text(db, clock)

    assert casework.send_texts(runtime, [message_id]) == 0
    with db.transaction() as session:
        message = session.get(TextMessage, message_id)
        assert message.status == "failed"
        assert "opted out" in message.error
        assert messages.due_texts(session, now=clock.now()) == []
