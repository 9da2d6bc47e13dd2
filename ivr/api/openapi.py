"""The OpenAPI document for /api, served at /api/openapi.json. A test checks that every
route of the API is described here and nothing else is."""

from __future__ import annotations

from typing import Any

OBJ = {"type": "object"}


def _op(
    summary: str,
    *,
    roles: str = "any signed-in user",
    body: dict | None = None,
    responses: dict[str, str] | None = None,
    params: list[dict] | None = None,
) -> dict:
    operation: dict[str, Any] = {
        "summary": summary,
        "description": f"Roles: {roles}.",
        "responses": {
            code: {"description": text, "content": {"application/json": {"schema": OBJ}}}
            for code, text in (responses or {"200": "OK"}).items()
        },
    }
    operation["responses"].setdefault("401", {"description": "no or unknown token"})
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
    if params:
        operation["parameters"] = params
    return operation


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(name: str, description: str, fmt: str | None = None) -> dict:
    schema: dict[str, Any] = {"type": "string"}
    if fmt:
        schema["format"] = fmt
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


STATE_BODY = {
    "type": "object",
    "required": ["state"],
    "properties": {
        "state": {"type": "string", "enum": ["available", "not-ready", "offline"]},
        "reason": {"type": "string", "description": "required for not-ready"},
    },
}
NOTE_BODY = {"type": "object", "required": ["text"], "properties": {"text": {"type": "string"}}}
TRANSFER_BODY = {
    "type": "object",
    "required": ["note"],
    "properties": {
        "note": {"type": "string"},
        "skill": {"type": "string", "description": "escalate to this skill"},
        "agent": {"type": "string", "description": "a named agent who is available now"},
    },
}


RECORDING_CONTROL_BODY = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["paused", "in-progress"]}},
}
OWN_OR_SUPERVISOR = "supervisor, admin, or the agent who took the call"


def _case_paths() -> dict[str, Any]:
    anyone = "agent, supervisor, admin"
    number = [{"name": "number", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "the six-digit case number"}]
    obj = {"type": "object"}
    return {
        "/api/cases": {"get": _op("Open cases (agents: their own), newest first", roles=anyone,
                                  params=[_query("status", "open (default), all, or a status"),
                                          _query("caller", "E.164 number")])},
        "/api/cases/policy": {"get": _op("Impacts, urgencies, the priority matrix, outcomes")},
        "/api/cases/escalations": {"get": _op(
            "Open cases whose service-level clocks are near or past their threshold (agents: "
            "their own)")},
        "/api/cases/{number}": {
            "get": _op("A case with its calls, notes, clocks and timeline", params=number),
            "patch": _op("Change status, category or owner; resolving texts the caller",
                         params=number, body=obj),
        },
        "/api/cases/{number}/priority": {"post": _op(
            "Re-judge impact and urgency (priority follows the matrix), with a reason",
            params=number, body={"type": "object", "required": ["impact", "urgency", "reason"],
                                 "properties": {"impact": {"type": "string"},
                                                "urgency": {"type": "string"},
                                                "reason": {"type": "string"}}})},
        "/api/cases/{number}/notes": {"post": _op("Add a note", params=number, body=NOTE_BODY,
                                                  responses={"201": "the note"})},
        "/api/cases/{number}/close": {"post": _op(
            "Close with an outcome from the list and whether the first contact resolved it",
            params=number, body={"type": "object", "required": ["outcome", "first_contact"],
                                 "properties": {"outcome": {"type": "string"},
                                                "first_contact": {"type": "boolean"}}})},
        "/api/calls/{call_id}/case": {"put": _op(
            "At wrap-up: this call belongs to case {case}, or \"new\" opens one",
            params=[_path_id("call_id")],
            body={"type": "object", "required": ["case"],
                  "properties": {"case": {"type": "string"}}})},
        "/api/incidents": {
            "get": _op("Incidents, newest first"),
            "post": _op("Declare an incident on a skill or category with a message",
                        roles="supervisor, admin", responses={"201": "declared"},
                        body={"type": "object", "required": ["subject", "message"],
                              "properties": {"subject": {"type": "string"},
                                             "message": {"type": "string"}}}),
        },
        "/api/incidents/{incident_id}/clear": {"post": _op(
            "Clear an incident; subscribers get a text", roles="supervisor, admin",
            params=[_path_id("incident_id")],
            body={"type": "object", "properties": {"message": {"type": "string"}}})},
        "/api/reports/cases": {"get": _op(
            "The month's cases by category and outcome, first-contact and service-level "
            "rates", roles="supervisor, admin",
            params=[_query("month", "YYYY-MM, default this month")])},
    }


