from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ivr.calendar import BusinessCalendar, CalendarError

NY = ZoneInfo("America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


@pytest.fixture
def calendar() -> BusinessCalendar:
    return BusinessCalendar.from_spec(
        timezone="America/New_York",
        hours="mon-fri 08:00-18:00; sat 09:00-12:30",
        holidays_country="US",
        closed=["2026-12-24", "2026-03-10T14:00/2026-03-10T18:00"],
    )


# --- is_open and day boundaries -------------------------------------------------------------


def test_open_from_the_opening_minute_and_closed_from_the_closing_minute(calendar):
    assert not calendar.is_open(ny(2026, 3, 4, 7, 59))
    assert calendar.is_open(ny(2026, 3, 4, 8, 0))
    assert calendar.is_open(ny(2026, 3, 4, 17, 59))
    assert not calendar.is_open(ny(2026, 3, 4, 18, 0))


def test_is_open_accepts_any_timezone_for_the_moment(calendar):
    assert calendar.is_open(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))  # 08:00 in New York
    assert not calendar.is_open(datetime(2026, 3, 4, 12, 59, tzinfo=UTC))


def test_weekend_hours_follow_the_spec(calendar):
    assert calendar.is_open(ny(2026, 3, 7, 12, 0))  # Saturday morning
    assert not calendar.is_open(ny(2026, 3, 7, 12, 30))
    assert not calendar.is_open(ny(2026, 3, 8, 10, 0))  # Sunday


def test_naive_datetimes_are_refused(calendar):
    with pytest.raises(ValueError, match="aware"):
        calendar.is_open(datetime(2026, 3, 4, 9, 0))


def test_always_is_open_around_the_clock():
    always = BusinessCalendar.from_spec(hours="always")
    assert always.is_open(datetime(2026, 3, 8, 3, 0, tzinfo=UTC))
    assert always.next_open(datetime(2026, 3, 8, 3, 0, tzinfo=UTC)) == datetime(
        2026, 3, 8, 3, 0, tzinfo=UTC
    )


def test_hours_until_24_00_run_to_midnight():
    late = BusinessCalendar.from_spec(hours="mon-sun 18:00-24:00")
    assert late.is_open(datetime(2026, 3, 4, 23, 59, tzinfo=UTC))
    assert not late.is_open(datetime(2026, 3, 5, 0, 0, tzinfo=UTC))


# --- holidays and closures ------------------------------------------------------------------


def test_us_thanksgiving_is_closed_and_not_a_business_day(calendar):
    assert not calendar.is_open(ny(2026, 11, 26, 10, 0))
    assert not calendar.is_business_day(date(2026, 11, 26))
    assert calendar.holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"


def test_an_explicit_closed_date_is_not_a_business_day(calendar):
    assert not calendar.is_business_day(date(2026, 12, 24))
    # The 25th is Christmas; Saturday the 26th opens at 09:00.
    assert calendar.next_open(ny(2026, 12, 24, 9, 0)) == ny(2026, 12, 26, 9, 0)


def test_a_closed_range_closes_only_part_of_the_day(calendar):
    assert calendar.is_open(ny(2026, 3, 10, 13, 59))
    assert not calendar.is_open(ny(2026, 3, 10, 14, 0))
    assert calendar.is_business_day(date(2026, 3, 10))
    assert calendar.next_open(ny(2026, 3, 10, 15, 0)) == ny(2026, 3, 11, 8, 0)


def test_a_closed_date_range_closes_every_day_in_it():
    cal = BusinessCalendar.from_spec(hours="mon-fri 08:00-18:00", closed=["2026-08-03/2026-08-05"])
    assert [cal.is_business_day(date(2026, 8, d)) for d in range(3, 7)] == [
        False, False, False, True,
    ]


def test_weekends_and_days_without_hours_are_not_business_days(calendar):
    assert calendar.is_business_day(date(2026, 3, 7))  # Saturday has hours
    assert not calendar.is_business_day(date(2026, 3, 8))  # Sunday has none


def test_next_business_day_skips_weekends_and_holidays(calendar):
    assert calendar.next_business_day(date(2026, 11, 25)) == date(2026, 11, 27)
    assert calendar.next_business_day(date(2026, 3, 7)) == date(2026, 3, 9)


# --- next_open ------------------------------------------------------------------------------


def test_next_open_is_the_moment_itself_when_open(calendar):
    assert calendar.next_open(ny(2026, 3, 4, 9, 15)) == ny(2026, 3, 4, 9, 15)


def test_next_open_after_hours_is_the_next_morning_in_utc(calendar):
    opens = calendar.next_open(ny(2026, 3, 4, 19, 0))
    assert opens == ny(2026, 3, 5, 8, 0)
    assert opens.tzinfo == UTC


