// The KPI page: a day's KPIs beside their targets (flagged when off target), the day's four
// charts drawn with Chart.js (served by the service from frontend/node_modules), the figures
// per skill and per agent, and calls by request category. And `kpiBySkill` for the wallboard.
// Everything comes from /api/reports/kpis and /api/reports/charts: the figures the API and
// `ivr report kpis` serve, computed once on the server.

import { api, el, fill, pageConfig, say } from "./api.js";

const config = pageConfig();
const $ = (id) => document.getElementById(id);

// Today in the business timezone (the report's days are business days there).
export function businessToday(timezone = config.timezone) {
  try {
    return new Date().toLocaleDateString("en-CA", { timeZone: timezone || "UTC" });
  } catch {
    return new Date().toLocaleDateString("en-CA");
  }
}

export function formatValue(value, unit) {
  if (value === null || value === undefined) return "—";
  if (unit === "share") return `${(100 * value).toFixed(1)}%`;
  if (unit === "seconds") return `${value.toFixed(1)} s`;
  return String(value);
}

// {skill: {serviceLevel: "87.0%", answered: 12, abandoned: 1}} for today, from one report's
// per-skill rows (a skill nobody called today has 0 calls and no service level).
export async function kpiBySkill(skills) {
  const day = businessToday();
  const data = await api("GET", `/api/reports/kpis?from=${day}&to=${day}&targets=false`);
  const rows = Object.fromEntries(data.skills.map((row) => [row.skill, row]));
  return Object.fromEntries(skills.map((skill) => {
    const row = rows[skill];
    return [skill, {
      serviceLevel: formatValue(row ? row.service_level : null, "share"),
      answered: row ? row.answered : 0,
      abandoned: row ? row.abandoned : 0,
    }];
  }));
}

// -- the KPI page ----------------------------------------------------------------------------

const PALETTE = ["#2457c5", "#137a4b", "#b42318", "#a86400", "#5b2a9c", "#0e7490", "#667085"];
const STATE_COLOURS = {
  available: "#137a4b", reserved: "#a86400", busy: "#2457c5", "wrap-up": "#5b2a9c",
  "not-ready": "#b42318",
};
const TABLE_KPIS = ["offered", "answered", "abandoned", "short_abandoned", "service_level",
  "average_speed_of_answer", "average_handle_time", "longest_wait", "transfers",
  "first_contact_resolution"];
const drawn = [];

// A chart from /api/reports/charts as Chart.js wants it; `target` draws a dashed line.
export function chartConfig(spec, target) {
  const share = spec.unit === "share";
  const datasets = spec.datasets.map((d, i) => {
    const colour = STATE_COLOURS[d.label] || PALETTE[i % PALETTE.length];
    return {
      label: d.label,
      data: d.data,
      borderColor: colour,
      backgroundColor: colour + (spec.type === "line" ? "33" : "cc"),
      spanGaps: false,
    };
  });
  if (target !== undefined && target !== null) {
    datasets.push({ label: "target", data: spec.labels.map(() => target), borderColor: "#b42318",
      borderDash: [6, 4], pointRadius: 0, fill: false });
  }
  return {
    type: spec.type,
    data: { labels: spec.labels, datasets },
    options: {
      animation: false,
      responsive: true,
      plugins: { legend: { position: "bottom" } },
      scales: {
        x: { stacked: !!spec.stacked },
        y: {
          stacked: !!spec.stacked,
          beginAtZero: true,
          max: share ? 1 : undefined,
          title: { display: true, text: spec.unit },
          ticks: share ? { callback: (v) => `${Math.round(v * 100)}%` } : {},
        },
      },
    },
  };
}

