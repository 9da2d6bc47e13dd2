// Recordings and transcripts: search the transcripts, see each matching segment with the
// words highlighted, play the recording from the segment's offset (the audio element asks
// for byte ranges), read the transcript as a dialogue, and see who has listened (audit log).

import { api, duration, el, fill, pageConfig, say, time } from "./api.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);
let shown = null; // the recording in the player

function terms(query) {
  return (query.match(/[\p{L}\p{N}_]+\*?/gu) || []).map((t) => t.toLowerCase());
}

// The segment's text with the searched words in <mark>.
function highlighted(text, words) {
  const parts = [];
  for (const token of text.split(/(\s+)/)) {
    const bare = token.toLowerCase().replace(/[^\p{L}\p{N}_]/gu, "");
    const hit = bare && words.some((w) => (w.endsWith("*") ? bare.startsWith(w.slice(0, -1)) : bare === w));
    parts.push(hit ? el("mark", {}, token) : token);
  }
  return parts;
}

async function search(event) {
  if (event) event.preventDefault();
  const q = $("q").value.trim();
  if (!q) return;
  const params = new URLSearchParams({ q });
  if ($("from").value) params.set("from", $("from").value);
  if ($("to").value) params.set("to", $("to").value);
  history.replaceState(null, "", `?${params}`);
  try {
    const { hits } = await api("GET", `/api/recordings/search?${params}`);
    const words = terms(q);
    say($("search-status"), `${hits.length} matching segment(s)`, "ok");
    fill($("hits"), hits.map((hit) => el("li", { class: "hit", dataset: { recording: hit.recording_id } },
      el("div", { class: "hit-head" },
        el("strong", {}, hit.segment.speaker), ` at ${duration(hit.segment.start_seconds)} · call ${hit.call_id}`,
        ` · ${time(hit.call_started_at)}`, hit.agent ? ` · ${hit.agent}` : ""),
      el("p", { class: "segment-text" }, highlighted(hit.segment.text, words)),
      el("button", { type: "button", class: "play-from",
        onclick: () => open(hit.recording_id, hit.segment.start_seconds, hit.segment.id, hit.call_id) },
        `Play from ${duration(hit.segment.start_seconds)}`))));
  } catch (error) {
    say($("search-status"), error.message, "error");
  }
}

async function open(recordingId, offset, segmentId, callId) {
  const recording = await api("GET", `/api/recordings/${recordingId}`);
  shown = recording;
  $("player-card").hidden = false;
  $("recording-title").textContent = `${recording.sid} · call ${recording.call_id} · ${duration(recording.duration_seconds)}`;
  $("score-link").href = `/console/scoring?call=${callId || recording.call_id}`;
  fill($("transcript"), recording.segments.map((s) => el("li", {
      class: `turn ${s.speaker}${s.id === segmentId ? " current" : ""}`, dataset: { start: s.start_seconds } },
    el("span", { class: "speaker" }, s.speaker), el("span", { class: "at" }, duration(s.start_seconds)),
    el("span", { class: "words" }, s.text),
    el("button", { type: "button", class: "link", onclick: () => playFrom(s.start_seconds) }, "▶"))));
  const player = $("player");
  if (!recording.audio_url) {
    say($("search-status"), `No audio: ${recording.audio_status}`, "warn");
    return;
  }
  player.src = recording.audio_url;
  playFrom(offset);
}

function playFrom(offset) {
  const player = $("player");
  const start = () => {
    player.currentTime = offset;
    player.play().catch(() => {}).finally(() => loadAccess());
  };
  if (player.readyState >= 1) start();
  else player.addEventListener("loadedmetadata", start, { once: true });
}

async function loadAccess() {
  if (!shown) return;
  const { access } = await api("GET", `/api/recordings/${shown.id}/access`);
  fill($("access"), access.length
    ? access.map((a) => el("li", {}, `${a.username} · ${a.action} · ${new Date(a.at).toLocaleString()}`,
        a.range ? ` · ${a.range}` : ""))
    : [el("li", { class: "hint" }, "nobody yet")]);
}

function main() {
  $("search-form").addEventListener("submit", search);
  $("player").addEventListener("timeupdate", () => {
    $("player-position").textContent = `at ${duration($("player").currentTime)}`;
    $("player").dataset.position = String($("player").currentTime);
  });
  $("player").addEventListener("playing", () => setTimeout(loadAccess, 300));
  if (config.query) search();
  if (config.recording) open(config.recording, 0, null, null);
}

main();
