"""The virtual callers' numbers: real, callable numbers (the dialler refuses others), all in
one timezone where it is the middle of the day now, so that a callback or a same-day
follow-up of the run is allowed into the customer's local hours whenever the run happens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

# Minutes after midnight the chosen zone's clock should be closest to: mid-afternoon sits
# well inside any sensible customer hours (the default is 08:00-21:00).
MIDDAY = 14 * 60 + 30


@dataclass(frozen=True)
class NumberingPlan:
    """Numbers `template.format(first + n % count)`: valid for phonenumbers and in `zone`."""

    zone: str
    template: str
    first: int
    count: int

    def number(self, n: int) -> str:
        return self.template.format(self.first + n % self.count)


# One plan per timezone, spread round the world: for any hour there is one whose local time
# is within 3.5 hours of mid-afternoon. Each template was checked with phonenumbers
# (is_valid_number, and time_zones_for_number gives exactly this zone).
PLANS = (
    NumberingPlan("Pacific/Honolulu", "+1808{:07d}", 2_000_000, 8_000_000),
    NumberingPlan("America/Los_Angeles", "+1213{:07d}", 2_000_000, 8_000_000),
    NumberingPlan("America/Denver", "+1303{:07d}", 2_000_000, 8_000_000),
    NumberingPlan("America/Chicago", "+1312{:07d}", 2_000_000, 8_000_000),
    NumberingPlan("America/New_York", "+1212{:07d}", 2_000_000, 8_000_000),
    NumberingPlan("Europe/Berlin", "+4930{:08d}", 10_000_000, 90_000_000),
    NumberingPlan("Asia/Singapore", "+6563{:06d}", 100_000, 900_000),
    NumberingPlan("Australia/Sydney", "+6129{:07d}", 0, 10_000_000),
)


def plan_for(at: datetime) -> NumberingPlan:
    """The plan whose local time at `at` is nearest mid-afternoon."""
    return min(PLANS, key=lambda plan: _from_midday(at.astimezone(ZoneInfo(plan.zone)).time()))


def _from_midday(local: time) -> int:
    minutes = local.hour * 60 + local.minute
    return min(abs(minutes - MIDDAY), 24 * 60 - abs(minutes - MIDDAY))
