"""Telling the caller what happens next: the words (in the caller's language) for the phone
and for text messages, and texts held until the customer's local hours (never to a number on
the do-not-call list). Sending goes through the telephony port (Twilio's Messages API)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from callback import manners
from callback.policy import CallbackPolicy
from ivr import events
from ivr.calendar import BusinessCalendar
from ivr.cases.models import Case, TextMessage
from ivr.telephony import SentText, Telephony, TelephonyError

log = logging.getLogger(__name__)

TEXTS = {
    "en-US": {
        "spoken_number": "Your case number is {digits}. Again, {digits}.",
        "with_agent": "{owner} has your request",
        "with_team": "our {team} team has your request",
        "by_when": "and will get back to you by {when}",
        "opened": "Case {number}: {who} {by}. Call us and key in {number} to go straight to it.",
        "missed": "We missed your call. Case {number}: {who} and will call you back by {when}.",
        "resolved": "Your case {number} is resolved. Thank you for your patience. If anything "
        "is still wrong, call us and key in {number}.",
        "incident_fixed": "The problem with {subject} is fixed. {message}",
        "incident_subscribed": "Thanks. We will text you when it is fixed.",
    },
    "es-US": {
        "spoken_number": "Su número de caso es {digits}. Repito, {digits}.",
        "with_agent": "{owner} tiene su solicitud",
        "with_team": "nuestro equipo de {team} tiene su solicitud",
        "by_when": "y le responderá antes de {when}",
        "opened": "Caso {number}: {who} {by}. Llámenos y marque {number} para ir directo a él.",
        "missed": "No pudimos atender su llamada. Caso {number}: {who} y le llamará antes de "
        "{when}.",
        "resolved": "Su caso {number} está resuelto. Gracias por su paciencia. Si algo sigue "
        "mal, llámenos y marque {number}.",
        "incident_fixed": "El problema con {subject} está resuelto. {message}",
        "incident_subscribed": "Gracias. Le enviaremos un mensaje cuando esté resuelto.",
    },
}
TEAMS = {"es-US": {"billing": "facturación", "technical": "soporte técnico",
                   "outage": "fallas", "general": "atención al cliente"}}


def words(name: str, language: str | None, **values: object) -> str:
    table = TEXTS.get(language or "", TEXTS["en-US"])
    return table[name].format(**values)


def spoken_digits(number: str) -> str:
    return " ".join(number)


def when(moment: datetime, *, now: datetime, calendar: BusinessCalendar,
         language: str | None) -> str:
    local = moment.astimezone(calendar.tz)
    today = now.astimezone(calendar.tz).date()
    spanish = (language or "").startswith("es")
    if spanish:
        clock = f"las {local.hour}:{local.minute:02d}"
        day = ("hoy" if local.date() == today else "mañana"
               if local.date() == today + timedelta(days=1) else local.strftime("%d/%m"))
        return f"{day} a {clock}"
    hour = local.hour % 12 or 12
    clock = f"{hour}:{local.minute:02d} {'AM' if local.hour < 12 else 'PM'}"
    day = ("today" if local.date() == today else "tomorrow"
           if local.date() == today + timedelta(days=1) else local.strftime("%A %B %-d"))
    return f"{clock} {day}"


def what_next(case: Case, *, owner_name: str | None, now: datetime,
              calendar: BusinessCalendar, language: str | None) -> tuple[str, str]:
    """(who has it, by when) in the caller's language."""
    if owner_name:
        who = words("with_agent", language, owner=owner_name)
    else:
        team = TEAMS.get(language or "", {}).get(case.owner_skill, case.owner_skill)
        who = words("with_team", language, team=team)
    clock = case.clock("response") if case.first_response_at is None else case.clock(
        "resolution")
    due = clock.target_at if clock is not None else now
    return who, when(due, now=now, calendar=calendar, language=language)


def queue_text(
    session: Session, *, to: str, body: str, purpose: str, now: datetime,
    calendar: BusinessCalendar, policy: CallbackPolicy, case_id: int | None = None,
    incident_id: int | None = None,
) -> TextMessage:
    """A text to send now, or held until the customer's local hours; dropped for numbers on
    the do-not-call list or that cannot receive one. Added to the session, not yet written:
    its id is there after the next flush."""
    message = TextMessage(to_number=to, body=body, purpose=purpose, case_id=case_id,
                          incident_id=incident_id, created_at=now, send_after=now,
                          status="held")
    zones = manners.customer_timezones(to)
    if manners.on_do_not_call(session, to) or not zones:
        message.status = "dropped"
        message.error = "do-not-call list" if zones else "not a number that takes texts"
    elif not all(manners._customer_day_ok(now, zone, policy) for zone in zones):
        message.send_after = manners.next_customer_daytime(now, zones, policy)
    session.add(message)
    events.record(session, "text.queued", at=now, case_id=case_id,
                  message_id=events.IdOf(message), purpose=purpose, status=message.status,
                  send_after=message.send_after.isoformat())
    return message


