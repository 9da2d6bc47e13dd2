"""A first whole call through the offline carrier over real HTTP."""

from sqlalchemy import select

from ivr.calls.models import Call
from ivr.routing.agents import add_agent
from ivr.routing.presence import set_state
from ivr.sim import CallerScript, Device

from support import wait_for


def test_a_billing_caller_reaches_the_billing_agent(live):
    rt = live.runtime
    with live.db.transaction() as session:
        agent = add_agent(session, name="alice", endpoint="client:alice",
                          skills={"billing": 2}, now=rt.clock.now())
        set_state(session, agent=agent, state="available", now=rt.clock.now())
    live.carrier.set_device(Device("alice", mode="auto", answer_after=1, talk_time=5))
    if True:
        script = CallerScript(answers=["1", None, "billing"])
        sid = live.carrier.place_call("+15551239999", caller=script)

        def outcome():
            with live.db.transaction() as session:
                call = session.scalar(select(Call).where(Call.sid == sid))
                return call and call.status == "completed" and call.outcome

        assert wait_for(outcome, timeout=60, what="the call to end") == "answered"
    assert live.carrier.errors == []