def test_next_open_over_a_weekend_is_monday_morning(calendar):
    assert calendar.next_open(ny(2026, 3, 7, 13, 0)) == ny(2026, 3, 9, 8, 0)


# --- DST ------------------------------------------------------------------------------------


def test_opening_time_is_local_on_both_sides_of_spring_forward():
    cal = BusinessCalendar.from_spec(timezone="America/New_York", hours="mon-sun 08:00-18:00")
    # 2026-03-08 is the spring-forward Sunday: 08:00 EST the day before, 08:00 EDT that day.
    assert cal.next_open(ny(2026, 3, 7, 19, 0)) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
    assert cal.next_open(ny(2026, 3, 6, 19, 0)) == datetime(2026, 3, 7, 13, 0, tzinfo=UTC)


def test_a_24_hour_day_across_spring_forward_has_23_hours_of_business_time():
    cal = BusinessCalendar.from_spec(timezone="America/New_York", hours="always")
    start, end = ny(2026, 3, 8, 0, 0), ny(2026, 3, 9, 0, 0)
    assert cal.business_time_between(start, end) == timedelta(hours=23)


def test_a_24_hour_day_across_fall_back_has_25_hours_of_business_time():
    cal = BusinessCalendar.from_spec(timezone="America/New_York", hours="always")
    start, end = ny(2026, 11, 1, 0, 0), ny(2026, 11, 2, 0, 0)
    assert cal.business_time_between(start, end) == timedelta(hours=25)


def test_business_hours_across_fall_back_stay_at_local_times():
    cal = BusinessCalendar.from_spec(timezone="America/New_York", hours="mon-sun 08:00-18:00")
    # Saturday 17:00 EDT + 2 business hours: 1 hour on Saturday, 1 hour from 08:00 EST Sunday.
    due = cal.add_business_time(ny(2026, 10, 31, 17, 0), timedelta(hours=2))
    assert due == datetime(2026, 11, 1, 14, 0, tzinfo=UTC)  # 09:00 EST


def test_an_opening_time_skipped_by_spring_forward_opens_when_the_clock_lands():
    cal = BusinessCalendar.from_spec(timezone="America/New_York", hours="sun 02:30-05:00")
    assert cal.next_open(ny(2026, 3, 8, 0, 0)) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert cal.next_open(ny(2026, 3, 8, 0, 0)).astimezone(NY).hour == 3


# --- the same-day follow-up deadline --------------------------------------------------------


def test_a_call_during_hours_is_due_by_that_days_close(calendar):
    assert calendar.close_of_business_day(ny(2026, 3, 4, 10, 0)) == ny(2026, 3, 4, 18, 0)


def test_a_call_before_opening_on_a_business_day_is_due_by_that_days_close(calendar):
    assert calendar.close_of_business_day(ny(2026, 3, 4, 6, 30)) == ny(2026, 3, 4, 18, 0)


def test_a_call_after_hours_is_due_by_the_next_business_days_close(calendar):
    assert calendar.close_of_business_day(ny(2026, 3, 4, 18, 0)) == ny(2026, 3, 5, 18, 0)


def test_a_call_on_friday_evening_is_due_saturday_at_its_close(calendar):
    assert calendar.close_of_business_day(ny(2026, 3, 6, 20, 0)) == ny(2026, 3, 7, 12, 30)


def test_a_call_on_a_holiday_is_due_by_the_next_business_days_close(calendar):
    assert calendar.close_of_business_day(ny(2026, 11, 26, 11, 0)) == ny(2026, 11, 27, 18, 0)


def test_the_close_of_a_day_with_a_closure_is_when_the_closure_starts(calendar):
    assert calendar.close_of_business_day(ny(2026, 3, 10, 9, 0)) == ny(2026, 3, 10, 14, 0)
    assert calendar.close_of_business_day(ny(2026, 3, 10, 15, 0)) == ny(2026, 3, 11, 18, 0)


def test_the_close_of_a_split_day_is_its_last_close():
    cal = BusinessCalendar.from_spec(hours="mon-fri 08:00-12:00,13:00-17:00")
    at = datetime(2026, 3, 4, 12, 30, tzinfo=UTC)
    assert cal.close_of_business_day(at) == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)


# --- business time --------------------------------------------------------------------------


def test_business_time_runs_across_the_night(calendar):
    due = calendar.add_business_time(ny(2026, 3, 4, 17, 0), timedelta(hours=3))
    assert due == ny(2026, 3, 5, 10, 0)


def test_business_time_runs_across_a_weekend(calendar):
    # Friday 17:00: 1 hour Friday, 3.5 hours Saturday, then Monday from 08:00.
    due = calendar.add_business_time(ny(2026, 3, 6, 17, 0), timedelta(hours=5))
    assert due == ny(2026, 3, 9, 8, 30)


