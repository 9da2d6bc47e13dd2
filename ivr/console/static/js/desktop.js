// The agent desktop: presence, softphone, screen pop, call controls, wrap-up, worklist and
// scores, kept current by the live stream (view=desktop).

import { api, duration, el, fill, live, pageConfig, say, ServerClock, time } from "./api.js";
import { createPhone } from "./softphone.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
const clock = new ServerClock();
const agentId = config.agentId;
const wrapKey = `ivr.wrap-up.${agentId}`;
let agent = null;
let pop = null;
let wrapUpCall = JSON.parse(sessionStorage.getItem(wrapKey) || "null");
let recordingPaused = false;

const phone = config.readOnly
  ? createPhone({ mode: "read-only", endpoint: "watching", why: "Idle" }, renderPhone)
  : createPhone(config.phone, renderPhone);

function guard(statusNode, work) {
  return async (...args) => {
    try {
      await work(...args);
    } catch (error) {
      say(statusNode, error.message, "error");
    }
  };
}

// -- presence --------------------------------------------------------------------------------

function renderPresence() {
  if (!agent) return;
  $("state").textContent = agent.state;
  $("state").dataset.state = agent.state;
  $("state-reason").textContent = agent.reason ? `(${agent.reason})` : "";
  const wrapping = agent.state === "wrap-up" && agent.wrap_up_until;
  $("wrapup-left").hidden = !wrapping;
  for (const button of document.querySelectorAll("#presence-buttons button")) {
    button.classList.toggle("current", button.dataset.state === agent.state);
  }
}

async function chooseState(state) {
  const body = { state };
  if (state === "not-ready") body.reason = $("not-ready-reason").value;
  agent = await api("PUT", `/api/agents/${agentId}/state`, body);
  say($("presence-status"), `You are ${state}.`, "ok");
  renderPresence();
}

// -- softphone -------------------------------------------------------------------------------

function renderPhone() {
  $("phone-kind").textContent = phone.kind ? `(${phone.kind})` : "";
  const call = phone.call;
  const connected = call && call.status === "connected";
  const ringing = call && call.status === "ringing";
  let line = phone.why || "Idle";
  if (ringing) line = `Ringing: ${callerLabel()}`;
  if (connected) line = `On the call with ${callerLabel()}`;
  if (phone.held) line += " · on hold";
  if (phone.muted) line += " · muted";
  $("phone-line").textContent = line;
  $("phone-line").dataset.status = call ? call.status : "idle";
  const off = config.readOnly;
  $("answer").disabled = off || !ringing;
  $("decline").disabled = off || !ringing;
  $("hangup").disabled = off || !connected;
  $("mute").disabled = off || !connected;
  $("hold").disabled = off || !connected;
  $("mute").setAttribute("aria-pressed", String(!!phone.muted));
  $("hold").setAttribute("aria-pressed", String(!!phone.held));
  $("mute").textContent = phone.muted ? "Unmute" : "Mute";
  $("hold").textContent = phone.held ? "Resume" : "Hold";
}

function callerLabel() {
  if (!pop) return "a caller";
  return pop.caller.name ? `${pop.caller.name} (${pop.caller.number})` : pop.caller.number;
}

// -- screen pop and the call -----------------------------------------------------------------

function renderPop() {
  $("screen-pop").hidden = !pop;
  const connected = pop && pop.status === "connected";
  $("call-controls").hidden = !connected;
  if (!pop) return;
  const caller = pop.caller;
  $("pop-name").textContent = caller.name || "Unknown caller";
  $("pop-number").textContent = caller.number;
  $("pop-vip").hidden = !caller.vip;
  $("pop-language").textContent = caller.language || "language not chosen";
  $("pop-repeat").hidden = !caller.repeat_today;
  const reasons = pop.priority_reasons.length ? ` — ${pop.priority_reasons.join("; ")}` : "";
  $("pop-priority").textContent = `${pop.priority}${reasons}`;
  $("pop-skills").textContent = Object.entries(pop.skills).map(([s, l]) => `${s} (level ${l})`).join(", ");
  $("pop-transfer-note").hidden = !pop.transfer_note;
  $("pop-transfer-note").textContent = pop.transfer_note ? `Transferred: ${pop.transfer_note}` : "";
  fill($("pop-path"), pop.ivr_path.map((step) =>
    el("li", {}, el("strong", {}, step.node || "?"), step.input ? ` pressed/said “${step.input}”` : "",
       step.event && step.event !== "enter" ? ` (${step.event})` : "")));
  fill($("pop-earlier"), pop.earlier_today.length
    ? pop.earlier_today.map((c) => el("li", {}, `${time(c.started_at)} — ${c.outcome || "in progress"}`))
    : [el("li", { class: "hint" }, "none")]);
  const followUps = pop.open_follow_ups || [];
  fill($("pop-follow-ups"), followUps.length
    ? followUps.map((f) => el("li", {}, `due ${time(f.due_at)}, ${f.missed_count} missed call(s)`,
        f.escalated ? el("span", { class: "badge late" }, "at risk") : ""))
    : [el("li", { class: "hint" }, "none")]);
  renderCase(pop.case);
  fill($("pop-notes"), pop.notes.length
    ? pop.notes.map((n) => el("li", {}, el("strong", {}, n.agent || "someone"), ` ${time(n.at)}: `, n.text))
    : [el("li", { class: "hint" }, "no notes")]);
  $("recording-state").textContent = recordingPaused ? "recording paused" : "recording";
  $("pause-recording").disabled = config.readOnly || recordingPaused;
  $("resume-recording").disabled = config.readOnly || !recordingPaused;
}

