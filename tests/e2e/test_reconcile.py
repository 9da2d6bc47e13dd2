"""A call whose final status callback was lost is ended by asking the carrier, through the
Twilio client against the offline carrier, and its end sets off what the callback would have:
a caller who gave up in the queue still gets the same-day follow-up, a case and a text."""

from __future__ import annotations

from datetime import timedelta

from flask import Response
from sqlalchemy import select

from callback.models import Callback, CallbackAttempt, FollowUp, MissedCall
from ivr.call_end import QUIET_CALL, reconcile_with_carrier
from ivr.calls import reconcile
from ivr.calls.service import open_inbound_call
from ivr.cases.models import Case, TextMessage
from ivr.sim import CallerScript

from support import wait_for

CALLER = "+12125550147"
BILLING = ["1", None, "1"]  # English, no case number, billing


def lose_status_callbacks(center) -> None:
    """Our service answers the status callback with an error, as when it was down: the
    carrier lists the failure and, as Twilio does, never sends it again."""
    center.live.app.view_functions["voice.status"] = lambda: Response("down", status=503)


def callback_of(center, sid) -> Callback | None:
    with center.live.db.transaction() as session:
        call_id = center.call_row(sid).id
        return session.scalar(select(Callback).where(Callback.call_id == call_id))


def attempts(center, callback_id) -> list[CallbackAttempt]:
    with center.live.db.transaction() as session:
        return list(session.scalars(select(CallbackAttempt).where(
            CallbackAttempt.callback_id == callback_id).order_by(CallbackAttempt.id)))


def quiet_sids(center) -> list[str]:
    rt = center.rt
    return rt.db.run(lambda session: reconcile.quiet_live_calls(
        session, now=rt.clock.now(), quiet_for=QUIET_CALL))


def test_a_caller_who_gave_up_while_the_status_callback_was_lost_is_followed_up(
        manual_center, clock):
    original = manual_center.live.app.view_functions["voice.status"]
    lose_status_callbacks(manual_center)
    sid = manual_center.call(BILLING, CALLER, patience=5)
    wait_for(lambda: manual_center.carrier.call(sid).status == "completed",
             what="the caller to hang up in the queue")
    wait_for(lambda: any(e["call_sid"] == sid and e["url"].endswith("/voice/status")
                         for e in manual_center.carrier.errors),
             what="the carrier to record the failed status callback")
    manual_center.live.app.view_functions["voice.status"] = original
    row = manual_center.call_row(sid)
    assert row.status == "in-progress" and row.outcome == "abandoned", "left the queue only"

    assert reconcile_with_carrier(manual_center.rt) == [], "not quiet long enough yet"
    clock.advance(QUIET_CALL + timedelta(seconds=1))
    assert sid in quiet_sids(manual_center)
    assert reconcile_with_carrier(manual_center.rt) == [sid]

    row = manual_center.call_row(sid)
    assert (row.status, row.outcome) == ("completed", "abandoned")
    assert row.duration_seconds == manual_center.carrier.call(sid).duration
    (reconciled,) = manual_center.events("call.reconciled")
    assert (reconciled.call_id, reconciled.data["status"]) == (row.id, "completed")
    with manual_center.live.db.transaction() as session:
        missed = session.scalar(select(MissedCall).where(MissedCall.call_id == row.id))
        follow_up = session.get(FollowUp, missed.follow_up_id)
        case = session.scalar(select(Case).where(Case.caller_number == CALLER))
        text = session.scalar(select(TextMessage).where(TextMessage.case_id == case.id))
    assert (missed.kind, follow_up.number, follow_up.status) == ("abandoned", CALLER, "open")
    assert case.owner_skill == "billing" and text.purpose == "case-missed"

    assert reconcile_with_carrier(manual_center.rt) == [], "ended once"
    assert len(manual_center.events("call.reconciled")) == 1
    assert len(manual_center.events("missed.call")) == 1


def test_a_quiet_call_the_carrier_says_is_live_stays_open(center_factory, clock):
    # The wait loop announces rarely, so the call has a quiet spell once in the queue.
    center = center_factory(clock=clock, wait_announce_seconds=3600)
    sid = center.call(BILLING, CALLER)
    wait_for(lambda: center.waiting(sid), what="the caller in the queue")
    wait_for(lambda: center.events("queue.announced"), what="the first announcement")
    clock.advance(QUIET_CALL + timedelta(seconds=1))
    assert quiet_sids(center) == [sid], "the carrier is asked about it"
    assert reconcile_with_carrier(center.rt) == []
    row = center.call_row(sid)
    assert row.status == "in-progress" and center.waiting(sid)
    assert center.events("call.reconciled") == []
    center.carrier.hang_up(sid)


def test_a_call_the_carrier_never_knew_is_ended_as_completed(manual_center, clock):
    """A restarted offline carrier has forgotten its calls: Twilio's 404 for the call."""
    sid = "CA" + "5" * 32
    manual_center.rt.db.run(lambda session: open_inbound_call(
        session, sid=sid, from_number=CALLER, to_number="+15005550006", now=clock.now()))
    clock.advance(QUIET_CALL + timedelta(seconds=1))
    assert reconcile_with_carrier(manual_center.rt) == [sid]
    row = manual_center.call_row(sid)
    assert (row.status, row.outcome, row.duration_seconds) == ("completed", "ivr_hangup", None)



def test_an_agent_whose_callback_leg_status_was_lost_is_not_held_for_ever(center_factory, clock):
    """The agent's leg of a callback rang out while its status callback was lost: the agent
    would stay reserved and the callback dialling for ever, and the follow-up never made."""
    center = center_factory(clock=clock, customer_hours="00:00-24:00")
    center.carrier.set_callee(CALLER, CallerScript(answer=True, answer_after=1))
    center.agent("ann", {"billing": 2}, device="off", available=False)
    sid = center.call([*BILLING, "1", "1"], CALLER)  # asks to be called back in its place
    center.ended(sid)
    callback = wait_for(lambda: callback_of(center, sid), what="the callback")
    center.live.app.view_functions["voice.callback_agent_status"] = (
        lambda rid: Response("down", status=503))
    center.set_state("ann", "available")
    (attempt,) = wait_for(lambda: attempts(center, callback.id), what="ann to be rung")
    wait_for(lambda: center.carrier.call(attempt.agent_call_sid).status == "no-answer",
             what="ann's leg to ring out")
    assert callback_of(center, sid).status == "dialing"
    assert center.agent_row("ann").state == "reserved"

    assert reconcile_with_carrier(center.rt) == [], "not under way long enough yet"
    clock.advance(QUIET_CALL + timedelta(seconds=1))
    assert reconcile_with_carrier(center.rt) == [attempt.agent_call_sid]

    ann = center.agent_row("ann")
    assert (ann.state, ann.state_reason) == ("not-ready", "missed")
    assert callback_of(center, sid).status == "pending", "the callback keeps its place"
    assert [a.result for a in attempts(center, callback.id)] == ["agent-missed"]
    (reconciled,) = center.events("callback.leg_reconciled")
    assert (reconciled.agent_id, reconciled.data["status"]) == (ann.id, "no-answer")
    assert reconcile_with_carrier(center.rt) == [], "reconciled once"
