// The live wallboard (view=wallboard): queues per skill, callers waiting, agents, callbacks
// and follow-ups at risk, pushed by the server; waits count up and deadlines count down here
// between pushes. Actions: set an agent's state, move a caller to another skill, change their
// priority, hand a follow-up to an agent, listen to a call.

import { api, duration, el, fill, live, pageConfig, say, ServerClock, time } from "./api.js";
import { kpiBySkill } from "./kpis.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
const clock = new ServerClock();
let board = null;
let kpis = {};
let kpiTimer = null;
let listening = null; // {callId, sid, abort}

function status(text, kind) {
  say($("action-status"), text, kind);
}

function act(work) {
  return async () => {
    try {
      status(await work(), "ok");
    } catch (error) {
      status(error.message, "error");
    }
  };
}

function skillNames() {
  return board ? board.skills.map((s) => s.skill) : [];
}

function render() {
  renderSkills();
  renderWaiting();
  renderAgents();
  renderCallbacks();
  renderFollowUps();
  tick();
}

function renderSkills() {
  const rows = board.skills.map((s) => {
    const k = kpis[s.skill] || {};
    return el("tr", { dataset: { skill: s.skill } },
      el("td", {}, s.skill),
      el("td", { class: "num waiting-count" }, s.waiting),
      el("td", { class: "num", dataset: { since: s.oldest_entered_at || "" } }, s.waiting ? "" : "—"),
      el("td", { class: "num" }, duration(s.estimated_wait_seconds)),
      el("td", { class: "num" }, k.serviceLevel ?? "—"),
      el("td", { class: "num" }, k.answered ?? "—"),
      el("td", { class: "num" }, k.abandoned ?? "—"));
  });
  fill($("skills").tBodies[0], rows);
}

function renderWaiting() {
  const seen = new Map();
  for (const skill of board.skills) for (const entry of skill.entries) seen.set(entry.entry_id, entry);
  const entries = [...seen.values()].sort((a, b) => b.waited_seconds - a.waited_seconds);
  $("nobody-waiting").hidden = entries.length > 0;
  fill($("waiting").tBodies[0], entries.map((entry) => {
    const caller = entry.caller;
    const skillSelect = el("select", { "aria-label": "skill" },
      skillNames().map((s) => el("option", { value: s, selected: s in entry.skills }, s)));
    const priority = el("input", { type: "number", min: 0, max: 100, value: entry.priority + 1,
                                   "aria-label": "new priority", class: "short" });
    const reason = el("input", { type: "text", placeholder: "why", "aria-label": "reason", class: "short" });
    return el("tr", { dataset: { entry: entry.entry_id, call: entry.call_id } },
      el("td", {}, caller.name ? el("strong", {}, caller.name) : "", " ", caller.number,
         caller.vip ? el("span", { class: "badge vip" }, "VIP") : "",
         entry.kind === "callback" ? el("span", { class: "badge" }, "callback") : ""),
      el("td", {}, Object.keys(entry.skills).join(", ")),
      el("td", { title: entry.priority_reasons.join("\n") }, entry.priority),
      el("td", { class: "num", dataset: { since: entry.entered_at } }, ""),
      el("td", { class: "num" }, entry.position),
      el("td", { class: "num" }, duration(entry.estimated_wait_seconds)),
      el("td", {}, skillSelect, el("button", { type: "button", class: "move",
        onclick: act(async () => {
          await api("POST", `/api/queue/${entry.entry_id}/skill`, { skill: skillSelect.value });
          return `Moved ${caller.name || caller.number} to ${skillSelect.value}.`;
        }) }, "Move")),
      el("td", {}, priority, reason, el("button", { type: "button", class: "priority",
        onclick: act(async () => {
          await api("POST", `/api/queue/${entry.entry_id}/priority`,
                    { priority: Number(priority.value), reason: reason.value || "raised on the wallboard" });
          return `Priority of ${caller.name || caller.number} is ${priority.value}.`;
        }) }, "Set")));
  }));
}

function renderAgents() {
  fill($("agents").tBodies[0], board.agents.map((agent) => {
    const call = agent.call;
    const select = el("select", { "aria-label": `state of ${agent.name}` },
      ["available", "not-ready", "offline"].map((s) => el("option", { value: s, selected: s === agent.state }, s)));
    return el("tr", { dataset: { agent: agent.id, state: agent.state } },
      el("td", {}, el("a", { href: `/desktop/${agent.id}`, title: "open the desktop (read-only)" }, agent.name)),
      el("td", {}, el("span", { class: "state", dataset: { state: agent.state } }, agent.state),
         agent.reason ? ` (${agent.reason})` : ""),
      el("td", { class: "num", dataset: { since: agent.state_since } }, ""),
      el("td", {}, call ? [`${call.status === "connected" ? "talking to" : "ringing:"} `,
                           call.caller.name || call.caller.number, " ",
                           el("span", { class: "hint", dataset: { since: call.since } }, "")] : ""),
      el("td", {}, select, el("button", { type: "button", class: "set-state",
        onclick: act(async () => {
          const body = { state: select.value };
          if (select.value === "not-ready") body.reason = "set by supervisor";
          await api("PUT", `/api/agents/${agent.id}/state`, body);
          return `${agent.name} is ${select.value}.`;
        }) }, "Set")),
      el("td", {}, call ? el("button", { type: "button", class: "listen",
        onclick: () => listen(agent, call) }, "Listen") : ""));
  }));
}