function renderCase(found) {
  $("pop-case").hidden = !found;
  if (!found) return;
  $("pop-case-head").textContent =
    `${found.number} · ${found.status} · ${found.subject || found.category || ""} (${found.calls} call(s))`;
  fill($("pop-case-notes"), found.notes.map((n) => el("li", {}, el("strong", {}, n.author || ""),
    ` ${time(n.at)}: `, n.text)));
}

async function setRecording(status) {
  await api("POST", `/api/calls/${pop.call_id}/recording`, { status });
  recordingPaused = status === "paused";
  say($("call-status"), recordingPaused ? "Recording paused: the caller can give card details."
                                        : "Recording again.", "ok");
  renderPop();
}

async function saveNote() {
  const text = $("note-text").value.trim();
  if (!text) throw new Error("write the note first");
  await api("POST", `/api/calls/${pop.call_id}/notes`, { text });
  $("note-text").value = "";
  say($("call-status"), "Note saved: the next agent sees it.", "ok");
}

async function loadTransferTargets() {
  const { agents } = await api("GET", "/api/agents");
  const skills = new Set();
  for (const a of agents) Object.keys(a.skills).forEach((s) => skills.add(s));
  const free = agents.filter((a) => a.id !== agentId && a.state === "available");
  fill($("transfer-target"),
    el("optgroup", { label: "Skills (escalate)" },
       [...skills].sort().map((s) => el("option", { value: `skill:${s}` }, s))),
    el("optgroup", { label: "Available agents" },
       free.map((a) => el("option", { value: `agent:${a.name}` }, a.name))));
}

async function transfer() {
  const [kind, name] = $("transfer-target").value.split(":");
  const note = $("transfer-note").value.trim();
  if (!note) throw new Error("a transfer needs a note, so the next person knows why");
  await api("POST", `/api/calls/${pop.call_id}/transfer`, { [kind]: name, note });
  $("transfer-note").value = "";
  say($("call-status"), `Transferred to ${name}, with your note.`, "ok");
}

// -- wrap-up ---------------------------------------------------------------------------------

async function loadCategories() {
  try {
    const data = await api("GET", "/api/wrapup/categories");
    const list = Array.isArray(data) ? data : data.categories || [];
    fill($("wrap-up-category"), list.map((c) => {
      const value = typeof c === "string" ? c : c.name || c.id || c.key;
      const label = typeof c === "string" ? c : c.label || c.name || value;
      return el("option", { value }, label);
    }));
  } catch (error) {
    say($("wrap-up-status"), `Wrap-up categories: ${error.message}`, "error");
  }
}

// The card stays up after saving, with the confirmation, until the next call's wrap-up.
let wrapUpSaved = false;

function startWrapUp(callId, caller) {
  wrapUpCall = { callId, caller };
  wrapUpSaved = false;
  sessionStorage.setItem(wrapKey, JSON.stringify(wrapUpCall));
  say($("wrap-up-status"), "", "ok");
  renderWrapUp();
}

function renderWrapUp() {
  $("wrap-up").hidden = config.readOnly || (!wrapUpCall && !wrapUpSaved);
  $("wrap-up-form").hidden = !wrapUpCall;
  if (wrapUpCall) $("wrap-up-call").textContent = `call ${wrapUpCall.callId} · ${wrapUpCall.caller || ""}`;
}

async function saveWrapUp(event) {
  event.preventDefault();
  await api("POST", `/api/calls/${wrapUpCall.callId}/wrap-up`, {
    category: $("wrap-up-category").value,
    resolved: $("wrap-up-resolved").checked,
    notes: $("wrap-up-notes").value.trim(),
  });
  say($("wrap-up-status"), `Wrap-up saved for call ${wrapUpCall.callId}.`, "ok");
  wrapUpCall = null;
  wrapUpSaved = true;
  sessionStorage.removeItem(wrapKey);
  $("wrap-up-notes").value = "";
  $("wrap-up-resolved").checked = false;
  renderWrapUp();
}

// -- worklist and scores ---------------------------------------------------------------------

async function loadWorklist() {
  const { follow_ups: followUps, callbacks } = await api("GET", `/api/agents/${agentId}/worklist`);
  const items = [
    ...followUps.map((f) => el("li", { class: f.breached ? "late" : "" },
      `Follow-up ${f.number}: due ${time(f.due_at)} (${f.missed_count} missed)`,
      f.breached ? el("span", { class: "badge late" }, "breached") : "")),
    ...callbacks.map((c) => el("li", {}, `Callback ${c.number}: ${c.status}`,
      c.due_at ? `, due ${time(c.due_at)}` : "", ` (${c.attempts.length} attempt(s))`)),
  ];
  fill($("work-items"), items.length ? items : [el("li", { class: "hint" }, "nothing assigned to you")]);
}

