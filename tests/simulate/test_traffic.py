"""The simulator's parts on their own: the traffic a seed draws, the routes through the flow,
how a call's events make its one outcome, the figures, and the carrier's per-call talk
times."""

from __future__ import annotations

from statistics import fmean

import pytest

from callflows.loader import load_flow
from ivr.settings import DEFAULT_FLOW
from ivr.sim.callers import Device
from ivr.sim.carrier import Carrier
from ivr.sim.resources import CarrierQueue
from ivr.sim.rest import create_carrier_app
from ivr.traffic.outcomes import CallResult, classify, queue_start
from ivr.traffic.plan import PlanError, TrafficPlan, draw_calls, parse_skills
from ivr.traffic.report import figures
from ivr.traffic.routes import routes


def plan(**changes) -> TrafficPlan:
    values = dict(
        calls=2000,
        agents=2,
        arrival_rate=2.0,
        handle_time=30.0,
        patience=60.0,
        skills=(("billing", 3.0), ("general", 1.0)),
        seed=5,
    )
    values.update(changes)
    return TrafficPlan(**values)


def test_the_same_seed_draws_the_same_traffic_and_another_seed_other_traffic():
    first, again = draw_calls(plan(), number_base=0), draw_calls(plan(), number_base=0)
    assert first == again
    assert draw_calls(plan(seed=6), number_base=0) != first


def test_arrivals_skills_and_patience_follow_the_plan():
    calls = draw_calls(plan(), number_base=0)
    gaps = [b.at - a.at for a, b in zip(calls, calls[1:], strict=False)]
    assert fmean(gaps) == pytest.approx(0.5, rel=0.1)  # 2 calls a second
    assert all(gap >= 0 for gap in gaps)
    assert fmean(c.patience for c in calls) == pytest.approx(60, rel=0.1)
    billing = sum(c.skill == "billing" for c in calls) / len(calls)
    assert billing == pytest.approx(0.75, abs=0.05)
    assert len({c.number for c in calls}) == len(calls)


def test_skills_parse_with_weights_and_name_the_option_when_wrong():
    assert parse_skills("billing:3, general") == (("billing", 3.0), ("general", 1.0))
    with pytest.raises(PlanError) as error:
        parse_skills("billing,billing")
    assert error.value.option == "--skills" and "named twice" in str(error.value)
    with pytest.raises(PlanError, match="--handle-time"):
        plan(handle_time=0)


def test_routes_walk_the_default_flow_to_each_skills_queue():
    found = routes(load_flow(DEFAULT_FLOW))
    assert {name: r.answers for name, r in found.items()} == {
        "billing": ("1", None, "1"),
        "technical": ("1", None, "2", "1"),
        "outage": ("1", None, "3"),
        "general": ("0",),
    }
    assert found["outage"].queue_node == "outage_queue"


def ev(seq, kind, t, **fields):
    return {"seq": seq, "type": kind, "t": t, **fields}


CALL = draw_calls(plan(calls=1), number_base=0)[0]


def test_an_answered_call_waits_from_the_queue_document_to_the_agent():
    events = [
        ev(1, "gather", 5.0),
        ev(2, "say", 5.2, text="Connecting you"),
        ev(3, "enqueued", 7.0),
        ev(4, "dequeued", 9.0, result="redirected"),
        ev(5, "dial", 12.0),
        ev(6, "answered", 14.0, to="client:ann", call_sid="CAx"),
        ev(7, "hangup", 50.0, by="service"),
    ]
    assert queue_start(events) == 5.2
    result = classify(CALL, "CA1", events)
    assert (result.outcome, result.agent, result.agent_leg) == ("answered", "ann", "CAx")
    assert result.wait == pytest.approx(8.8) and result.talk == pytest.approx(36.0)


@pytest.mark.parametrize(
    ("events", "outcome"),
    [
        ([ev(1, "gather", 1), ev(2, "enqueued", 3), ev(3, "hangup", 40, by="caller")], "abandoned"),
        ([ev(1, "gather", 1), ev(2, "hangup", 2, by="caller")], "ivr_hangup"),
        ([ev(1, "error", 1, text="11200: down"), ev(2, "hangup", 4, by="carrier")], "error"),
        ([ev(1, "record", 1), ev(2, "hangup", 30, by="service")], "voicemail"),
        (
            [ev(1, "dequeued", 1, result="queue-full"), ev(2, "hangup", 2, by="service")],
            "queue_full",
        ),
        ([ev(1, "gather", 1), ev(2, "enqueued", 3)], "unfinished"),
        ([ev(1, "say", 1), ev(2, "hangup", 2, by="service")], "other"),
    ],
)
def test_each_ended_call_gets_exactly_one_outcome(events, outcome):
    assert classify(CALL, "CA1", events).outcome == outcome


def result(outcome, wait=None, talk=None, skill="billing") -> CallResult:
    return CallResult(1, skill, "+15550000001", "CA1", outcome, wait=wait, talk=talk)


