// Call scoring: open a call, fill in a scorecard (a score within each criterion's range and a
// comment for each, and an overall comment), see the call's scores and the recent scores.
// API: GET /api/scorecards, GET/POST /api/calls/{id}/score, GET /api/scores.

import { api, el, fill, pageConfig, say } from "./api.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
let scorecards = [];
let callId = null;

const when = (iso) => new Date(iso).toLocaleString();
const scoreText = (s) => `${s.total}/${s.max_total} (${s.percent}%)`;

function currentCard() {
  return scorecards.find((c) => c.name === $("scorecard").value);
}

async function loadScorecards() {
  const data = await api("GET", "/api/scorecards");
  scorecards = data.scorecards;
  fill($("scorecard"), scorecards.map((c) =>
    el("option", { value: c.name, selected: c.name === data.default }, c.name)));
}

function criterionItem(c) {
  const anchors = c.anchors.map((a) => `${a.score}: ${a.meaning}`).join("; ");
  return el("li", { dataset: { key: c.key } },
    el("label", {}, `${c.label} (${c.min}–${c.max})`,
      el("small", {}, c.description, anchors ? ` (${anchors})` : ""),
      el("input", { type: "number", class: "short score", name: `score-${c.key}`, min: c.min,
                    max: c.max, step: 1, required: true, dataset: { key: c.key } })),
    el("label", {}, "Comment",
      el("input", { type: "text", class: "comment", name: `comment-${c.key}`,
                    dataset: { key: c.key } })));
}

function renderForm() {
  const card = currentCard();
  $("score-card").hidden = !card || callId === null;
  if (!card) return;
  $("score-title").textContent = `${card.name} · call ${callId}`;
  $("scorecard-description").textContent = card.description;
  fill($("criteria"), card.criteria.map(criterionItem));
}

function scoreEntry(s) {
  return el("li", {},
    el("strong", {}, scoreText(s)), ` on ${s.scorecard} by ${s.scored_by}, ${when(s.scored_at)}`,
    s.comment ? ` — ${s.comment}` : "",
    el("ul", {}, s.items.map((i) => el("li", {},
      `${i.label}: ${i.score}${i.max === null ? "" : `/${i.max}`}`,
      i.comment ? ` — ${i.comment}` : ""))));
}

function facts(call, scored) {
  const pairs = [
    ["Caller", `${call.caller.name ? `${call.caller.name}, ` : ""}${call.from}`],
    ["Started", when(call.started_at)],
    ["Outcome", call.outcome || call.status],
    ["Agent", scored.agent || "no agent answered this call"],
  ];
  return pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);
}

async function loadCallScores() {
  const scored = await api("GET", `/api/calls/${callId}/score`);
  fill($("scores"), scored.scores.length ? scored.scores.map(scoreEntry)
                                          : [el("li", { class: "hint" }, "not scored yet")]);
  return scored;
}

async function openCall(event) {
  if (event) event.preventDefault();
  const wanted = Number($("call-id").value);
  if (!wanted) return;
  history.replaceState(null, "", `?call=${wanted}`);
  say($("score-status"), "");
  try {
    const call = await api("GET", `/api/calls/${wanted}`);
    callId = wanted;
    const scored = await loadCallScores();
    fill($("call-facts"), facts(call, scored));
    $("call-card").hidden = false;
    renderForm();
    if (scored.agent_id === null) {
      $("score-card").hidden = true;
      say($("score-status"), `Call ${callId} was not answered by an agent: nothing to score.`, "warn");
    }
  } catch (error) {
    callId = null;
    $("call-card").hidden = true;
    $("score-card").hidden = true;
    say($("score-status"), error.message, "error");
  }
}

async function saveScore(event) {
  event.preventDefault();
  const scores = {};
  const comments = {};
  for (const input of $("criteria").querySelectorAll("input.score")) {
    scores[input.dataset.key] = Number(input.value);
  }
  for (const input of $("criteria").querySelectorAll("input.comment")) {
    if (input.value.trim()) comments[input.dataset.key] = input.value.trim();
  }
  try {
    const saved = await api("POST", `/api/calls/${callId}/score`, {
      scorecard: currentCard().name,
      scores,
      comments,
      comment: $("score-comment").value.trim() || null,
    });
    say($("score-status"), `Score saved: ${scoreText(saved)}.`, "ok");
    $("score-form").reset();
    await loadCallScores();
    await loadRecent();
  } catch (error) {
    say($("score-status"), error.message, "error");
  }
}

async function loadRecent() {
  const { scores } = await api("GET", "/api/scores?limit=50");
  fill($("recent").tBodies[0], scores.length ? scores.map((s) => el("tr", {},
    el("td", {}, el("a", { href: `?call=${s.call_id}` }, s.call_id)),
    el("td", {}, s.agent || ""), el("td", {}, s.scorecard),
    el("td", { class: "num" }, scoreText(s)), el("td", {}, s.scored_by),
    el("td", {}, when(s.scored_at))))
    : [el("tr", {}, el("td", { colspan: 6, class: "hint" }, "no scored calls yet"))]);
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
