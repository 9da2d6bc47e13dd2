"""The business calendar: when the call center is open, which days are business days, and how
much open time lies between two moments.

Pure domain: no clock, no settings, no database. Every datetime going in must be aware; every
datetime coming out is aware UTC. Opening hours are local wall-clock times in the calendar's
timezone, so a day with a DST change simply has a shorter or longer stretch of night.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MINUTES_PER_DAY = 24 * 60
# How far the calendar looks for the next open minute before deciding it never opens.
SEARCH_DAYS = 2 * 366

_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE = r"\d{4}-\d{2}-\d{2}"
_DATETIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}"


class CalendarError(ValueError):
    """A calendar that cannot be built or used; the message says what to fix."""


@dataclass(frozen=True, order=True)
class OpeningHours:
    """One stretch of opening hours on a weekday, in minutes after local midnight.
    `closes` may be 1440 (24:00): open until the end of the day."""

    opens: int
    closes: int

    def __str__(self) -> str:
        return f"{_hhmm(self.opens)}-{_hhmm(self.closes)}"


@dataclass(frozen=True)
class Closure:
    """A one-off closure between two aware moments (start included, end excluded)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours per weekday (Monday first), public holidays of a country (from the
    `holidays` package), extra closed dates and one-off closures, in one IANA timezone."""

    timezone: str = "UTC"
    weekly: tuple[tuple[OpeningHours, ...], ...] = ((),) * 7
    holidays_country: str | None = None
    holidays_subdiv: str | None = None
    closed_days: frozenset[date] = frozenset()
    closures: tuple[Closure, ...] = ()
    tz: ZoneInfo = field(init=False, repr=False, compare=False)
    _holidays: holidays_package.HolidayBase | None = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "tz", _zone(self.timezone))
        object.__setattr__(self, "_holidays", _holiday_table(self.holidays_country,
                                                             self.holidays_subdiv))
        if len(self.weekly) != 7:
            raise CalendarError("weekly hours need exactly 7 days, Monday first")
        if not any(self.weekly):
            raise CalendarError("the calendar has no opening hours on any day")

    @classmethod
    def from_spec(
        cls,
        timezone: str = "UTC",
        hours: str = "mon-fri 08:00-18:00",
        holidays_country: str | None = None,
        holidays_subdiv: str | None = None,
        closed: Iterable[str] = (),
    ) -> BusinessCalendar:
        """Build a calendar from the compact texts used in settings and flow files.

        `hours`: `"mon-fri 08:00-18:00; sat 09:00-12:30"`, `"mon-sun 00:00-24:00"` or `"always"`.
        `closed`: dates `YYYY-MM-DD`, date ranges `YYYY-MM-DD/YYYY-MM-DD` (both days closed) and
        local ranges `YYYY-MM-DDTHH:MM/YYYY-MM-DDTHH:MM`. Raises CalendarError naming the part
        of the text that is wrong."""
        tz = _zone(timezone)
        days: set[date] = set()
        closures: list[Closure] = []
        for text in closed:
            parsed = parse_closure(text, tz)
            if isinstance(parsed, Closure):
                closures.append(parsed)
            else:
                days.update(parsed)
        return cls(
            timezone=timezone,
            weekly=parse_hours(hours),
            holidays_country=holidays_country,
            holidays_subdiv=holidays_subdiv,
            closed_days=frozenset(days),
            closures=tuple(sorted(closures, key=lambda c: c.start)),
        )

    # --- days -----------------------------------------------------------------------------

    def holiday_name(self, day: date) -> str | None:
        """Why `day` is closed as a whole (a public holiday or a closed date), or None."""
        if day in self.closed_days:
            return "closed"
        if self._holidays is not None:
            return self._holidays.get(day)
        return None

    def open_intervals(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open stretches of a local date as UTC (start, end) pairs, in order, after
        holidays and closures are taken out."""
        if self.holiday_name(day) is not None:
            return []
        intervals = []
        for hours in self.weekly[day.weekday()]:
            start = _local(day, hours.opens, self.tz)
            end = _local(day, hours.closes, self.tz)
            intervals.extend(_subtract(start, end, self.closures))
        return [(s, e) for s, e in intervals if s < e]

    def is_business_day(self, day: date) -> bool:
        """True when the date has opening hours left after holidays and closures."""
        return bool(self.open_intervals(day))

    def next_business_day(self, day: date) -> date:
        """The first business day after `day` (never `day` itself)."""
        for offset in range(1, SEARCH_DAYS + 1):
            candidate = day + timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise CalendarError(f"no business day in the {SEARCH_DAYS} days after {day}")

    def local_date(self, at: datetime) -> date:
        """The calendar date of a moment in the business timezone."""
        return _aware(at).astimezone(self.tz).date()

    # --- moments --------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """True when `at` falls in opening hours (a stretch includes its opening minute and
        excludes its closing minute)."""
        moment = _aware(at).astimezone(UTC)
        return any(s <= moment < e for s, e in self.open_intervals(self.local_date(moment)))

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when open, else the next moment the line opens."""
        moment = _aware(at).astimezone(UTC)
        for start, end in self._intervals_from(moment):
            if end > moment:
                return max(start, moment)
        raise AssertionError("unreachable: _intervals_from never ends")

    def close_of_business_day(self, at: datetime) -> datetime:
        """The deadline of the same-day follow-up rule for something that happened at `at`:
        the last close of `at`'s local date when that date is a business day and `at` is before
        its last close; otherwise the last close of the next business day."""
        moment = _aware(at).astimezone(UTC)
        day = self.local_date(moment)
        intervals = self.open_intervals(day)
        if intervals and moment < intervals[-1][1]:
            return intervals[-1][1]
        return self.open_intervals(self.next_business_day(day))[-1][1]

    def add_business_time(self, start: datetime, delta: timedelta) -> datetime:
        """The moment when `delta` of open time has passed after `start`, counting only
        opening hours. A zero delta gives the next open moment."""
        if delta < timedelta(0):
            raise ValueError("add_business_time needs a delta of zero or more")
        moment = _aware(start).astimezone(UTC)
        remaining = delta
        for open_, close in self._intervals_from(moment):
            if close <= moment:
                continue
            begin = max(open_, moment)
            if remaining <= close - begin:
                return begin + remaining
            remaining -= close - begin
        raise AssertionError("unreachable: _intervals_from never ends")

    def business_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Open time from `a` to `b`; negative when `b` is before `a`."""
        first, last = _aware(a).astimezone(UTC), _aware(b).astimezone(UTC)
        if last < first:
            return -self.business_time_between(last, first)
        total = timedelta(0)
        day = self.local_date(first)
        while day <= self.local_date(last):
            for open_, close in self.open_intervals(day):
                overlap = min(close, last) - max(open_, first)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def open_windows(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open stretches between `start` and `end`, clipped to them, as UTC pairs; stretches
        that touch (across midnight) come as one."""
        first, last = _aware(start).astimezone(UTC), _aware(end).astimezone(UTC)
        pending: tuple[datetime, datetime] | None = None
        day = self.local_date(first)
        while day <= self.local_date(last):
            for open_, close in self.open_intervals(day):
                window = (max(open_, first), min(close, last))
                if window[0] >= window[1]:
                    continue
                if pending is not None and pending[1] == window[0]:
                    pending = (pending[0], window[1])
                    continue
                if pending is not None:
                    yield pending
                pending = window
            day += timedelta(days=1)
        if pending is not None:
            yield pending

    def _intervals_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Open stretches from the local date of `moment` onwards, without end; raises
        CalendarError when a long search finds none (everything closed)."""
        day = self.local_date(moment)
        empty_days = 0
        while True:
            intervals = self.open_intervals(day)
            empty_days = 0 if intervals else empty_days + 1
            if empty_days > SEARCH_DAYS:
                raise CalendarError(f"the line does not open in the {SEARCH_DAYS} days after {day}")
            yield from intervals
            day += timedelta(days=1)


# --- parsing ------------------------------------------------------------------------------


def parse_hours(text: str) -> tuple[tuple[OpeningHours, ...], ...]:
    """`"mon-fri 08:00-18:00; sat 09:00-12:30"` -> opening hours per weekday, Monday first.
    Several stretches on a day are separated by commas (`mon 08:00-12:00,13:00-17:00`)."""
    spec = text.strip().lower()
    if spec == "always":
        return ((OpeningHours(0, MINUTES_PER_DAY),),) * 7
    week: list[list[OpeningHours]] = [[] for _ in range(7)]
    parts = [part.strip() for part in spec.split(";")]
    if not any(parts):
        raise CalendarError(
            "business hours are empty: write e.g. 'mon-fri 08:00-18:00' or 'always'"
        )
    for part in parts:
        if not part:
            continue
        days_text, _, ranges_text = part.partition(" ")
        if not ranges_text.strip():
            raise CalendarError(
                f"business hours '{part}': expected days then times, e.g. 'mon-fri 08:00-18:00'"
            )
        stretches = [_parse_stretch(r, part) for r in ranges_text.replace(" ", "").split(",")]
        for weekday in _parse_days(days_text, part):
            week[weekday].extend(stretches)
    return tuple(_merge(day) for day in week)


def _parse_days(text: str, part: str) -> list[int]:
    days: list[int] = []
    for item in text.split(","):
        first, dash, last = item.partition("-")
        start = _day_index(first, part)
        if not dash:
            days.append(start)
            continue
        stop = _day_index(last, part)
        # A range may wrap around the week end: fri-mon is Friday to Monday.
        span = (stop - start) % 7
        days.extend((start + offset) % 7 for offset in range(span + 1))
    return days


def _day_index(name: str, part: str) -> int:
    key = name.strip()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in FULL_DAY_NAMES:
        return FULL_DAY_NAMES.index(key)
    raise CalendarError(
        f"business hours '{part}': unknown day '{name}' (use {', '.join(DAY_NAMES)})"
    )


def _parse_stretch(text: str, part: str) -> OpeningHours:
    opens_text, dash, closes_text = text.partition("-")
    if not dash:
        raise CalendarError(f"business hours '{part}': '{text}' is not a range like 08:00-18:00")
    opens = _parse_minutes(opens_text, part, allow_midnight_end=False)
    closes = _parse_minutes(closes_text, part, allow_midnight_end=True)
    if closes <= opens:
        raise CalendarError(
            f"business hours '{part}': '{text}' closes before it opens "
            "(for hours past midnight, split them: 'mon 22:00-24:00; tue 00:00-02:00')"
        )
    return OpeningHours(opens, closes)


def _parse_minutes(text: str, part: str, *, allow_midnight_end: bool) -> int:
    match = _TIME.match(text)
    if match:
        hours, minutes = int(match[1]), int(match[2])
        if (hours, minutes) == (24, 0) and allow_midnight_end:
            return MINUTES_PER_DAY
        if hours < 24 and minutes < 60:
            return hours * 60 + minutes
    raise CalendarError(
        f"business hours '{part}': '{text}' is not a time HH:MM (00:00 to 23:59, 24:00 to close)"
    )


def _merge(stretches: list[OpeningHours]) -> tuple[OpeningHours, ...]:
    merged: list[OpeningHours] = []
    for stretch in sorted(stretches):
        if merged and stretch.opens <= merged[-1].closes:
            last = merged.pop()
            stretch = OpeningHours(last.opens, max(last.closes, stretch.closes))
        merged.append(stretch)
    return tuple(merged)


def parse_closure(text: str, tz: ZoneInfo) -> Closure | set[date]:
    """One closed entry: a date, an inclusive date range, or a local datetime range."""
    spec = text.strip()
    if re.fullmatch(_DATE, spec):
        return {_parse_date(spec, spec)}
    first, slash, last = spec.partition("/")
    if slash and re.fullmatch(_DATE, first) and re.fullmatch(_DATE, last):
        start_day, end_day = _parse_date(first, spec), _parse_date(last, spec)
        if end_day < start_day:
            raise CalendarError(f"closed '{spec}': the range ends before it starts")
        return {start_day + timedelta(days=n) for n in range((end_day - start_day).days + 1)}
    if slash and re.fullmatch(_DATETIME, first) and re.fullmatch(_DATETIME, last):
        start = _parse_local(first, spec, tz)
        end = _parse_local(last, spec, tz)
        if end <= start:
            raise CalendarError(f"closed '{spec}': the range ends before it starts")
        return Closure(start, end)
    raise CalendarError(
        f"closed '{spec}': expected YYYY-MM-DD, YYYY-MM-DD/YYYY-MM-DD "
        "or YYYY-MM-DDTHH:MM/YYYY-MM-DDTHH:MM"
    )


def _parse_date(text: str, spec: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"closed '{spec}': '{text}' is not a real date") from None


def _parse_local(text: str, spec: str, tz: ZoneInfo) -> datetime:
    try:
        local = datetime.fromisoformat(text)
    except ValueError:
        raise CalendarError(f"closed '{spec}': '{text}' is not a real date and time") from None
    return local.replace(tzinfo=tz).astimezone(UTC)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CalendarError(
            f"unknown timezone '{name}': use an IANA name such as 'America/New_York' or 'UTC'"
        ) from None


def _holiday_table(country: str | None, subdiv: str | None) -> holidays_package.HolidayBase | None:
    if not country:
        if subdiv:
            raise CalendarError(f"holiday subdivision '{subdiv}' needs a holidays country")
        return None
    try:
        return holidays_package.country_holidays(country, subdiv=subdiv)
    except NotImplementedError as exc:
        raise CalendarError(f"holidays: {exc} (use an ISO country code such as 'US')") from None


# --- time helpers ---------------------------------------------------------------------------


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"the business calendar needs aware datetimes, got {at!r}")
    return at


def _local(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """A local wall-clock time as UTC. 24:00 is the next midnight; a time skipped by a DST
    change lands where the clock jumped to (02:30 on a spring-forward night is 03:30)."""
    day = day + timedelta(days=minutes // MINUTES_PER_DAY)
    minutes %= MINUTES_PER_DAY
    wall = datetime.combine(day, time(minutes // 60, minutes % 60), tz)
    return wall.astimezone(UTC)


def _subtract(
    start: datetime, end: datetime, closures: tuple[Closure, ...]
) -> list[tuple[datetime, datetime]]:
    pieces = [(start, end)]
    for closure in closures:
        next_pieces = []
        for s, e in pieces:
            if closure.end <= s or closure.start >= e:
                next_pieces.append((s, e))
                continue
            if s < closure.start:
                next_pieces.append((s, closure.start))
            if closure.end < e:
                next_pieces.append((closure.end, e))
        pieces = next_pieces
    return pieces


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
