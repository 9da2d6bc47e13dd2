"""`ivr simulate` against a live service through its offline carrier, over real HTTP: every
call ends with exactly one outcome, the report's arithmetic holds, and the service's own
records (/api/calls) tell the same story."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import requests
from sqlalchemy import select

from ivr.calls.models import Call, CallEvent
from ivr.routing.agents import add_agent
from ivr.routing.models import Agent, QueueEntry, Reservation
from ivr.routing.presence import set_state
from ivr.users.service import add_user

SMALL_RUN = (
    "--calls",
    "30",
    "--agents",
    "3",
    "--arrival-rate",
    "0.5",
    "--handle-time",
    "15",
    "--patience",
    "40",
    "--seed",
    "7",
)
FIGURES = {
    "offered",
    "answered",
    "abandoned",
    "other",
    "outcomes",
    "answered_within_service_level",
    "service_level",
    "abandon_rate",
    "average_speed_of_answer",
    "average_handle_time",
    "longest_wait",
}


def test_every_call_has_one_outcome_and_the_service_agrees(service, simulator, database_url):
    result = simulator(*SMALL_RUN, "--json", url=service.url, database_url=database_url)
    report = report_of(result)

    assert set(report) >= {"run", "totals", "skills", "accounting", "service", "calls"}
    assert report["accounting"] == {
        "every_call_has_one_outcome": True,
        "calls": 30,
        "with_one_outcome": 30,
        "unaccounted": [],
        "every_missed_call_followed_up": True,
    }
    calls = report["calls"]
    assert sorted(c["index"] for c in calls) == list(range(1, 31))
    assert len({c["sid"] for c in calls}) == 30
    assert all(c["agrees"] is True for c in calls)

    totals = report["totals"]
    assert set(totals) == FIGURES
    assert totals["offered"] == 30 == sum(totals["outcomes"].values())
    assert totals["answered"] + totals["abandoned"] + totals["other"] == totals["offered"]
    assert totals["answered"] > 0
    for name in ("offered", "answered", "abandoned", "other"):
        assert sum(skill[name] for skill in report["skills"].values()) == totals[name]
    assert set(report["skills"]) <= {"billing", "technical", "outage", "general"}
    for skill, figures in report["skills"].items():
        assert set(figures) == FIGURES
        mine = [c for c in calls if c["skill"] == skill]
        assert figures["offered"] == len(mine)
        assert figures["answered"] == sum(c["outcome"] == "answered" for c in mine)

    answered = [c for c in calls if c["outcome"] == "answered"]
    waits = [c["wait"] for c in calls if c["outcome"] in ("answered", "abandoned")]
    assert all(c["wait"] >= 0 and c["talk"] >= 0 and c["agent"] for c in answered)
    assert totals["longest_wait"] == max(waits)
    within = sum(c["wait"] <= 20 for c in answered)
    assert totals["answered_within_service_level"] == within
    assert totals["service_level"] == round(within / len(waits), 4)
    assert (
        abs(totals["average_speed_of_answer"] - sum(c["wait"] for c in answered) / len(answered))
        < 0.01
    )

    run = report["run"]
    assert (run["calls"], run["agents"], run["seed"], run["speed"]) == (30, 3, 7, 50.0)
    assert run["time_unit"] == "simulated seconds"
    assert run["skills"]["billing"]["answers"] == ["1", None, "1"]
    assert report["service"]["agree"] == 30 and report["service"]["disagree"] == 0
    assert service.carrier.errors == []

    # The service's own records, read here independently of the simulator.
    with service.db.transaction() as session:
        _, token = add_user(
            session, username="checker", password="pw-123", role="supervisor", now=datetime.now(UTC)
        )
    listed = {}
    for day in report["service"]["days"]:
        response = requests.get(
            f"{service.url}/api/calls",
            params={"date": day},
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        listed |= {c["sid"]: c for c in response.json()["calls"]}
    inbound = {sid for sid, c in listed.items() if c["direction"] == "inbound"}
    assert inbound == {c["sid"] for c in calls}
    for call in calls:
        assert listed[call["sid"]]["status"] == "completed"
        assert listed[call["sid"]]["outcome"] == call["outcome"]
        assert listed[call["sid"]]["from"] == call["from"]
    # Callbacks dialled for follow-ups answer on their own queue entries (entry_kind).
    answered_events = _count(service, "call.answered", entry_kind="call")
    assert answered_events == totals["answered"]


def test_other_agents_are_paused_for_the_run_and_given_back(service, simulator, database_url):
    with service.db.transaction() as session:
        now = datetime.now(UTC)
        alice = add_agent(
            session,
            name="alice",
            endpoint="client:alice",
            skills={"billing": 3, "general": 2},
            now=now,
        )
        set_state(session, agent=alice, state="available", now=now)
        session.flush()
        alice_id = alice.id
    result = simulator(
        "--calls",
        "5",
        "--agents",
        "2",
        "--arrival-rate",
        "0.2",
        "--handle-time",
        "5",
        "--json",
        url=service.url,
        database_url=database_url,
    )
    report = report_of(result)
    assert report["agents"] | {"missed_rings": 0} == {
        "simulated": ["sim-agent-01", "sim-agent-02"], "paused": ["alice"],
        "still_on_calls": [], "missed_rings": 0}
    assert {c["agent"] for c in report["calls"] if c["agent"]} <= {"sim-agent-01", "sim-agent-02"}
    with service.db.transaction() as session:
        states = dict(session.execute(select(Agent.name, Agent.state)).all())
        changes = [
            (data["state"], data["by"]) for data in session.scalars(
                select(CallEvent.data)
                .where(CallEvent.kind == "agent.state", CallEvent.agent_id == alice_id)
                .order_by(CallEvent.id))
        ]
        offered = session.scalars(
            select(QueueEntry.kind).join(Reservation, Reservation.entry_id == QueueEntry.id)
            .where(Reservation.agent_id == alice_id)).all()
    assert states["sim-agent-01"] == states["sim-agent-02"] == "offline"
    # Paused while the run lasted, available again at its end: from then on the router may
    # give her a follow-up callback the run left waiting (its agents signed out), nothing
    # else.
    assert changes[:3] == [("available", None), ("not-ready", "sim-supervisor"),
                           ("available", "sim-supervisor")]
    assert set(offered) <= {"callback"}
    assert states["alice"] == "available" or offered


def test_the_text_report_has_the_table_and_says_every_call_is_accounted_for(
    service, simulator, database_url
):
    result = simulator(
        "--calls",
        "6",
        "--agents",
        "2",
        "--arrival-rate",
        "0.3",
        "--handle-time",
        "5",
        "--skills",
        "billing:2,outage",
        url=service.url,
        database_url=database_url,
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "offered" in line)
    assert header.split() == [
        "offered",
        "answered",
        "abandoned",
        "other",
        "SL",
        "20s",
        "ASA",
        "AHT",
        "longest",
    ]
    rows = {line.split()[0]: line.split() for line in lines if line[:1].isalpha()}
    assert rows["all"][1] == "6"
    assert set(rows) >= {"all", "billing", "outage"} and "general" not in rows
    assert "every call has exactly one outcome" in result.stdout
    assert "simulated seconds (carrier speed 50)" in result.stdout
    assert "callbacks: offered" in result.stdout
    assert "missed calls" in result.stdout and "followed up" in result.stdout


def test_callers_who_take_the_offer_are_called_back_and_every_missed_call_is_followed_up(
    service, simulator, database_url
):
    # Few agents, long talks, patient callers: waits grow past the flow's offer thresholds.
    result = simulator(
        "--calls", "16", "--agents", "2", "--arrival-rate", "0.5", "--handle-time", "40",
        "--patience", "400", "--callback-rate", "0.5", "--skills", "billing", "--seed", "3",
        "--json", url=service.url, database_url=database_url,
    )
    report = report_of(result)
    calls = report["calls"]
    taken = [c for c in calls if c["outcome"] == "callback"]
    assert report["run"]["callback_rate"] == 0.5
    assert taken, "some callers were offered a callback and took it"
    assert all(c["callback_offered"] and c["service_outcome"] == "callback" for c in taken)
    assert {c["callback"]["status"] for c in taken} == {"completed"}
    callbacks = report["callbacks"]
    assert callbacks["offered"] == sum(c["callback_offered"] for c in calls)
    assert callbacks["offered"] > callbacks["accepted"] == len(taken)
    assert callbacks["completed"] == len(taken) and callbacks["not_over"] == 0
    assert callbacks["attempts"] >= len(taken)

    follow_ups = report["follow_ups"]
    missed = [c for c in calls if c["outcome"] in ("abandoned", "voicemail")]
    assert follow_ups["missed_calls"] == len(missed) == follow_ups["followed_up"]
    assert follow_ups["not_followed_up"] == []
    assert report["accounting"]["every_missed_call_followed_up"] is True
    (day,) = follow_ups["service"].values()
    # A caller whose patience ran out just as they confirmed the number hung up (abandoned,
    # to them) after the service booked the callback: the service may count one more.
    assert day["callbacks"]["accepted_keep_place"] >= len(taken)
    assert day["missed_calls"] == len(missed)
    assert day["follow_ups"]["created"] == follow_ups["follow_ups"]["created"] == len(
        {c["from"] for c in missed})
    with service.db.transaction() as session:
        from callback.models import Callback

        kept = session.scalars(select(Callback).where(Callback.kind == "keep-place")).all()
        assert {c.number for c in kept} >= {c["from"] for c in taken}
        assert {c.status for c in kept if c.number in {t["from"] for t in taken}} == {
            "completed"}


def report_of(result: Any) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _count(service, kind: str, **data: Any) -> int:
    with service.db.transaction() as session:
        rows = session.scalars(select(CallEvent.data).join(Call).where(CallEvent.kind == kind))
        return sum(all(row.get(k) == v for k, v in data.items()) for row in rows)


def test_virtual_agents_the_service_set_not_ready_are_made_available_again(service):
    """A virtual agent whose ring went unanswered ("missed") takes the next call; one
    not-ready for another reason is left alone."""
    from ivr.traffic.client import ServiceClient
    from ivr.traffic.plan import TrafficPlan
    from ivr.traffic.provision import provision
    from ivr.traffic.runner import Simulation

    now = datetime.now(UTC)
    with service.db.transaction() as session:
        made = provision(session, names=["sim-agent-01", "sim-agent-02"],
                         skills={"billing": 3}, now=now)
        for agent, reason in zip(made.agents, ("missed", "break"), strict=True):
            set_state(session, agent=session.get(Agent, agent.id), state="not-ready", now=now,
                      reason=reason)
    plan = TrafficPlan(calls=1, agents=2, arrival_rate=1, handle_time=5, patience=10,
                       skills=(("billing", 1.0),), seed=1)
    simulation = Simulation(plan, client=ServiceClient(service.url, token=made.token),
                            routes={}, agents=made.agents)
    simulation._revive_missed()
    with service.db.transaction() as session:
        states = {a.name: (a.state, a.state_reason) for a in session.scalars(select(Agent))}
    assert states == {"sim-agent-01": ("available", None), "sim-agent-02": ("not-ready", "break")}
    assert simulation.missed_rings == 1
