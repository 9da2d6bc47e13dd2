"""The rules for calling customers back, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

# The end of customer hours that means "until midnight" (24:00): a day has no later time, and
# 23:59 would leave a minute a day when around-the-clock hours text and call no one.
END_OF_DAY = time.max


@dataclass(frozen=True)
class CallbackPolicy:
    max_attempts: int = 3
    attempt_spacing: timedelta = timedelta(minutes=10)
    # The dialler's manners.
    calls_per_second: float = 1.0  # Twilio's default outbound rate
    customer_hours: tuple[time, time] = (time(8, 0), time(21, 0))  # local; the end is exclusive
    # Scheduled callbacks enter the router at their slot with their priority raised.
    scheduled_priority_raise: int = 2
    slot_minutes: int = 30
    slots_offered: int = 3
    # A share of the agents' time kept for live callers when counting a slot's capacity.
    slot_utilisation: float = 0.5
    # The same-day follow-up rule.
    follow_up_cutoff: timedelta = timedelta(0)  # due this long before the close
    escalate_before: timedelta = timedelta(hours=1)
    follow_up_priority: int = 0
    escalation_priority_raise: int = 3
    ring_timeout: int = 25
    # An agent hung up a callback before the customer answered: it waits this long before it
    # is offered again (to anyone), so it does not ring the same agent again at once.
    agent_hang_up_hold: timedelta = timedelta(minutes=1)

