"""The offline carrier: the in-memory state of calls, queues, recordings, messages and devices,
and the engine that runs each call on a thread of its own. It behaves like Twilio for the
subset the service uses; `ivr.sim.rest` serves it over HTTP."""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ivr.sim import audio
from ivr.sim.callers import CallerScript, Device, endpoint_identity
from ivr.sim.dialing import Noun
from ivr.sim.line import Line, Target
from ivr.sim.messaging import Messages
from ivr.sim.recordings import Recordings
from ivr.sim.resources import CallLeg, CarrierError, CarrierQueue, new_sid
from ivr.sim.session import CallSession
from ivr.sim.webhooks import ApplicationError, Webhooks, error_record, status_params

log = logging.getLogger(__name__)
DEFAULT_NUMBER = "+15005550006"
CALL_EVENTS = ("initiated", "ringing", "answered", "completed")
NOMINAL_MEDIA_SECONDS = 3.0
UNREGISTERED = {"answer": Device("", "auto", answer_after=2.0, talk_time=60.0),
                "no-answer": Device("", "off")}


class Carrier:
    """Thread-safe. Times are simulated seconds: `speed` 20 makes a 5 s Gather timeout take
    0.25 s. `api_url` is where the REST app is served (default: the voice URL's origin +
    /sim), used for RecordingUrl. Twilio's number-level status callback reports only the
    end of an inbound call; pass `inbound_status_events` to hear more."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        voice_url: str,
        status_callback_url: str,
        number: str = DEFAULT_NUMBER,
        speed: float = 1.0,
        session: requests.Session | None = None,
        api_url: str | None = None,
        unregistered_clients: str = "answer",
        inbound_status_events: tuple[str, ...] = ("completed",),
        webhook_timeout: float = 15.0,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be a positive number")
        if unregistered_clients not in UNREGISTERED:
            raise ValueError(f"unregistered_clients must be one of {sorted(UNREGISTERED)}")
        unknown = set(inbound_status_events) - set(CALL_EVENTS)
        if unknown:
            raise ValueError(f"unknown status callback events: {sorted(unknown)}")
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.voice_url = voice_url
        self.status_callback_url = status_callback_url
        self.number = number
        self.speed = speed
        origin = urlsplit(voice_url)
        self.api_url = (api_url or f"{origin.scheme}://{origin.netloc}/sim").rstrip("/")
        self.unregistered_clients = unregistered_clients
        self.inbound_status_events = frozenset(inbound_status_events)
        self.lock = threading.RLock()
        self.webhooks = Webhooks(auth_token=auth_token, session=session or requests.Session(),
                                 timeout=webhook_timeout, on_error=self._add_error)
        self.messages = Messages(self)
        self.recordings = Recordings(self)
        self._calls: dict[str, CallLeg] = {}
        self._queues: dict[str, CarrierQueue] = {}
        self._devices: dict[str, Device] = {}
        self._callees: dict[str, CallerScript] = {}
        self._errors: list[dict[str, Any]] = []
        self._media: dict[str, float | None] = {}
        self._stopping = False

    # -- calls -----------------------------------------------------------------------------

    def place_call(self, from_: str, to: str | None = None,
                   caller: CallerScript | None = None) -> str:
        """A call from `from_` to the support number (or `to`): the voice URL is requested and
        its TwiML run. `caller` scripts the caller; None leaves them to the control API."""
        leg = self._new_leg(from_, to or self.number, "inbound")
        leg.party = copy.deepcopy(caller)
        leg.status = "ringing"
        leg.status_callback = self.status_callback_url
        leg.status_events = self.inbound_status_events
        self._start(leg, CallSession(self, leg, Target(self.voice_url, "POST")))
        return leg.sid

    def create_call(
        self,
        *,
        to: str,
        from_: str,
        url: str | None = None,
        twiml: str | None = None,
        method: str = "POST",
        status_callback: str | None = None,
        status_callback_method: str = "POST",
        status_callback_event: list[str] | None = None,
        machine_detection: str | None = None,
        timeout: float = 60.0,
    ) -> CallLeg:
        """An outbound call, as POST /Calls.json makes: rings `to` (a device for client: and
        sip: addresses, a scripted callee for numbers) and runs the TwiML once answered."""
        if not to or not from_:
            raise CarrierError(400, 21201 if not to else 21603, "To and From are required.")
        if not url and twiml is None:
            raise CarrierError(400, 21205, "Url parameter is required.")
        leg = self._new_leg(from_, to, "outbound-api")
        with self.lock:
            registered = endpoint_identity(to) in self._devices
        if registered or to.startswith(("client:", "sip:")):
            leg.device = self._ring_device(endpoint_identity(to))
        else:
            with self.lock:
                leg.party = copy.deepcopy(self._callees.get(to, CallerScript()))
        leg.status_callback = status_callback
        leg.status_callback_method = status_callback_method
        events = set(status_callback_event or []) or ({"completed"} if status_callback else set())
        leg.status_events = frozenset(events)
        first = Target(twiml=twiml) if twiml is not None else Target(url, method)
        session = CallSession(self, leg, first, ring_timeout=timeout,
                              machine_detection=machine_detection)
        self._start(leg, session)
        return leg

    def call(self, sid: str) -> CallLeg:
        with self.lock:
            leg = self._calls.get(sid)
        if leg is None:
            raise CarrierError(404, 20404, f"The requested resource /2010-04-01/Accounts/"
                                           f"{self.account_sid}/Calls/{sid}.json was not found")
        return leg

    def calls(self, *, status: str | None = None, to: str | None = None,
              from_: str | None = None, active: bool = False) -> list[CallLeg]:
        """Calls, newest first, filtered like GET /Calls.json."""
        with self.lock:
            legs = list(self._calls.values())
        return [leg for leg in reversed(legs)
                if (status is None or leg.status == status) and (to is None or leg.to == to)
                and (from_ is None or leg.from_ == from_) and not (active and leg.ended)]

    def update_call(self, sid: str, *, url: str | None = None, method: str = "POST",
                    twiml: str | None = None, status: str | None = None) -> CallLeg:
        """POST /Calls/<sid>.json: redirect a live call at once (Url or Twiml), or end it
        (Status=completed; canceled only ends a call that has not been answered)."""
        leg = self.call(sid)
        if status is not None:
            if status not in ("completed", "canceled"):
                raise CarrierError(400, 21218, f"Invalid Status {status!r}: completed or canceled")
            if not leg.ended and not (status == "canceled" and leg.status == "in-progress"):
                self._end_from_outside(leg, "api")
            return leg
        if url is None and twiml is None:
            raise CarrierError(400, 21205, "Url, Twiml or Status is required.")
        if leg.ended:
            raise CarrierError(400, 21220, "Call is not in-progress. Cannot redirect.")
        if leg.parent_sid:
            raise CarrierError(400, 21220, "The offline carrier cannot redirect a <Dial> leg.")
        leg.line.redirect(Target(twiml=twiml) if twiml is not None else Target(url, method))
        return leg

    def give_input(self, sid: str, *, digits: str | None = None,
                   speech: str | None = None) -> None:
        """Keys or words from the party on `sid`'s far end (the control API's phone)."""
        leg = self.call(sid)
        if leg.ended:
            raise CarrierError(409, 21220, f"call {sid} has ended")
        for value in (digits, speech):
            if value:
                leg.line.give(value)

    def hang_up(self, sid: str, by: str = "caller") -> CallLeg:
        leg = self.call(sid)
        if not leg.ended:
            self._end_from_outside(leg, by)
        return leg

    def _end_from_outside(self, leg: CallLeg, by: str) -> None:
        if leg.parent_sid:
            parent = self.call(leg.parent_sid)  # the parent's <Dial> drives this leg
            parent.line.signal("cancel" if by == "api" else "hangup", leg.sid)
        else:
            leg.line.hang_up(by)

    # -- the engine's side -----------------------------------------------------------------

    def progress(self, leg: CallLeg, event: str) -> None:
        """Move `leg` to initiated, ringing or answered and send its status callback."""
        with self.lock:
            if event == "ringing":
                leg.status = "ringing"
                leg.touch()
            elif event == "answered":
                leg.answered()
            params = self._status_params(leg, event)
        if event == "answered":
            leg.line.emit("status", status="in-progress")
        if params is not None and leg.status_callback:
            if event == "initiated":
                params["CallStatus"] = "initiated"
            self.webhooks.notify(leg.status_callback, leg.status_callback_method, params,
                                 call_sid=leg.sid)

    def end_leg(self, leg: CallLeg, status: str, *, by: str) -> None:
        """The leg's final status, its `completed` callback (once) and the end of its line."""
        with self.lock:
            if leg.ended:
                return
            leg.close(status)
            params = self._status_params(leg, "completed")
        leg.line.emit("hangup", by=by, status=status)
        if params is not None and leg.status_callback:
            self.webhooks.notify(leg.status_callback, leg.status_callback_method, params,
                                 call_sid=leg.sid)
        leg.line.finish()

    def _status_params(self, leg: CallLeg, event: str) -> dict[str, str] | None:
        if event not in leg.status_events:
            return None
        return status_params(leg)

    def open_dial_leg(self, parent: CallLeg, noun: Noun, caller_id: str) -> CallLeg:
        """A <Dial>'s child leg to `noun`, rung by the device registered for it."""
        leg = self._new_leg(caller_id, noun.to, "outbound-dial", parent_sid=parent.sid)
        identity = endpoint_identity(noun.to)
        with self.lock:
            callee = self._callees.get(noun.to)
            registered = identity in self._devices
        if callee is not None and not registered:
            # A person at a number (a callback's customer): they answer as their script says.
            leg.party = copy.deepcopy(callee)
        else:
            leg.device = self._ring_device(identity)
        leg.status_callback = noun.status_callback
        leg.status_callback_method = noun.status_callback_method
        leg.status_events = noun.status_events
        with self.lock:
            self._calls[leg.sid] = leg
        return leg

    def join_queue(self, name: str, sid: str) -> CarrierQueue | None:
        """Put `sid` last in queue `name` (created on demand); None when the queue is full."""
        with self.lock:
            queue = self._queues.setdefault(name, CarrierQueue(name))
            if len(queue.members) >= queue.max_size:
                return None
            queue.members.append(sid)
            return queue

    def leave_queue(self, queue: CarrierQueue, sid: str, waited: float) -> None:
        with self.lock:
            if sid in queue.members:
                queue.members.remove(sid)
                queue.waits.append(waited)

    def queue_members(self, name: str) -> list[str]:
        with self.lock:
            queue = self._queues.get(name)
            return list(queue.members) if queue else []

    def media_seconds(self, url: str, *, call_sid: str) -> float:
        """How long <Play> of `url` lasts: a WAV's own length, else a nominal few seconds."""
        with self.lock:
            if url in self._media:
                return self._media[url] or NOMINAL_MEDIA_SECONDS
        seconds = None
        try:
            response = self.webhooks.session.get(url, timeout=self.webhooks.timeout)
            if response.ok:
                seconds = audio.wav_seconds(response.content)
            else:
                self._add_error({"call_sid": call_sid, "url": url, "code": 11200, "fatal": False,
                                 "message": f"<Play> media answered {response.status_code}"})
        except requests.RequestException as exc:
            self._add_error({"call_sid": call_sid, "url": url, "code": 11200, "fatal": False,
                             "message": f"<Play> media: {exc}"})
        with self.lock:
            self._media[url] = seconds
        return seconds or NOMINAL_MEDIA_SECONDS

    # -- errors ----------------------------------------------------------------------------

    @property
    def errors(self) -> list[dict[str, Any]]:
        """What went wrong with the service's answers (Twilio's debugger): each with call_sid,
        url, code, message and fatal (whether the call ended because of it)."""
        with self.lock:
            return [dict(error) for error in self._errors]

    def record_error(self, exc: ApplicationError, call_sid: str, *, fatal: bool) -> None:
        error = error_record(exc, call_sid)
        error["fatal"] = fatal
        self._add_error(error)

    def _add_error(self, error: dict[str, Any]) -> None:
        log.warning("offline carrier: %s %s: %s", error.get("code"), error.get("url"),
                    error.get("message"))
        with self.lock:
            self._errors.append(error)

    # -- devices and callees ---------------------------------------------------------------

    def set_device(self, device: Device) -> Device:
        """How an endpoint (a client identity, a SIP URI, a number) answers when rung."""
        with self.lock:
            self._devices[device.identity] = device
        return device

    def device_for(self, identity: str) -> Device:
        with self.lock:
            registered = self._devices.get(identity)
        if registered is not None:
            return copy.copy(registered)
        return dataclasses.replace(UNREGISTERED[self.unregistered_clients], identity=identity)

    def _ring_device(self, identity: str) -> Device:
        """The device as it behaves on the call being rung now: with its own talk time, drawn
        from the registered device's distribution."""
        with self.lock:
            registered = self._devices.get(identity)
            if registered is None or registered.talk_distribution == "fixed":
                return self.device_for(identity)
            return dataclasses.replace(registered, talk_time=registered.next_talk_time(),
                                       talk_distribution="fixed", seed=None)

    def device_calls(self, identity: str) -> list[CallLeg]:
        """Calls ringing or connected on the device, newest first."""
        return [leg for leg in self.calls(active=True)
                if leg.direction != "inbound" and endpoint_identity(leg.to) == identity
                and leg.status in ("ringing", "in-progress")]

    def device_action(self, identity: str, sid: str, action: str) -> CallLeg:
        """The person at a manual device answers, declines or hangs up call `sid`."""
        leg = self.call(sid)
        if leg.direction == "inbound" or endpoint_identity(leg.to) != identity:
            raise CarrierError(404, 20404, f"call {sid} is not ringing device {identity}")
        if action not in ("answer", "decline", "hangup"):
            raise CarrierError(400, 21218, f"unknown action {action!r}")
        if leg.ended:
            raise CarrierError(409, 21220, f"call {sid} has ended")
        if leg.status == "in-progress" and action == "answer":
            return leg
        driver = self.call(leg.parent_sid).line if leg.parent_sid else leg.line
        if leg.status == "in-progress" and not leg.parent_sid:
            leg.line.hang_up("agent")
        else:
            driver.signal(action, sid)
        return leg

    def set_callee(self, number: str, script: CallerScript) -> None:
        """How the person at `number` behaves when an outbound call rings them."""
        with self.lock:
            self._callees[number] = copy.deepcopy(script)

    # -- lifecycle -------------------------------------------------------------------------

    def _new_leg(self, from_: str, to: str, direction: str,
                 parent_sid: str | None = None) -> CallLeg:
        return CallLeg(sid=new_sid("CA"), account_sid=self.account_sid, from_=from_, to=to,
                       direction=direction, line=Line(self.speed), parent_sid=parent_sid)

    def _start(self, leg: CallLeg, session: CallSession) -> None:
        with self.lock:
            if self._stopping:
                raise CarrierError(503, 20503, "the offline carrier is shutting down")
            self._calls[leg.sid] = leg
            leg.thread = threading.Thread(target=session.run, name=f"sim-{leg.sid[:12]}",
                                          daemon=True)
        leg.thread.start()

    def shutdown(self, timeout: float = 5.0) -> None:
        """End every call and wait for their threads; no webhooks are sent from here on."""
        with self.lock:
            self._stopping = True
            legs = list(self._calls.values())
        self.webhooks.stopped.set()
        self.messages.stop()
        for leg in legs:
            leg.line.hang_up("carrier")
        deadline = time.monotonic() + timeout
        for leg in legs:
            if leg.thread is not None:
                leg.thread.join(max(0.0, deadline - time.monotonic()))