def _callback_paths() -> dict[str, Any]:
    supervisors = "supervisor, admin"
    day = [_query("date", "YYYY-MM-DD in the business timezone, default today", "date")]
    return {
        "/api/followups": {
            "get": _op("Follow-ups of missed calls with their deadlines", roles=supervisors,
                       params=[_query("status", "open (default), done or all")])
        },
        "/api/followups/at-risk": {
            "get": _op("Open follow-ups escalated or past their deadline, most urgent first",
                       roles=supervisors)
        },
        "/api/followups/{follow_up_id}/done": {
            "post": _op("Close a follow-up by hand, with a note", roles=supervisors,
                        body=NOTE_BODY, params=[_path_id("follow_up_id")],
                        responses={"200": "closed", "409": "already done"})
        },
        "/api/callbacks": {
            "get": _op("Callbacks with their attempts", roles=supervisors,
                       params=[_query("status", "pending, scheduled, dialing, completed, "
                                                "failed, canceled")])
        },
        "/api/reports/followups": {
            "get": _op("The day's missed calls, follow-ups (created, done the same day, "
                       "escalated, breached, same-day rate) and callbacks (offered, accepted, "
                       "completed, attempts)", roles=supervisors, params=day)
        },
        "/api/do-not-call": {
            "get": _op("Numbers the dialler never calls", roles=supervisors),
            "post": _op("Add a number to the do-not-call list", roles=supervisors,
                        body={"type": "object", "required": ["number"],
                              "properties": {"number": {"type": "string"},
                                             "reason": {"type": "string"}}},
                        responses={"201": "added"}),
        },
        "/api/do-not-call/{number}": {
            "delete": _op("Remove a number from the do-not-call list", roles=supervisors,
                          params=[{"name": "number", "in": "path", "required": True,
                                   "schema": {"type": "string"}}],
                          responses={"204": "removed", "404": "not on the list"})
        },
    }


def _recording_paths() -> dict[str, Any]:
    recording_id = [_path_id("recording_id")]
    return {
        "/api/recordings": {
            "get": _op(
                "Recordings of a call or a day, with their audio and transcript state",
                roles=f"{OWN_OR_SUPERVISOR} (agents get their own)",
                params=[
                    _query("call_id", "the recordings of this call"),
                    _query("date", "YYYY-MM-DD, default today (without call_id)", "date"),
                ],
            )
        },
        "/api/recordings/{recording_id}": {
            "get": _op(
                "One recording with its transcript: segments (speaker agent or customer, "
                "start and end seconds, text, confidence, words with timings)",
                roles=OWN_OR_SUPERVISOR,
                params=recording_id,
                responses={"200": "OK", "403": "not your call", "404": "no recording"},
            )
        },
        "/api/recordings/{recording_id}/audio": {
            "get": _op(
                "The audio (HTTP Range requests for players; ?download=1 for a file); "
                "every request is written to the audit log",
                roles=OWN_OR_SUPERVISOR,
                params=[*recording_id, _query("download", "1: as an attachment")],
                responses={
                    "200": "the audio",
                    "206": "the range asked for",
                    "409": "the audio is not stored (yet)",
                    "410": "deleted by retention",
                },
            )
        },
        "/api/recordings/{recording_id}/access": {
            "get": _op(
                "The audit log of a recording: who played or downloaded it, and when",
                roles="supervisor, admin",
                params=recording_id,
            )
        },
        "/api/recordings/search": {
            "get": _op(
                "Full-text search of transcripts: the call, the segment and its time offset",
                roles="supervisor, admin; agents search their own calls",
                params=[
                    _query("q", "the words (all must be in a segment); word* for a prefix"),
                    _query("from", "calls started on or after YYYY-MM-DD", "date"),
                    _query("to", "calls started on or before YYYY-MM-DD", "date"),
                    _query("agent", "an agent id"),
                    _query("skill", "a skill the caller queued for"),
                    _query("outcome", "answered, voicemail, ..."),
                    _query("limit", "at most this many hits (default 50, at most 500)"),
                ],
                responses={"200": "hits", "400": "no words to search for"},
            )
        },
        "/api/calls/{call_id}/recording": {
            "post": _op(
                "Pause the call's recording (card details) or resume it; both are call events",
                roles="the agent on the call, supervisor, admin",
                body=RECORDING_CONTROL_BODY,
                params=[_path_id("call_id")],
                responses={
                    "200": "the recording's new state",
                    "409": "the call is not connected, or has no recording in progress",
                },
            )
        },
    }


