"""A text left `sending` by a sender that stopped between claiming it and writing what the
carrier answered: looked up at the carrier (the offline one, through the Twilio library), it
is recorded as sent when the carrier took it, and sent again when it never did; on both
engines."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import select
from twilio.rest import Client

from callback.policy import END_OF_DAY, CallbackPolicy
from ivr import casework
from ivr.calendar import BusinessCalendar
from ivr.calls.models import CallEvent
from ivr.cases import messages
from ivr.cases.models import TextMessage
from ivr.sim.httpclient import SimHttpClient
from ivr.telephony.twilio_adapter import TwilioTelephony

ANYTIME = BusinessCalendar.from_spec(timezone="UTC", hours="always")
POLICY = CallbackPolicy(customer_hours=(time(0, 0), END_OF_DAY))
NUMBER = "+12125550123"
BODY = "Case 123456: our billing team has your request."
LATER = timedelta(minutes=11)  # past messages.STALE_CLAIM


def claimed_text(live) -> tuple[int, messages.Outgoing]:
    """A held text, claimed by a sender that then stops (nothing settles it)."""
    now = datetime.now(UTC)
    with live.db.transaction() as session:
        message = messages.queue_text(session, to=NUMBER, body=BODY, purpose="case-opened",
                                      now=now, calendar=ANYTIME, policy=POLICY)
        session.flush()
        message_id = message.id
    with live.db.transaction() as session:
        outgoing = messages.claim(session, message_id=message_id, now=now)
    assert outgoing is not None
    return message_id, outgoing


def status_of(live, message_id: int) -> tuple[str, str | None]:
    with live.db.transaction() as session:
        message = session.get(TextMessage, message_id)
        return message.status, message.sid


def carrier_texts(live) -> list[str]:
    return [m.sid for m in live.carrier.messages.list(to=NUMBER)]


def test_a_text_the_carrier_took_is_recorded_as_sent_not_sent_again(live):
    rt = live.runtime
    message_id, outgoing = claimed_text(live)
    sid, error = messages.transmit(rt.telephony, outgoing, from_=rt.settings.support_number)
    assert error is None  # ... and the sender stops before writing it down

    # A fresh claim is a sender at work: left alone.
    assert casework.recover_stale_texts(rt) == {"sent": 0, "held": 0}
    assert status_of(live, message_id) == ("sending", None)

    later = datetime.now(UTC) + LATER
    assert casework.recover_stale_texts(rt, now=later) == {"sent": 1, "held": 0}
    assert status_of(live, message_id) == ("sent", sid)
    assert casework.send_due_texts(rt, now=later) == 0
    assert carrier_texts(live) == [sid]
    with live.db.transaction() as session:
        (event,) = session.scalars(select(CallEvent.data).where(
            CallEvent.kind == "text.recovered"))
    assert event | {"message_id": None} == {"message_id": None, "case_id": None,
                                            "purpose": "case-opened", "status": "sent",
                                            "sid": sid}


def test_a_text_the_carrier_never_got_goes_out_again(live):
    rt = live.runtime
    message_id, _ = claimed_text(live)
    # Another text to the same number, with other words, is not taken for it.
    other = rt.telephony.send_sms(to=NUMBER, from_=rt.settings.support_number,
                                  body="Your case 654321 is resolved.")

    later = datetime.now(UTC) + LATER
    assert casework.recover_stale_texts(rt, now=later) == {"sent": 0, "held": 1}
    assert status_of(live, message_id) == ("held", None)
    assert casework.send_due_texts(rt, now=later) == 1
    status, sid = status_of(live, message_id)
    assert status == "sent" and sid != other
    assert sorted(carrier_texts(live)) == sorted([other, sid])
    assert [m.body for m in live.carrier.messages.list(to=NUMBER)].count(BODY) == 1


def test_a_carrier_that_does_not_answer_leaves_the_text_for_the_next_round(live):
    rt = live.runtime
    message_id, _ = claimed_text(live)
    later = datetime.now(UTC) + LATER
    reachable = rt.telephony
    # Nothing listens on port 9: the library's request fails as an unreachable carrier's.
    rt.telephony = TwilioTelephony(Client(rt.settings.twilio_account_sid,
                                          rt.settings.twilio_auth_token,
                                          http_client=SimHttpClient("http://127.0.0.1:9/sim")))
    assert casework.recover_stale_texts(rt, now=later) == {"sent": 0, "held": 0}
    assert status_of(live, message_id) == ("sending", None)

    rt.telephony = reachable
    assert casework.recover_stale_texts(rt, now=later) == {"sent": 0, "held": 1}
