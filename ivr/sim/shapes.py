"""Twilio's JSON shapes for calls, recordings, messages, list pages and errors, so the real
`twilio` client parses what the offline carrier answers."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

from ivr.sim.resources import CallLeg, Message, Recording
from ivr.sim.webhooks import API_VERSION

if TYPE_CHECKING:
    from ivr.sim.carrier import Carrier

BASE = "/2010-04-01/Accounts/{account}"


def rfc2822(value: datetime | None) -> str | None:
    return format_datetime(value) if value is not None else None


def call(carrier: Carrier, leg: CallLeg) -> dict[str, Any]:
    base = BASE.format(account=leg.account_sid)
    uri = f"{base}/Calls/{leg.sid}"
    return {
        "account_sid": leg.account_sid,
        "annotation": None,
        "answered_by": leg.answered_by,
        "api_version": API_VERSION,
        "caller_name": None,
        "date_created": rfc2822(leg.date_created),
        "date_updated": rfc2822(leg.date_updated),
        "direction": leg.direction,
        "duration": str(leg.duration) if leg.duration is not None else None,
        "end_time": rfc2822(leg.end_time),
        "forwarded_from": None,
        "from": leg.from_,
        "from_formatted": leg.from_,
        "group_sid": None,
        "parent_call_sid": leg.parent_sid,
        "phone_number_sid": None,
        "price": None,
        "price_unit": "USD",
        "queue_time": "0",
        "sid": leg.sid,
        "start_time": rfc2822(leg.start_time),
        "status": leg.status,
        "subresource_uris": {
            "recordings": f"{uri}/Recordings.json",
            "notifications": f"{uri}/Notifications.json",
            "events": f"{uri}/Events.json",
        },
        "to": leg.to,
        "to_formatted": leg.to,
        "trunk_sid": None,
        "uri": f"{uri}.json",
    }


def recording(carrier: Carrier, rec: Recording) -> dict[str, Any]:
    base = BASE.format(account=rec.account_sid)
    return {
        "account_sid": rec.account_sid,
        "api_version": API_VERSION,
        "call_sid": rec.call_sid,
        "conference_sid": None,
        "channels": rec.channels,
        "date_created": rfc2822(rec.date_created),
        "date_updated": rfc2822(rec.date_updated),
        "start_time": rfc2822(rec.start_time),
        "duration": str(rec.duration) if rec.duration is not None else "-1",
        "encryption_details": None,
        "error_code": None,
        "media_url": f"{carrier.api_url}{base}/Recordings/{rec.sid}",
        "price": None,
        "price_unit": "USD",
        "sid": rec.sid,
        "source": rec.source,
        "status": rec.status,
        "subresource_uris": {
            "transcriptions": f"{base}/Recordings/{rec.sid}/Transcriptions.json",
            "add_on_results": f"{base}/Recordings/{rec.sid}/AddOnResults.json",
        },
        "track": "both",
        "uri": f"{base}/Recordings/{rec.sid}.json",
    }


def message(carrier: Carrier, msg: Message) -> dict[str, Any]:
    base = BASE.format(account=msg.account_sid)
    return {
        "account_sid": msg.account_sid,
        "api_version": API_VERSION,
        "body": msg.body,
        "date_created": rfc2822(msg.date_created),
        "date_sent": rfc2822(msg.date_sent),
        "date_updated": rfc2822(msg.date_updated),
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": msg.from_,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(msg.num_segments),
        "price": None,
        "price_unit": "USD",
        "sid": msg.sid,
        "status": msg.status,
        "subresource_uris": {"media": f"{base}/Messages/{msg.sid}/Media.json"},
        "to": msg.to,
        "uri": f"{base}/Messages/{msg.sid}.json",
    }


def page(key: str, items: list[dict[str, Any]], *, path: str, number: int,
         size: int) -> dict[str, Any]:
    """One page of a list, with Twilio's paging fields (relative URIs, as Twilio gives)."""
    start = number * size
    chunk = items[start:start + size]

    def uri(n: int) -> str:
        return f"{path}?PageSize={size}&Page={n}"

    return {
        key: chunk,
        "end": start + max(len(chunk) - 1, 0),
        "first_page_uri": uri(0),
        "next_page_uri": uri(number + 1) if start + size < len(items) else None,
        "page": number,
        "page_size": size,
        "previous_page_uri": uri(number - 1) if number > 0 else None,
        "start": start,
        "uri": uri(number),
    }


def error(status: int, code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}
