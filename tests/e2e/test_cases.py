"""Cases through the offline carrier: a caller is answered, the case opens, they hear its
number and get a text; they phone again, key the number and reach the owner, whose screen pop
shows the case; an outage message plays first and its subscribers get a text when cleared."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ivr.cases import service as cases
from ivr.cases.models import Case, CaseCall

from flowpaths import TO_BILLING
from support import wait_for

DANA = "+12125550131"
EVAN = "+12125550132"


@pytest.fixture
def case_center(center_factory):
    # The customer's local hours include any hour the tests run, so texts go at once.
    return center_factory(customer_hours="00:00-24:00")


def heard(center, sid: str) -> str:
    return " ".join(e.get("text", "") for e in center.carrier.call(sid).line.events()
                    if e["type"] == "say")


def texts_to(center, number: str) -> list[str]:
    return [m.body for m in center.carrier.messages.list(to=number)]


def case_of_call(center, sid: str) -> Case | None:
    with center.live.db.transaction() as session:
        call_id = center.call_row(sid).id
        return session.scalar(select(Case).join(CaseCall).where(CaseCall.call_id == call_id))


def test_the_case_opens_is_told_texted_and_named_again_to_reach_its_owner(case_center):
    center = case_center
    center.agent("ann", {"billing": 3}, talk_time=5)
    first = center.call(TO_BILLING, DANA)
    center.ended(first)
    case = wait_for(lambda: case_of_call(center, first), what="the case")
    assert (case.status, case.subject) == ("in-progress", "billing")
    assert case.first_response_at is not None
    digits = " ".join(case.number)
    assert f"Your case number is {digits}" in heard(center, first)
    texts = wait_for(lambda: texts_to(center, DANA), what="the text")
    assert case.number in texts[0] and "ann has your request" in texts[0]

    # Ann is busy elsewhere for a moment; Dana calls back and keys the case number.
    center.set_state("ann", "not-ready", "lunch")
    second = center.call(["1", case.number], DANA)
    wait_for(lambda: center.waiting(second), what="Dana waiting for her case's team")
    assert center.entry(second).priority == center.live.runtime.cases.router_priority["P3"]
    assert case_of_call(center, second).number == case.number
    wait_for(lambda: "team that has your case" in heard(center, second),
             what="Dana told she goes to her case's team")
    center.set_state("ann", "available")
    ann = center.agent_id("ann")
    pop = wait_for(lambda: (r := center.api("GET", f"/api/agents/{ann}/call", as_="ann"))
                   .status_code == 200 and r.json(), what="Ann's screen pop")
    assert pop["case"]["number"] == case.number
    assert pop["case"]["calls"] == 2
    center.ended(second)
    assert center.answered_by(second) == ["ann"]
    assert "main menu" not in heard(center, second)


def test_a_known_caller_confirms_their_open_case_and_reaches_its_owner_directly(case_center):
    center = case_center
    center.agent("ann", {"billing": 3}, talk_time=5)
    first = center.call(TO_BILLING, EVAN)
    center.ended(first)
    case = wait_for(lambda: case_of_call(center, first), what="the case")
    again = center.call(["1", "1"], EVAN)  # English, then "yes, about that case"
    center.ended(again)
    assert f"Are you calling about your case {' '.join(case.number)}" in heard(center, again)
    assert "Connecting you to ann, who has your case" in heard(center, again)
    assert center.answered_by(again) == ["ann"]
    with center.live.db.transaction() as session:
        assert len(cases.timeline_calls(session, cases.by_number(session, case.number))) == 2


def test_an_outage_message_plays_first_and_subscribers_get_a_text_when_cleared(case_center):
    center = case_center
    center.agent("ann", {"billing": 3}, available=False)
    declared = center.api("POST", "/api/incidents",
                          json={"subject": "billing",
                                "message": "Our billing system is down; we are on it."})
    assert declared.status_code == 201, declared.text
    incident = declared.json()["id"]
    sid = center.call([*TO_BILLING, "1"], DANA, patience=4)  # 1: text me when it is fixed
    center.ended(sid)
    said = heard(center, sid)
    assert said.index("Our billing system is down") < said.index("number 1 in line") if (
        "number 1 in line" in said) else "Our billing system is down" in said
    assert "text you when it is fixed" in said
    with center.live.db.transaction() as session:
        linked = session.scalar(select(Case).join(CaseCall).where(
            CaseCall.call_id == center.call_row(sid).id, Case.incident_id == incident))
    assert linked is not None, "the call joined the incident's case"
    cleared = center.api("POST", f"/api/incidents/{incident}/clear",
                         json={"message": "Payments work again."})
    assert cleared.json()["texts"] == 1
    fixed = wait_for(lambda: [t for t in texts_to(center, DANA) if "fixed" in t],
                     what="the text that it is fixed")
    assert "Payments work again." in fixed[0]
    # A caller after the incident was cleared does not hear it.
    after = center.call([*TO_BILLING], EVAN, patience=2)
    center.ended(after)
    assert "billing system is down" not in heard(center, after)