function showTiles(report) {
  const totals = report.totals;
  fill($("tiles"), report.kpis.map((kpi) => {
    const target = report.targets[kpi.name];
    const off = totals.off_target.includes(kpi.name);
    return el("div", { class: off ? "off-target" : "", title: kpi.name,
                       dataset: { kpi: kpi.name, value: JSON.stringify(totals[kpi.name]) } },
      el("strong", {}, formatValue(totals[kpi.name], kpi.unit)),
      kpi.label,
      target ? el("small", { class: "hint", title: target.source === "policy"
        ? "fixed in the report policy" : `best month ${target.month}, eased` },
        ` · target ${formatValue(target.target, kpi.unit)}`) : null,
      off ? el("span", { class: "badge late" }, "off target") : null);
  }));
}

function figureRow(key, row, units) {
  return el("tr", { dataset: { key } },
    el("td", {}, key),
    TABLE_KPIS.map((name) => el("td", { class: "num", dataset: { kpi: name } },
      formatValue(row[name], units[name]))),
    el("td", {}, row.off_target.map((name) => el("span", { class: "badge late" }, name))));
}

function showTables(report) {
  const units = Object.fromEntries(report.kpis.map((k) => [k.name, k.unit]));
  const labels = Object.fromEntries(report.kpis.map((k) => [k.name, k.label]));
  for (const id of ["per-skill", "per-agent"]) {
    fill($(id).tHead, el("tr", {}, el("th", {}, id === "per-skill" ? "skill" : "agent"),
      TABLE_KPIS.map((name) => el("th", {}, labels[name])), el("th", {}, "off target")));
  }
  fill($("per-skill").tBodies[0], report.skills.map((row) => figureRow(row.skill, row, units)));
  fill($("per-agent").tBodies[0], report.agents.map((row) => figureRow(row.agent, row, units)));
  $("no-skills").hidden = report.skills.length > 0;
  $("no-agents").hidden = report.agents.length > 0;
  fill($("categories").tBodies[0], Object.entries(report.totals.calls_by_category).map(
    ([category, count]) => el("tr", {}, el("td", {}, category), el("td", { class: "num" }, count))));
  const rules = report.rules;
  $("kpi-rules").textContent = `Service level: answered within ${rules.service_level_seconds} s ` +
    `of (answered + abandoned); abandons under ${rules.short_abandon_seconds} s are short ` +
    `abandons, counted apart; a repeat caller phones again within ${rules.repeat_days} days. ` +
    `Targets: fixed in the report policy, or the best of the last twelve months eased by ` +
    `${Math.round(rules.target_easing * 100)}%. Times on the service's clock, in ${report.timezone}.`;
}

function showCharts(charts, report) {
  while (drawn.length) drawn.pop().destroy();
  const slTarget = report.targets.service_level ? report.targets.service_level.target : null;
  for (const spec of charts.charts) {
    const canvas = $(`chart-${spec.name}`);
    if (!canvas) continue;
    drawn.push(new window.Chart(canvas, chartConfig(spec, spec.name === "service_level" ? slTarget : null)));
  }
  $("kpi-page").dataset.charts = String(drawn.length);
}

async function showDay() {
  const day = $("day").value || businessToday();
  const status = $("kpi-status");
  say(status, "loading…");
  try {
    const [report, charts] = await Promise.all([
      api("GET", `/api/reports/kpis?from=${day}&to=${day}&period=day`),
      api("GET", `/api/reports/charts?date=${day}`),
    ]);
    showTiles(report);
    showTables(report);
    showCharts(charts, report);
    const off = report.totals.off_target.length;
    say(status, `${day}: ${report.totals.offered} calls offered` +
      (off ? `, ${off} KPI${off > 1 ? "s" : ""} off target` : ""), off ? "warn" : "ok");
    $("kpi-page").dataset.day = day;
  } catch (error) {
    say(status, error.message, "error");
  }
}

if ($("kpi-page")) {
  const input = $("day");
  if (!input.value) input.value = businessToday();
  input.addEventListener("change", () => {
    const url = new URL(window.location.href);
    url.searchParams.set("date", input.value);
    window.history.replaceState(null, "", url);
    showDay();
  });
  showDay();
}