function renderCallbacks() {
  $("callbacks-count").textContent = board.callbacks.pending;
  fill($("callbacks"), board.callbacks.items.length
    ? board.callbacks.items.map((c) => el("li", {}, `${c.number} — ${c.status}`,
        c.due_at ? `, due ${time(c.due_at)}` : "", c.reason ? ` (${c.reason})` : ""))
    : [el("li", { class: "hint" }, "none")]);
}

function renderFollowUps() {
  $("follow-ups-count").textContent = board.follow_ups.length;
  $("follow-ups-open").textContent = `${board.follow_ups_open} open in all`;
  const agents = board.agents.map((a) => a.name);
  fill($("follow-ups"), board.follow_ups.length ? board.follow_ups.map((f) => {
    const who = el("select", { "aria-label": "agent" }, agents.map((n) => el("option", { value: n }, n)));
    return el("li", { class: f.breached ? "late" : "", dataset: { followUp: f.id } },
      el("strong", {}, f.number), ` · ${f.missed_count} missed · due ${time(f.due_at)} `,
      el("span", { class: "countdown", dataset: { until: f.due_at } }, ""),
      f.breached ? el("span", { class: "badge late" }, "breached") : el("span", { class: "badge warn" }, "at risk"),
      " ", who, el("button", { type: "button", class: "take-over",
        onclick: act(async () => {
          await api("POST", `/api/followups/${f.id}/owner`, { agent: who.value });
          return `Follow-up ${f.number} is ${who.value}'s now.`;
        }) }, "Take over"));
  }) : [el("li", { class: "hint" }, "none at risk")]);
}

function tick() {
  for (const node of document.querySelectorAll("[data-since]")) {
    if (node.dataset.since) node.textContent = duration(clock.secondsSince(node.dataset.since));
  }
  for (const node of document.querySelectorAll("[data-until]")) {
    const left = clock.secondsUntil(node.dataset.until);
    node.textContent = left >= 0 ? `${duration(left)} left` : `${duration(-left)} late`;
  }
}

// -- KPIs of the day (service level, answered, abandoned) -----------------------------------

async function loadKpis() {
  try {
    kpis = await kpiBySkill(board ? skillNames() : []);
  } catch (error) {
    kpis = {};
    say($("updated"), `KPIs: ${error.message}`, "warn");
  }
  if (board) renderSkills();
}

function kpisSoon() {
  clearTimeout(kpiTimer);
  kpiTimer = setTimeout(loadKpis, 1000);
}

// -- listening -------------------------------------------------------------------------------

async function listen(agent, call) {
  if (listening) listening.stop = true;
  listening = { callId: call.call_id, sid: call.call_sid, stop: false };
  const mine = listening;
  $("listen").hidden = false;
  $("listen-title").textContent = `${agent.name} with ${call.caller.name || call.caller.number}`;
  fill($("listen-events"));
  $("listen-how").textContent = config.telephony === "sim"
    ? "The offline carrier has no live audio: this follows the call as the carrier reports it " +
      "(what the caller hears, ringing, answer, hang-up) and its call events; the recording " +
      "plays on the Recordings page once the call ends."
    : "Live audio needs the call bridged in a conference (Twilio's monitor is a conference " +
      "feature); calls here are bridged with <Dial>, so this follows the call's events, and " +
      "the recording plays on the Recordings page once it ends.";
  if (config.telephony !== "sim") return;
  let after = 0;
  while (!mine.stop) {
    let data;
    try {
      const response = await fetch(`/sim/phone/calls/${mine.sid}/events?after=${after}&wait=20`);
      if (!response.ok) break;
      data = await response.json();
    } catch {
      break;
    }
    for (const e of data.events) {
      after = Math.max(after, e.seq);
      const text = e.text || e.to || e.queue || e.by || e.status || "";
      $("listen-events").append(el("li", {}, el("strong", {}, e.type), ` ${text}`));
    }
    if (data.ended) {
      $("listen-events").append(el("li", { class: "hint" }, "the call has ended"));
      break;
    }
  }
}

function onEvent(message) {
  if (listening && message.call_id === listening.callId) {
    $("listen-events").append(el("li", { class: "ours" }, el("strong", {}, message.kind), ` ${time(message.at)}`));
  }
  if (["call.answered", "queue.abandoned", "call.ended", "call.handled"].includes(message.kind)) kpisSoon();
}

function main() {
  $("listen-close").addEventListener("click", () => {
    if (listening) listening.stop = true;
    listening = null;
    $("listen").hidden = true;
  });
  live({ view: "wallboard" }, {
    onSnapshot: (snapshot) => {
      const first = !board;
      clock.sync(snapshot.now);
      board = snapshot;
      $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
      render();
      if (first) loadKpis();
    },
    onEvent,
    onStatus: (s) => say($("live-status"), s, s === "live" ? "ok" : "warn"),
  });
  setInterval(tick, 1000);
  setInterval(loadKpis, 60000);
}

main();