def test_business_time_started_after_hours_counts_from_the_next_opening(calendar):
    due = calendar.add_business_time(ny(2026, 3, 4, 22, 0), timedelta(hours=1))
    assert due == ny(2026, 3, 5, 9, 0)


def test_business_time_ending_at_a_close_is_due_at_the_close(calendar):
    assert calendar.add_business_time(ny(2026, 3, 4, 16, 0), timedelta(hours=2)) == ny(
        2026, 3, 4, 18, 0
    )


def test_business_time_skips_a_holiday(calendar):
    due = calendar.add_business_time(ny(2026, 11, 25, 17, 0), timedelta(hours=2))
    assert due == ny(2026, 11, 27, 9, 0)


def test_business_time_between_counts_only_open_time(calendar):
    between = calendar.business_time_between(ny(2026, 3, 6, 17, 0), ny(2026, 3, 9, 8, 30))
    assert between == timedelta(hours=5)
    assert calendar.business_time_between(ny(2026, 3, 9, 8, 30), ny(2026, 3, 6, 17, 0)) == -between


def test_adding_and_measuring_business_time_agree(calendar):
    start = ny(2026, 3, 6, 11, 17)
    for hours in (1, 7, 13, 40):
        due = calendar.add_business_time(start, timedelta(hours=hours))
        assert calendar.business_time_between(start, due) == timedelta(hours=hours)


def test_open_windows_lists_each_open_stretch_in_a_range(calendar):
    windows = list(calendar.open_windows(ny(2026, 3, 6, 12, 0), ny(2026, 3, 9, 9, 0)))
    assert windows == [
        (ny(2026, 3, 6, 12, 0), ny(2026, 3, 6, 18, 0)),
        (ny(2026, 3, 7, 9, 0), ny(2026, 3, 7, 12, 30)),
        (ny(2026, 3, 9, 8, 0), ny(2026, 3, 9, 9, 0)),
    ]


def test_open_windows_joins_stretches_that_meet_at_midnight():
    cal = BusinessCalendar.from_spec(hours="mon 20:00-24:00; tue 00:00-02:00")
    windows = list(cal.open_windows(datetime(2026, 3, 2, tzinfo=UTC),
                                    datetime(2026, 3, 4, tzinfo=UTC)))
    assert windows == [(datetime(2026, 3, 2, 20, 0, tzinfo=UTC),
                        datetime(2026, 3, 3, 2, 0, tzinfo=UTC))]


# --- parsing --------------------------------------------------------------------------------


def test_days_can_be_listed_ranged_and_wrapped_around_the_week():
    cal = BusinessCalendar.from_spec(hours="fri-mon 10:00-11:00; wed,thu 09:00-10:00")
    assert [bool(hours) for hours in cal.weekly] == [True, False, True, True, True, True, True]


def test_overlapping_stretches_on_a_day_are_merged():
    cal = BusinessCalendar.from_spec(hours="mon 08:00-12:00; mon 11:00-14:00")
    assert [str(h) for h in cal.weekly[0]] == ["08:00-14:00"]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("mon-fry 08:00-18:00", "unknown day 'fry'"),
        ("mon-fri 8-18", "'8' is not a time HH:MM"),
        ("mon-fri 08:00-25:00", "'25:00' is not a time HH:MM"),
        ("mon-fri 18:00-08:00", "closes before it opens"),
        ("mon-fri", "expected days then times"),
        ("", "business hours are empty"),
        ("sat 09:00", "is not a range like 08:00-18:00"),
    ],
)
def test_bad_hours_name_the_part_that_is_wrong(hours, message):
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar.from_spec(hours=hours)


@pytest.mark.parametrize(
    ("closed", "message"),
    [
        ("2026-02-30", "'2026-02-30' is not a real date"),
        ("24/12/2026", "expected YYYY-MM-DD"),
        ("2026-03-10T18:00/2026-03-10T14:00", "ends before it starts"),
    ],
)
def test_bad_closures_name_the_entry_that_is_wrong(closed, message):
    with pytest.raises(CalendarError, match=message):
        BusinessCalendar.from_spec(closed=[closed])


def test_an_unknown_timezone_is_refused_with_an_example():
    with pytest.raises(CalendarError, match="unknown timezone 'Mars/Olympus'.*America/New_York"):
        BusinessCalendar.from_spec(timezone="Mars/Olympus")


def test_an_unknown_holidays_country_is_refused():
    with pytest.raises(CalendarError, match="holidays: Country XX not available"):
        BusinessCalendar.from_spec(holidays_country="XX")


def test_a_holidays_subdivision_changes_the_holidays():
    california = BusinessCalendar.from_spec(holidays_country="US", holidays_subdiv="CA")
    assert california.holiday_name(date(2026, 3, 31)) is not None  # Cesar Chavez Day
    assert BusinessCalendar.from_spec(holidays_country="US").holiday_name(date(2026, 3, 31)) is None
