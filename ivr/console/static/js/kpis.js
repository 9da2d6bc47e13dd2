// KPIs of the day: figures per skill for the wallboard, and the KPI page's charts (Chart.js,
// served by the service from frontend/node_modules) from /api/reports/charts.

import { api } from "./api.js";

function today() {
  return new Date().toLocaleDateString("en-CA"); // YYYY-MM-DD, the browser's day
}

// {skill: {serviceLevel: "87%", answered: 12, abandoned: 1}} for today.
export async function kpiBySkill(skills) {
  const figures = {};
  const day = today();
  await Promise.all(skills.map(async (skill) => {
    const data = await api("GET", `/api/reports/kpis?from=${day}&to=${day}&skill=${encodeURIComponent(skill)}`);
    figures[skill] = summarise(data);
  }));
  return figures;
}

function summarise(data) {
  const totals = data.totals || data.summary || data;
  const level = totals.service_level ?? totals.service_level_percent;
  return {
    serviceLevel: level === null || level === undefined ? "—"
      : `${Math.round(level <= 1 ? level * 100 : level)}%`,
    answered: totals.answered ?? totals.calls_answered ?? "—",
    abandoned: totals.abandoned ?? totals.calls_abandoned ?? "—",
  };
}

// -- the KPI page ----------------------------------------------------------------------------

const PALETTE = ["#2457c5", "#137a4b", "#b42318", "#a86400", "#5b2a9c", "#0e7490", "#667085"];

// A chart from the API as Chart.js wants it: {type, labels, datasets} are passed through;
// {labels, series: {name: [values]}} becomes one dataset per series.
export function chartConfig(spec) {
  const labels = spec.labels || [];
  let datasets = spec.datasets;
  if (!datasets && spec.series) {
    const series = Array.isArray(spec.series)
      ? spec.series
      : Object.entries(spec.series).map(([label, data]) => ({ label, data }));
    datasets = series.map((s) => ({ label: s.label || s.name, data: s.data || s.values }));
  }
  datasets = (datasets || []).map((d, i) => ({
    borderColor: PALETTE[i % PALETTE.length],
    backgroundColor: PALETTE[i % PALETTE.length] + (spec.type === "line" ? "33" : "cc"),
    ...d,
  }));
  const type = spec.type || spec.kind || "bar";
  return {
    type: type === "histogram" ? "bar" : type,
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      plugins: { legend: { position: "bottom" } },
      scales: type === "pie" || type === "doughnut" ? {} : {
        y: { beginAtZero: true, title: { display: !!spec.y_label, text: spec.y_label || "" } },
        x: { stacked: !!spec.stacked, title: { display: !!spec.x_label, text: spec.x_label || "" } },
      },
    },
  };
}

function chartsOf(data) {
  const charts = data.charts || data;
  if (Array.isArray(charts)) return charts.map((c, i) => [c.name || c.key || `chart${i}`, c]);
  return Object.entries(charts).filter(([, c]) => c && typeof c === "object" && (c.labels || c.datasets));
}

const drawn = [];

async function showDay() {
  const day = document.getElementById("day").value || today();
  const status = document.getElementById("kpi-status");
  status.textContent = "loading…";
  try {
    const [kpis, charts] = await Promise.all([
      api("GET", `/api/reports/kpis?from=${day}&to=${day}&period=day`),
      api("GET", `/api/reports/charts?date=${day}`),
    ]);
    showTiles(kpis);
    while (drawn.length) drawn.pop().destroy();
    const holder = document.getElementById("kpi-page");
    holder.replaceChildren();
    for (const [name, spec] of chartsOf(charts)) {
      const canvas = document.createElement("canvas");
      canvas.id = `chart-${name}`;
      const card = document.createElement("section");
      card.className = "card";
      const title = document.createElement("h2");
      title.textContent = spec.title || name.replaceAll("_", " ");
      card.append(title, canvas);
      holder.append(card);
      drawn.push(new window.Chart(canvas, chartConfig(spec)));
    }
    holder.dataset.charts = String(drawn.length);
    status.textContent = `${day}`;
  } catch (error) {
    status.textContent = error.message;
  }
}

function showTiles(kpis) {
  const totals = kpis.totals || kpis.summary || kpis;
  const tiles = document.getElementById("tiles");
  tiles.replaceChildren();
  for (const [name, value] of Object.entries(totals)) {
    if (typeof value !== "number") continue;
    const tile = document.createElement("div");
    const strong = document.createElement("strong");
    strong.textContent = Number.isInteger(value) ? value : value.toFixed(2);
    tile.append(strong, name.replaceAll("_", " "));
    tiles.append(tile);
  }
}

if (document.getElementById("kpi-page")) {
  const input = document.getElementById("day");
  if (!input.value) input.value = today();
  input.addEventListener("change", showDay);
  showDay();
}
