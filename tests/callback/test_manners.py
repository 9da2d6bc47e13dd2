"""The dialler's manners: business hours, the customer's local hours, do-not-call, the pace."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from callback import manners
from callback.models import DoNotCall
from callback.policy import END_OF_DAY, CallbackPolicy
from ivr.calendar import BusinessCalendar

NY = ZoneInfo("America/New_York")
CALENDAR = BusinessCalendar.from_spec(timezone="America/New_York", hours="mon-fri 08:00-20:00")
POLICY = CallbackPolicy()
NEW_YORK = "+12125550123"
SAN_FRANCISCO = "+14155550123"


def verdict(db, number, at):
    with db.transaction() as session:
        return manners.may_dial(session, number=number, now=at, calendar=CALENDAR, policy=POLICY)


def test_a_number_in_hours_on_both_sides_may_be_called(db):
    assert verdict(db, NEW_YORK, datetime(2026, 11, 23, 10, 0, tzinfo=NY)).allowed


def test_never_outside_business_hours(db):
    saturday = datetime(2026, 11, 21, 10, 0, tzinfo=NY)
    result = verdict(db, NEW_YORK, saturday)
    assert not result.allowed
    assert "business hours" in result.reason
    assert result.not_before == datetime(2026, 11, 23, 8, 0, tzinfo=NY)


def test_never_outside_the_customers_local_hours(db):
    # 09:00 in New York is 06:00 in San Francisco: wait for 08:00 there (11:00 here).
    result = verdict(db, SAN_FRANCISCO, datetime(2026, 11, 23, 9, 0, tzinfo=NY))
    assert not result.allowed
    assert "local hours" in result.reason
    assert result.not_before == datetime(2026, 11, 23, 11, 0, tzinfo=NY)
    # 19:30 in New York is within both; 21:30 in New York is after our close.
    assert verdict(db, SAN_FRANCISCO, datetime(2026, 11, 23, 19, 30, tzinfo=NY)).allowed


def test_customer_hours_until_midnight_take_in_the_last_minute_of_the_day(db):
    always_open = BusinessCalendar.from_spec(timezone="America/New_York", hours="always")
    late = datetime(2026, 11, 23, 23, 59, 30, tzinfo=NY)
    with db.transaction() as session:
        def allowed(policy):
            return manners.may_dial(session, number=NEW_YORK, now=late, calendar=always_open,
                                    policy=policy).allowed
        assert allowed(CallbackPolicy(customer_hours=(time(0, 0), END_OF_DAY)))
        assert not allowed(CallbackPolicy(customer_hours=(time(0, 0), time(23, 59))))


def test_both_rules_together_find_the_first_time_that_satisfies_both(db):
    # Friday 19:00 in New York: open here, 16:00 in San Francisco. Fine. Friday 20:30: closed
    # here; Monday 08:00 here is 05:00 there: the first common time is Monday 11:00 New York.
    result = verdict(db, SAN_FRANCISCO, datetime(2026, 11, 20, 20, 30, tzinfo=NY))
    assert result.not_before == datetime(2026, 11, 23, 11, 0, tzinfo=NY)


def test_never_a_number_on_the_do_not_call_list(db, clock):
    with db.transaction() as session:
        session.add(DoNotCall(number=NEW_YORK, added_at=clock.now(), reason="asked"))
    result = verdict(db, NEW_YORK, datetime(2026, 11, 23, 10, 0, tzinfo=NY))
    assert not result.allowed
    assert result.not_before is None
    assert "do-not-call" in result.reason


def test_a_number_put_on_the_list_is_refused_in_the_same_transaction(db, clock):
    at = datetime(2026, 11, 23, 10, 0, tzinfo=NY)
    with db.transaction() as session:
        for _ in range(2):  # the second answer is the remembered one
            assert manners.may_dial(session, number=NEW_YORK, now=at, calendar=CALENDAR,
                                    policy=POLICY).allowed
        session.add(DoNotCall(number=NEW_YORK, added_at=clock.now(), reason="asked"))
        assert manners.on_do_not_call(session, NEW_YORK)
    with db.transaction() as session:
        assert not manners.on_do_not_call(session, SAN_FRANCISCO)
        session.add(DoNotCall(number=SAN_FRANCISCO, added_at=clock.now(), reason="asked"))
        session.flush()  # written before it is asked about again
        assert manners.on_do_not_call(session, SAN_FRANCISCO)
    with db.transaction() as session:
        assert manners.on_do_not_call(session, NEW_YORK)
        session.delete(session.get(DoNotCall, NEW_YORK))
        assert not manners.on_do_not_call(session, NEW_YORK)


def test_an_invalid_number_is_never_dialled(db):
    result = verdict(db, "+15551230000", datetime(2026, 11, 23, 10, 0, tzinfo=NY))
    assert not result.allowed and result.not_before is None


def test_outbound_calls_keep_to_the_calls_per_second_limit(db):
    now = datetime(2026, 11, 23, 10, 0, tzinfo=NY)
    with db.transaction() as session:
        delays = [manners.take_dial_slot(session, now=now, policy=POLICY) for _ in range(4)]
    assert delays == [0.0, 1.0, 2.0, 3.0]
    fast = CallbackPolicy(calls_per_second=4)
    later = now + timedelta(seconds=10)
    with db.transaction() as session:
        delays = [manners.take_dial_slot(session, now=later, policy=fast) for _ in range(3)]
    assert delays == [0.0, 0.25, 0.5]