def _supervision_paths() -> dict[str, Any]:
    supervisors = "supervisor, admin"
    entry_id = [_path_id("entry_id")]
    return {
        "/api/queue/{entry_id}/skill": {
            "post": _op("Move a waiting caller to another skill; they keep their priority and "
                        "time of entry (event queue.moved)", roles=supervisors,
                        body={"type": "object", "required": ["skill"],
                              "properties": {"skill": {"type": "string"},
                                             "level": {"type": "integer", "minimum": 1,
                                                       "maximum": 5, "default": 1}}},
                        params=entry_id,
                        responses={"200": "the entry", "404": "no entry",
                                   "409": "no longer waiting"})
        },
        "/api/queue/{entry_id}/priority": {
            "post": _op("Raise (or lower) a waiting caller's priority, with the reason shown to "
                        "the agent (event queue.priority_changed)", roles=supervisors,
                        body={"type": "object", "required": ["priority", "reason"],
                              "properties": {"priority": {"type": "integer", "minimum": 0,
                                                          "maximum": 100},
                                             "reason": {"type": "string"}}},
                        params=entry_id,
                        responses={"200": "the entry", "404": "no entry",
                                   "409": "no longer waiting"})
        },
        "/api/followups/{follow_up_id}/owner": {
            "post": _op("Hand an open follow-up to an agent: it goes on their worklist "
                        "(event followup.assigned)", roles=supervisors,
                        body={"type": "object", "required": ["agent"],
                              "properties": {"agent": {"type": "string",
                                                       "description": "the agent's name"}}},
                        params=[_path_id("follow_up_id")],
                        responses={"200": "the follow-up", "404": "no follow-up or agent",
                                   "409": "already done"})
        },
        "/api/agents/{agent_id}/worklist": {
            "get": _op("The agent's open follow-ups and the callbacks waiting for them",
                       roles="the agent themselves, supervisor, admin",
                       params=[_path_id("agent_id")])
        },
    }


SCORE_BODY = {
    "type": "object",
    "required": ["scores"],
    "properties": {
        "scorecard": {"type": "string", "description": "a scorecard's name; default the default"},
        "scores": {"type": "object", "additionalProperties": {"type": "integer"},
                   "description": "criterion key -> a whole number within its min and max; "
                                  "every criterion of the scorecard"},
        "comments": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": "criterion key -> a comment (optional)"},
        "comment": {"type": "string", "description": "the overall comment (optional)"},
    },
}


def _scoring_paths() -> dict[str, Any]:
    own = "supervisor, admin; an agent: only their own (another agent's: 403)"
    span = [_query("from", "first day of the calls, YYYY-MM-DD (business timezone)", "date"),
            _query("to", "last day of the calls, YYYY-MM-DD (business timezone)", "date"),
            _query("agent", "an agent's id; agents: their own (the default for them)")]
    return {
        "/api/scorecards": {"get": _op(
            "The scorecards (criteria with label, description, min, max, anchors) and the "
            "default one")},
        "/api/calls/{call_id}/score": {
            "get": _op("The call's answering agent and its scores, the latest first",
                       roles="supervisor, admin, or the agent who took it (their own scores)",
                       params=[_path_id("call_id")],
                       responses={"200": "OK", "404": "no call"}),
            "post": _op("Score the call on a scorecard: every criterion within its range, a "
                        "comment each and overall (event call.scored)",
                        roles="supervisor, admin", body=SCORE_BODY,
                        params=[_path_id("call_id")],
                        responses={"201": "the score", "400": "a field is wrong (named)",
                                   "404": "no call",
                                   "409": "no agent answered the call"}),
        },
        "/api/scores": {"get": _op(
            "Scores, the latest first, filtered by the days of the calls", roles=own,
            params=[*span, _query("call", "a call's id"),
                    _query("limit", "at most this many (1-500, default 100)")],
            responses={"200": "OK", "400": "a parameter is wrong", "403": "not your scores"})},
        "/api/reports/scores": {"get": _op(
            "Per agent and per period: scored calls, mean percentage and the mean of each "
            "criterion; and per agent over the span", roles=own,
            params=[*span, _query("period", "day, week (default) or month"),
                    _query("scorecard", "a scorecard's name; default the default")],
            responses={"200": "OK", "400": "a parameter is wrong", "403": "not your scores"})},
    }


def _wrap_up_paths() -> dict[str, Any]:
    return {
        "/api/wrapup/categories": {"get": _op(
            "The request categories an agent chooses from at wrap-up (the report policy's)")},
        "/api/calls/{call_id}/wrap-up": {"post": _op(
            "Wrap a call up: request category, resolved, notes; the agent's wrap-up time ends",
            roles="the agent who talked to the caller; a supervisor or admin naming agent_id",
            params=[_path_id("call_id")],
            body={"type": "object", "required": ["category"],
                  "properties": {"category": {"type": "string"},
                                 "resolved": {"type": "boolean"},
                                 "notes": {"type": "string"},
                                 "agent_id": {"type": "integer"}}},
            responses={"201": "the wrap-up", "400": "a field is wrong",
                       "404": "no call or agent", "409": "the agent did not take this call"})},
    }