def test_figures_count_every_outcome_and_measure_the_queued_calls():
    results = [
        result("answered", 10, 30),
        result("answered", 30, 50),
        result("abandoned", 45),
        result("ivr_hangup"),
        result("error"),
    ]
    found = figures(results, threshold=20)
    assert found == {
        "offered": 5,
        "answered": 2,
        "abandoned": 1,
        "other": 2,
        "outcomes": {"abandoned": 1, "answered": 2, "error": 1, "ivr_hangup": 1},
        "answered_within_service_level": 1,
        "service_level": round(1 / 3, 4),
        "abandon_rate": round(1 / 3, 4),
        "average_speed_of_answer": 20.0,
        "average_handle_time": 40.0,
        "longest_wait": 45.0,
    }
    assert figures([], threshold=20)["service_level"] is None


def test_an_exponential_device_draws_a_talk_time_per_call_from_its_seed():
    device = Device("ann", talk_time=40, talk_distribution="exponential", seed=3)
    draws = [device.next_talk_time() for _ in range(3000)]
    assert fmean(draws) == pytest.approx(40, rel=0.08)
    again = Device("ann", talk_time=40, talk_distribution="exponential", seed=3)
    assert [again.next_talk_time() for _ in range(5)] == draws[:5]
    assert Device("bob", talk_time=40).next_talk_time() == 40
    with pytest.raises(ValueError, match="talk_distribution"):
        Device("bob", talk_distribution="normal")


@pytest.fixture
def carrier():
    sim = Carrier(
        account_sid="AC" + "1" * 32,
        auth_token="t",
        speed=10,
        voice_url="http://127.0.0.1:9/voice/incoming",
        status_callback_url="http://127.0.0.1:9/voice/status",
    )
    yield sim
    sim.shutdown()


def test_the_control_api_tells_the_speed_and_takes_a_talk_time_distribution(carrier):
    client = create_carrier_app(carrier).test_client()
    assert client.get("/carrier").json == {
        "speed": 10,
        "number": carrier.number,
        "max_queue_size": 1000,
    }
    put = client.put(
        "/devices/ann",
        json={"mode": "auto", "talk_time": 20, "talk_distribution": "exponential", "seed": 9},
    )
    assert put.status_code == 200
    assert put.json["talk_distribution"] == "exponential" and put.json["seed"] == 9
    rung = [carrier._ring_device("ann").talk_time for _ in range(3)]
    expected = Device("x", talk_time=20, talk_distribution="exponential", seed=9)
    assert rung == [expected.next_talk_time() for _ in range(3)]
    assert carrier.device_for("ann").talk_distribution == "exponential"
    bad = client.put("/devices/ann", json={"talk_distribution": "gaussian"})
    assert bad.status_code == 400 and "talk_distribution" in bad.json["error"]
    assert client.put("/devices/ann", json={"seed": "x"}).status_code == 400


def test_a_carrier_queue_holds_a_thousand_callers():
    assert CarrierQueue("support").max_size == 1000


def test_callback_takers_are_drawn_apart_from_the_rest_of_the_traffic():
    without = draw_calls(plan(calls=400), number_base=0)
    half = draw_calls(plan(calls=400, callback_rate=0.5), number_base=0)
    assert [(c.at, c.skill, c.patience) for c in half] == [
        (c.at, c.skill, c.patience) for c in without]
    assert not any(c.accepts_callback for c in without)
    assert sum(c.accepts_callback for c in half) / 400 == pytest.approx(0.5, abs=0.08)
    assert all(c.accepts_callback for c in draw_calls(plan(calls=50, callback_rate=1),
                                                       number_base=0))
    with pytest.raises(PlanError, match="--callback-rate"):
        plan(callback_rate=1.5)


@pytest.mark.parametrize("hour", range(0, 24, 3))
def test_callers_have_callable_numbers_where_it_is_daytime(hour):
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    import phonenumbers
    from phonenumbers import timezone as number_timezones

    at = datetime(2026, 7, 6, hour, 10, tzinfo=UTC)
    calls = draw_calls(plan(calls=50), number_base=9_999_990, at=at)
    assert len({c.number for c in calls}) == 50
    for call in calls:
        parsed = phonenumbers.parse(call.number, None)
        assert phonenumbers.is_valid_number(parsed), call.number
        (zone,) = number_timezones.time_zones_for_number(parsed)
        assert 11 <= at.astimezone(ZoneInfo(zone)).hour <= 18, (call.number, zone)


def test_a_caller_who_took_the_offer_and_was_let_go_has_the_callback_outcome():
    taker = draw_calls(plan(calls=1, callback_rate=1), number_base=0)[0]
    events = [
        ev(1, "gather", 5.0),
        ev(2, "enqueued", 6.0),
        ev(3, "gather", 40.0),  # the offer: 1, keep my place
        ev(4, "gather", 44.0),  # the number: 1, this one
        ev(5, "say", 46.0, text="We'll call you back"),
        ev(6, "hangup", 48.0, by="service", status="completed"),
    ]
    found = classify(taker, "CA1", events)
    assert (found.outcome, found.callback_offered, found.wait) == ("callback", True, 42.0)
    # The same events from a caller who never takes callbacks: not a callback.
    assert classify(CALL, "CA1", events).outcome != "callback"
    # Offered but hanging up themselves: abandoned, and the offer is noted.
    hung_up = [*events[:3], ev(4, "hangup", 41.0, by="caller", status="completed")]
    assert (classify(taker, "CA1", hung_up).outcome,
            classify(taker, "CA1", hung_up).callback_offered) == ("abandoned", True)
