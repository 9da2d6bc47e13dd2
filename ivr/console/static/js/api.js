// Small helpers every console page uses: the JSON API with the page's CSRF token, the live
// stream (server-sent events), building elements, and showing durations.

export function pageConfig() {
  const node = document.getElementById("page-config");
  return node ? JSON.parse(node.textContent) : {};
}

export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : "";
}

export class ApiError extends Error {
  constructor(status, reason) {
    super(reason);
    this.status = status;
  }
}

// Calls the API with the session cookie; state changes carry the CSRF token in a header.
export async function api(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRFToken"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { reason: text };
  }
  if (!response.ok) {
    const reason = (data && (data.reason || data.error)) || response.statusText;
    throw new ApiError(response.status, reason);
  }
  return data;
}

// The live stream: `onSnapshot(data)` on connect and after each burst of events,
// `onEvent(message)` for each call event. The browser reconnects by itself.
export function live(params, { onSnapshot, onEvent, onStatus }) {
  const query = new URLSearchParams(params).toString();
  const source = new EventSource(`/console/events?${query}`);
  source.addEventListener("snapshot", (e) => onSnapshot && onSnapshot(JSON.parse(e.data)));
  source.addEventListener("call-event", (e) => onEvent && onEvent(JSON.parse(e.data)));
  source.addEventListener("open", () => onStatus && onStatus("live"));
  source.addEventListener("error", () => onStatus && onStatus("reconnecting"));
  return source;
}

// The server's clock minus the browser's, so counters agree with the service.
export class ServerClock {
  constructor() {
    this.offset = 0;
  }
  sync(serverNowIso) {
    this.offset = Date.parse(serverNowIso) - Date.now();
  }
  now() {
    return Date.now() + this.offset;
  }
  secondsSince(iso) {
    return Math.max(0, Math.round((this.now() - Date.parse(iso)) / 1000));
  }
  secondsUntil(iso) {
    return Math.round((Date.parse(iso) - this.now()) / 1000);
  }
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  const sign = seconds < 0 ? "-" : "";
  let s = Math.abs(Math.round(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${sign}${h}:${pad(m)}:${pad(s)}` : `${sign}${m}:${pad(s)}`;
}

export function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

// el("li", {class: "x", dataset: {id: 1}, onclick: fn}, "text", child, ...)
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function fill(node, ...children) {
  node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
}

export function say(node, text, kind = "info") {
  if (!node) return;
  node.textContent = text;
  node.className = `status ${kind}`;
}
