"""The carrier as a port: the domain asks for calls to be redirected, dialled or hung up and
for recordings to be fetched; an adapter talks to the carrier."""

from ivr.telephony.port import SentText, Telephony, TelephonyError, answered_by_machine

__all__ = ["SentText", "Telephony", "TelephonyError", "answered_by_machine"]