def _report_paths() -> dict[str, Any]:
    supervisors = "supervisor, admin"
    filters = [_query("skill", "only the calls queued for this skill"),
               _query("agent", "only the calls this agent answered (an id or a name)")]
    return {
        "/api/reports/kpis": {"get": _op(
            "The KPIs of a range of business days: totals, per day, week or month, per skill "
            "and per agent, each with its KPIs off target; the KPIs' definitions and targets",
            roles=supervisors,
            params=[_query("from", "first day, YYYY-MM-DD (business timezone), default today",
                           "date"),
                    _query("to", "last day, YYYY-MM-DD, default `from` (at most 366 days)",
                           "date"),
                    _query("period", "day (default), week (ISO) or month"), *filters,
                    _query("targets", "true (default) or false: skip the targets and flags")],
            responses={"200": "OK", "400": "a parameter is wrong (named)"})},
        "/api/reports/charts": {"get": _op(
            "The day's charts: calls offered and answered per half hour, service level through "
            "the day, the distribution of waits, agents by state per half hour",
            roles=supervisors,
            params=[_query("date", "YYYY-MM-DD (business timezone), default today", "date"),
                    _query("from", "instead of date: the first of several days", "date"),
                    _query("to", "with from: the last day (at most 92)", "date"), *filters],
            responses={"200": "OK", "400": "a parameter is wrong (named)"})},
    }


def document() -> dict[str, Any]:
    agent_id = [_path_id("agent_id")]
    call_id = [_path_id("call_id")]
    paths = {
        "/api/me": {"get": _op("The signed-in user")},
        "/api/agents": {"get": _op("Agents with state, time in state and skills")},
        "/api/agents/{agent_id}": {
            "get": _op("One agent", params=agent_id, responses={"200": "OK", "404": "no agent"})
        },
        "/api/agents/{agent_id}/state": {
            "put": _op(
                "Change presence (available, not-ready with a reason, offline)",
                roles="the agent themselves, supervisor, admin",
                body=STATE_BODY,
                params=agent_id,
                responses={
                    "200": "new state",
                    "403": "not your agent",
                    "409": "on a call, or not allowed",
                },
            )
        },
        "/api/agents/{agent_id}/call": {
            "get": _op(
                "The agent's current call with the screen pop (caller, IVR path, priority and "
                "why, time waited, earlier contacts today, notes)",
                roles="the agent themselves, supervisor, admin",
                params=agent_id,
                responses={"200": "the call", "204": "no call now"},
            )
        },
        "/api/queue": {"get": _op("Waiting callers per skill, with positions and estimated waits")},
        "/api/calls": {
            "get": _op(
                "Calls of a day with their IVR path and outcome",
                roles="supervisor, admin",
                params=[
                    _query("date", "YYYY-MM-DD, default today", "date"),
                    _query("outcome", "answered, abandoned, voicemail, ..."),
                ],
            )
        },
        "/api/calls/{call_id}": {
            "get": _op(
                "One call with its events and notes",
                roles="supervisor, admin, or the agent who took it",
                params=call_id,
            )
        },
        "/api/calls/{call_id}/notes": {
            "post": _op(
                "Leave a note for the next person",
                body=NOTE_BODY,
                params=call_id,
                responses={"201": "the note"},
            )
        },
        "/api/calls/{call_id}/transfer": {
            "post": _op(
                "Send the caller to a skill or to a free agent, with a note (no blind transfers)",
                roles="the agent on the call, supervisor, admin",
                body=TRANSFER_BODY,
                params=call_id,
                responses={"200": "transferred", "409": "not possible now"},
            )
        },
        "/api/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": {"description": "OpenAPI 3.1"}},
            }
        },
    }
    paths.update(_recording_paths())
    paths.update(_callback_paths())
    paths.update(_case_paths())
    paths.update(_supervision_paths())
    paths.update(_report_paths())
    paths.update(_scoring_paths())
    paths.update(_wrap_up_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ivr call-center API",
            "version": "1",
            "description": "For agents and supervisors. Authenticate with "
            "'Authorization: Bearer <token>' (`ivr users add` prints one) or a console session "
            "(state changes with the session cookie carry the page's X-CSRFToken header).",
        },
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"token": []}],
        "paths": paths,
    }
