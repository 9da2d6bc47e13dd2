// Call scoring: pick a call and a scorecard, score each criterion, add a comment; see the
// call's scores and the recent scores of every agent.

import { api, el, fill, pageConfig, say } from "./api.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
let scorecards = [];

const listOf = (data, key) => (Array.isArray(data) ? data : data[key] || []);
const criteriaOf = (card) => card.criteria || card.items || card.questions || [];
const keyOf = (c) => c.key ?? c.id ?? c.name;
const maxOf = (c) => c.max ?? c.max_points ?? c.points ?? c.weight ?? 5;

function currentCard() {
  return scorecards.find((c) => String(c.id ?? c.name) === $("scorecard").value);
}

async function loadScorecards() {
  scorecards = listOf(await api("GET", "/api/scorecards"), "scorecards");
  fill($("scorecard"), scorecards.map((c) => el("option", { value: c.id ?? c.name }, c.name || c.title)));
}

function renderForm() {
  const card = currentCard();
  $("score-card").hidden = !card;
  if (!card) return;
  $("score-title").textContent = `${card.name || card.title} · call ${$("call-id").value}`;
  fill($("criteria"), criteriaOf(card).map((c) => el("li", {},
    el("label", {}, `${c.label || c.question || c.name} (0–${maxOf(c)})`,
       el("input", { type: "number", min: 0, max: maxOf(c), value: maxOf(c), required: true,
                     dataset: { key: keyOf(c) }, class: "short" })),
    c.description ? el("small", { class: "hint" }, c.description) : "")));
}

function scoreLine(s) {
  const value = s.percent !== undefined && s.percent !== null ? `${Math.round(s.percent)}%`
    : s.total !== undefined ? `${s.total}${s.max !== undefined ? `/${s.max}` : ""}` : s.score;
  return `${value} on ${s.scorecard_name || s.scorecard || "scorecard"}` +
    `${s.by || s.scored_by ? ` by ${s.by || s.scored_by}` : ""}${s.comment ? ` — ${s.comment}` : ""}`;
}

async function openCall(event) {
  if (event) event.preventDefault();
  const callId = $("call-id").value;
  if (!callId) return;
  history.replaceState(null, "", `?call=${callId}`);
  try {
    const call = await api("GET", `/api/calls/${callId}`);
    $("call-card").hidden = false;
    fill($("call-facts"), el("p", {}, `${call.caller.name || ""} ${call.from} · ${call.outcome || call.status}`,
      ` · ${new Date(call.started_at).toLocaleString()}`));
    const scores = listOf(await api("GET", `/api/calls/${callId}/score`), "scores");
    fill($("scores"), scores.length ? scores.map((s) => el("li", {}, scoreLine(s)))
                                    : [el("li", { class: "hint" }, "not scored yet")]);
    renderForm();
  } catch (error) {
    say($("score-status"), error.message, "error");
  }
}

async function saveScore(event) {
  event.preventDefault();
  const card = currentCard();
  const values = {};
  for (const input of $("criteria").querySelectorAll("input")) values[input.dataset.key] = Number(input.value);
  try {
    await api("POST", `/api/calls/${$("call-id").value}/score`, {
      scorecard: card.id ?? card.name,
      scores: values,
      comment: $("score-comment").value.trim(),
    });
    say($("score-status"), "Score saved.", "ok");
    $("score-comment").value = "";
    await openCall();
    await loadRecent();
  } catch (error) {
    say($("score-status"), error.message, "error");
  }
}

async function loadRecent() {
  const scores = listOf(await api("GET", "/api/scores"), "scores");
  fill($("recent").tBodies[0], scores.slice(0, 50).map((s) => el("tr", {},
    el("td", {}, el("a", { href: `?call=${s.call_id}` }, s.call_id)),
    el("td", {}, s.agent_name || s.agent || ""), el("td", {}, s.scorecard_name || s.scorecard || ""),
    el("td", {}, scoreLine(s).split(" on ")[0]), el("td", {}, s.by || s.scored_by || ""),
    el("td", {}, s.at || s.scored_at ? new Date(s.at || s.scored_at).toLocaleString() : ""))));
}

async function main() {
  $("pick-call").addEventListener("submit", openCall);
  $("scorecard").addEventListener("change", renderForm);
  $("score-form").addEventListener("submit", saveScore);
  try {
    await loadScorecards();
    if (config.call) await openCall();
    await loadRecent();
  } catch (error) {
    say($("score-status"), error.message, "error");
  }
}

main();
