"""What the app factory wires together for the handlers: settings, database, clock, flow,
calendar, carrier and the live event bus. Handlers reach it with `current()`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from callback.policy import CallbackPolicy
from ivr.calendar import BusinessCalendar
from ivr.clock import Clock
from ivr.db import Database
from ivr.events import EventBus
from ivr.flowstore import FlowStore
from ivr.routing.policy import RoutingPolicy
from ivr.settings import Settings
from ivr.telephony import Telephony


@dataclass
class Runtime:
    settings: Settings
    db: Database
    clock: Clock
    flows: FlowStore
    calendar: BusinessCalendar
    telephony: Telephony
    bus: EventBus
    policy: RoutingPolicy = field(default_factory=RoutingPolicy)
    callbacks: CallbackPolicy = field(default_factory=CallbackPolicy)
    cases: Any = None  # the CasePolicy (ivr.cases.policy)
    reports: Any = None  # the ReportPolicy (ivr.reports.policy): categories, KPI rules
    scorecards: Any = None  # the Scorecards (ivr.scoring.scorecards) supervisors fill in
    carrier: Any = None  # the offline carrier, in sim mode
    dispatcher: Any = None  # routes and connects; started by `ivr serve`
    timers: Any = None  # the stored timers (ivr.jobs.Timers), when this process keeps them
    recordings: Any = None  # the recording worker: downloads and transcriptions
    # Other processes' call events to the live screens (ivr.eventrelay, ivr.eventfollower).
    relay: Any = None

    def poke_router(self) -> None:
        if self.dispatcher is not None:
            self.dispatcher.poke()

    def stop(self, *, wait: bool = False) -> None:
        """Stop the background parts, the router first so that it offers nothing to a carrier
        that is going away. With `wait`, return only once the downloads and transcriptions in
        progress have finished; without it, those not started are left to the recordings'
        sweep on the next start."""
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.relay is not None:
            self.relay.stop()
        if self.timers is not None:
            self.timers.shutdown()
        if self.carrier is not None:
            self.carrier.shutdown()
        if self.recordings is not None:
            self.recordings.shutdown(wait=wait)


def current() -> Runtime:
    return current_app.extensions["ivr"]
