"""The caller names their case (a known caller is asked about their open case; anyone may key
a case number), and outages: callers choosing a subject with an active incident hear its
message first and may ask for a text when it is fixed."""

from __future__ import annotations

from flask import Response, request
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from callflows import engine
from callflows.engine import FlowError
from ivr import casework
from ivr.calls import flowsteps
from ivr.calls.models import Call
from ivr.cases import incidents, messages
from ivr.cases import service as cases
from ivr.cases.models import Incident
from ivr.routing import queue
from ivr.runtime import current
from ivr.voice import twiml
from ivr.voice.blueprint import answer, bp, call_or_adopt, form_field, public_url_for
from ivr.voice.prompts import language_or_default

ASK = {
    "en-US": {
        "about": "Are you calling about your case {digits}, about {subject}? Press 1 for yes, "
        "or 2 for something else. You can also key in another case number.",
        "any": "If you have a case number, key it in now.",
        "not_found": "Sorry, I could not find an open case with that number.",
        "to_owner": "Connecting you to {owner}, who has your case.",
        "to_team": "Connecting you to the team that has your case.",
        "incident_offer": "Press 1 to get a text message when it is fixed, or stay on the "
        "line to talk to someone.",
    },
    "es-US": {
        "about": "¿Llama por su caso {digits}, sobre {subject}? Oprima 1 para sí, o 2 para "
        "otra cosa. También puede marcar otro número de caso.",
        "any": "Si tiene un número de caso, márquelo ahora.",
        "not_found": "Lo sentimos, no encontré un caso abierto con ese número.",
        "to_owner": "Le comunicamos con {owner}, que tiene su caso.",
        "to_team": "Le comunicamos con el equipo que tiene su caso.",
        "incident_offer": "Oprima 1 para recibir un mensaje de texto cuando esté resuelto, o "
        "espere en la línea para hablar con alguien.",
    },
}


def ask(name: str, language: str, **values: object) -> str:
    return ASK.get(language, ASK["en-US"])[name].format(**values)


def render_case_check(session: Session, call: Call, check: engine.CaseCheck,
                      before: str) -> str:
    """The question, appended to the TwiML of what came before it in the step."""
    language = language_or_default(call.vars.get("language"))
    open_case = cases.open_case_of(session, call.from_number) if call.from_number != (
        "anonymous") else None
    response = VoiceResponse()
    gather = response.gather(
        input="dtmf", num_digits=6, timeout=check.timeout, method="POST",
        action=public_url_for("voice.case_answer", node=check.node,
                              case=open_case.number if open_case else ""),
    )
    if open_case is not None:
        gather.say(ask("about", language, digits=messages.spoken_digits(open_case.number),
                       subject=open_case.subject), language=language)
    else:
        gather.say(ask("any", language), language=language)
    response.redirect(public_url_for("voice.case_answer", node=check.node, case=""),
                      method="POST")
    return twiml.join(before, str(response))


@bp.post("/case/<node>")
def case_answer(node: str) -> Response:
    sid = form_field("CallSid")
    digits = request.form.get("Digits", "").strip()
    offered = request.args.get("case", "")
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        number = offered if digits == "1" and offered else digits if len(digits) == 6 else ""
        case = cases.by_number(session, number) if number else None
        prefix = ""
        if case is not None and case.is_open and case.caller_number != "incident":
            return _to_case(session, call, case, language)
        if number:
            prefix = ask("not_found", language)
        flow = rt.flows.current()
        try:
            step = engine.after_case_check(flow, node, flowsteps.context(call),
                                           now=rt.clock.now(), calendar=rt.calendar,
                                           result="case not found" if number else "no case")
        except FlowError:
            step = engine.to_person(flow, flowsteps.context(call), now=rt.clock.now(),
                                    calendar=rt.calendar)
        from ivr.voice.views import render_step

        body = render_step(session, call, step)
        if prefix:
            spoken = VoiceResponse()
            spoken.say(prefix, language=language)
            body = twiml.join(str(spoken), body)
        return body

    return answer(rt, work)


def _to_case(session: Session, call: Call, case, language: str) -> str:
    rt = current()
    reservation, entry = casework.route_to_case(session, rt, call, case)
    owner = casework.owner_name(session, case)
    response = VoiceResponse()
    if reservation is not None:
        response.say(ask("to_owner", language, owner=owner), language=language)
        response.redirect(public_url_for("voice.connect", rid=reservation.id), method="POST")
        return str(response)
    response.say(ask("to_team", language), language=language)
    response.enqueue(entry.queue_name, wait_url=public_url_for("voice.queue_wait"),
                     wait_url_method="POST", action=public_url_for("voice.queue_result"),
                     method="POST")
    return str(response)


def incident_preamble(session: Session, call: Call, incident: Incident) -> str:
    """Said before the caller joins the queue: the outage message, and the offer of a text."""
    rt = current()
    incidents.link_call(session, incident=incident, call=call, now=rt.clock.now())
    language = language_or_default(call.vars.get("language"))
    response = VoiceResponse()
    response.say(incident.message, language=language)
    gather = response.gather(input="dtmf", num_digits=1, timeout=4, method="POST",
                             action=public_url_for("voice.incident_subscribe",
                                                   incident=incident.id))
    gather.say(ask("incident_offer", language), language=language)
    return str(response)


@bp.post("/incident/<int:incident>/subscribe")
def incident_subscribe(incident: int) -> Response:
    sid = form_field("CallSid")
    digits = request.form.get("Digits", "").strip()
    rt = current()

    def work(session: Session) -> str:
        call = call_or_adopt(session, sid)
        language = language_or_default(call.vars.get("language"))
        found = session.get(Incident, incident)
        response = VoiceResponse()
        if digits == "1" and found is not None and call.from_number != "anonymous":
            incidents.subscribe(session, incident=found, number=call.from_number,
                                language=language, now=rt.clock.now())
            response.say(messages.words("incident_subscribed", language), language=language)
        entry = queue.open_entry(session, call=call)
        if entry is None:
            from ivr.voice.views import resume

            return twiml.join(str(response), resume(session, call))
        response.enqueue(entry.queue_name, wait_url=public_url_for("voice.queue_wait"),
                         wait_url_method="POST", action=public_url_for("voice.queue_result"),
                         method="POST")
        return str(response)

    return answer(rt, work)