async function loadScores() {
  try {
    const { scores } = await api("GET", `/api/scores?agent=${agentId}&limit=20`);
    fill($("score-items"), scores.length
      ? scores.map((s) => el("li", {}, `Call ${s.call_id}: `, el("strong", {}, scoreText(s)),
          ` on ${s.scorecard} by ${s.scored_by}`, s.comment ? ` — ${s.comment}` : "",
          el("small", { class: "hint" },
            ` (${s.items.map((i) => `${i.label} ${i.score}`).join(", ")})`)))
      : [el("li", { class: "hint" }, "no scored calls yet")]);
  } catch (error) {
    fill($("score-items"), el("li", { class: "hint" }, `scores: ${error.message}`));
  }
}

function scoreText(score) {
  return `${score.total}/${score.max_total} (${score.percent}%)`;
}

// -- the live stream -------------------------------------------------------------------------

function onSnapshot(snapshot) {
  clock.sync(snapshot.now);
  agent = snapshot.agent;
  const before = pop;
  pop = snapshot.call;
  if (before && (!pop || pop.call_id !== before.call_id) && before.status === "connected") {
    startWrapUp(before.call_id, before.caller.name || before.caller.number);
  }
  if (pop && (!before || before.call_id !== pop.call_id)) recordingPaused = false;
  if (pop && pop.status === "connected" && (!before || before.status !== "connected")) {
    loadTransferTargets().catch((e) => say($("call-status"), e.message, "error"));
  }
  phone.expecting = ["reserved", "busy"].includes(agent.state);
  if (config.readOnly) {
    // Watching someone else's desktop: the phone line follows their call, nothing more.
    phone.call = pop ? { status: pop.status === "connected" ? "connected" : "ringing" } : null;
  }
  renderPresence();
  renderPop();
  renderPhone();
  phone.refresh().catch(() => {});
}

function onEvent(message) {
  if (message.kind === "recording.paused") recordingPaused = true;
  if (message.kind === "recording.resumed") recordingPaused = false;
  if (message.kind === "followup.assigned") loadWorklist().catch(() => {});
  if (message.kind === "call.scored") loadScores();
}

function tick() {
  if (agent) {
    $("state-time").textContent = duration(clock.secondsSince(agent.state_since));
    if (agent.state === "wrap-up" && agent.wrap_up_until) {
      const left = Math.max(0, clock.secondsUntil(agent.wrap_up_until));
      $("wrapup-left").querySelector("strong").textContent = duration(left);
      $("wrap-up-left").textContent = `${duration(left)} of wrap-up time left`;
    } else {
      $("wrap-up-left").textContent = "";
    }
  }
  if (pop) {
    const waited = pop.status === "connected" ? pop.waited_seconds
      : pop.waited_seconds + clock.secondsSince(lastSnapshotAt);
    $("pop-waited").textContent = duration(waited);
  }
}

let lastSnapshotAt = new Date().toISOString();

function main() {
  for (const button of document.querySelectorAll("#presence-buttons button")) {
    button.disabled = config.readOnly;
    button.addEventListener("click", guard($("presence-status"), () => chooseState(button.dataset.state)));
  }
  $("not-ready-reason").disabled = config.readOnly;
  $("answer").addEventListener("click", guard($("phone-status"), () => phone.answer()));
  $("decline").addEventListener("click", guard($("phone-status"), () => phone.decline()));
  $("hangup").addEventListener("click", guard($("phone-status"), () => phone.hangup()));
  $("mute").addEventListener("click", guard($("phone-status"), () => phone.mute(!phone.muted)));
  $("hold").addEventListener("click", guard($("phone-status"), () => phone.hold(!phone.held)));
  $("pause-recording").addEventListener("click", guard($("call-status"), () => setRecording("paused")));
  $("resume-recording").addEventListener("click", guard($("call-status"), () => setRecording("in-progress")));
  $("save-note").addEventListener("click", guard($("call-status"), saveNote));
  $("transfer").addEventListener("click", guard($("call-status"), transfer));
  $("wrap-up-form").addEventListener("submit", guard($("wrap-up-status"), saveWrapUp));
  for (const control of document.querySelectorAll("#call-controls button, #call-controls textarea, #call-controls select")) {
    if (config.readOnly) control.disabled = true;
  }
  renderWrapUp();
  renderPhone();
  live({ view: "desktop", agent: agentId }, {
    onSnapshot: (snapshot) => {
      lastSnapshotAt = snapshot.now;
      onSnapshot(snapshot);
    },
    onEvent,
    onStatus: (status) => say($("live-status"), status, status === "live" ? "ok" : "warn"),
  });
  if (!config.readOnly) {
    phone.register().then(renderPhone).catch((e) => say($("phone-status"), `Softphone: ${e.message}`, "error"));
    loadCategories();
  }
  loadWorklist().catch((e) => say($("presence-status"), e.message, "error"));
  loadScores();
  setInterval(tick, 1000);
}

main();