# Built once: every dispatcher round asks.
_DUE = (select(TextMessage.id)
        .where(TextMessage.status == "held", TextMessage.send_after <= bindparam("now"))
        .order_by(TextMessage.id))


def due_texts(session: Session, *, now: datetime) -> list[int]:
    return list(session.scalars(_DUE, {"now": now}))


@dataclass(frozen=True)
class Outgoing:
    """A text taken for sending: what the carrier needs, read while the row was claimed."""

    message_id: int
    to_number: str
    body: str


def claim(session: Session, *, message_id: int, now: datetime) -> Outgoing | None:
    """Take a held text for sending (status "sending"), or None when another sender took it
    first or it is no longer held: each text goes out at most once, whichever process finds
    it due. The carrier is called after this transaction ends (`transmit`)."""
    taken = session.execute(
        update(TextMessage)
        .where(TextMessage.id == message_id, TextMessage.status == "held")
        .values(status="sending", claimed_at=now)
        .execution_options(synchronize_session=False)
    )
    if not taken.rowcount:
        return None
    to_number, body = session.execute(
        select(TextMessage.to_number, TextMessage.body).where(TextMessage.id == message_id)
    ).one()
    return Outgoing(message_id, to_number, body)


def transmit(
    telephony: Telephony, outgoing: Outgoing, *, from_: str
) -> tuple[str | None, str | None]:
    """Hand one claimed text to the carrier, with no transaction open: (sid, None) when the
    carrier took it, (None, why) when it refused."""
    try:
        return telephony.send_sms(to=outgoing.to_number, from_=from_, body=outgoing.body), None
    except TelephonyError as exc:
        log.warning("text %s to %s failed: %s", outgoing.message_id, outgoing.to_number, exc)
        return None, str(exc)


def settle(session: Session, *, message_id: int, sid: str | None, error: str | None,
           now: datetime) -> bool:
    """Write what the carrier answered for a claimed text, and its event. True: sent."""
    message = session.get(TextMessage, message_id)
    if error is None:
        message.status, message.sid, message.sent_at = "sent", sid, now
    else:
        message.status, message.error = "failed", error
    events.record(session, "text.sent" if message.status == "sent" else "text.failed", at=now,
                  case_id=message.case_id, message_id=message.id, purpose=message.purpose,
                  sid=message.sid)
    return message.status == "sent"


# A sender hands a text to the carrier within seconds (the client's timeout is shorter); one
# still `sending` after this was left by a sender that stopped between the two.
STALE_CLAIM = timedelta(minutes=10)
# The carrier's clock and ours may differ a little: a text it took this long before our
# claim is not the one claimed.
CLOCK_SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class Claimed:
    """A text left `sending`: what to look for at the carrier."""

    message_id: int
    to_number: str
    body: str
    claimed_at: datetime


def stale_claims(session: Session, *, now: datetime) -> list[Claimed]:
    rows = session.execute(
        select(TextMessage.id, TextMessage.to_number, TextMessage.body, TextMessage.claimed_at)
        .where(TextMessage.status == "sending", TextMessage.claimed_at <= now - STALE_CLAIM)
        .order_by(TextMessage.id)
    ).all()
    return [Claimed(*row) for row in rows]


def carrier_sid(claimed: Claimed, texts: list[SentText]) -> str | None:
    """The carrier's sid of the claimed text among the texts it holds for that number: the
    same words, taken no earlier than the claim."""
    for text in texts:
        if text.body == claimed.body and text.created_at >= claimed.claimed_at - CLOCK_SLACK:
            return text.sid
    return None


def resolve_stale(session: Session, *, claimed: Claimed, sid: str | None,
                  now: datetime) -> str | None:
    """A stale claim, once the carrier was asked: sent (it holds the text) or held again to
    go out with the next due texts (it never got it). Returns which, or None when the text
    is no longer as it was found (another process resolved it)."""
    message = session.get(TextMessage, claimed.message_id, with_for_update=True)
    if message is None or message.status != "sending" or message.claimed_at != claimed.claimed_at:
        return None
    if sid is not None:
        message.status, message.sid, message.sent_at = "sent", sid, now
    else:
        message.status, message.send_after, message.claimed_at = "held", now, None
    events.record(session, "text.recovered", at=now, case_id=message.case_id,
                  message_id=message.id, purpose=message.purpose, status=message.status,
                  sid=sid)
    return message.status
