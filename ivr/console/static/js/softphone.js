// The softphone: the same buttons (answer, decline, hang up, mute, hold) whichever carrier
// is behind them. With Twilio, the Voice JavaScript SDK (served by the service from
// frontend/node_modules) registers the agent's client identity with an access token the
// service mints. With the offline carrier, the buttons act on the simulated call through
// its control API (/sim/devices/<identity>): the desktop registers itself as a manual device,
// so calls ring here until the agent answers or declines.

import { api } from "./api.js";

class SimPhone {
  constructor(config, onChange) {
    this.identity = config.identity;
    this.base = `/sim/devices/${encodeURIComponent(config.identity)}`;
    this.onChange = onChange;
    this.call = null; // {sid, status}
    this.expecting = false;
    this.muted = false;
    this.held = false;
    this.kind = "offline carrier";
  }

  async request(method, path, body) {
    const response = await fetch(this.base + path, {
      method,
      headers: { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  async register() {
    // manual: the carrier waits for this page's buttons instead of answering by itself.
    await this.request("PUT", "", { mode: "manual", answer_after: 0, talk_time: 3600 });
    // Asked while a call is expected or up (the agent is reserved or busy): a quiet log.
    this.timer = setInterval(() => {
      if (this.expecting || this.call) this.refresh().catch(() => {});
    }, 1000);
    await this.refresh();
  }

  async refresh() {
    const { calls } = await this.request("GET", "/calls");
    const found = calls.find((c) => c.status === "in-progress") || calls[0] || null;
    const before = JSON.stringify(this.call);
    this.call = found ? { sid: found.sid, status: found.status === "in-progress" ? "connected" : "ringing" } : null;
    if (!this.call) {
      this.muted = false;
      this.held = false;
    }
    if (JSON.stringify(this.call) !== before) this.onChange();
  }

  async act(action) {
    if (!this.call) throw new Error("no call on this phone");
    await this.request("POST", `/calls/${this.call.sid}/${action}`);
    await this.refresh();
  }

  answer() {
    return this.act("answer");
  }
  decline() {
    return this.act("decline");
  }
  hangup() {
    return this.act("hangup");
  }
  // The simulated agent has no microphone: mute and hold are shown, not heard.
  async mute(on) {
    this.muted = on;
    this.onChange();
  }
  async hold(on) {
    this.held = on;
    this.onChange();
  }
}

class TwilioPhone {
  constructor(config, onChange) {
    this.identity = config.identity;
    this.onChange = onChange;
    this.call = null;
    this.twilioCall = null;
    this.muted = false;
    this.held = false;
    this.kind = "Twilio Voice SDK";
  }

  async register() {
    await loadScript("/console/vendor/twilio.min.js");
    const { token } = await api("POST", "/desktop/token");
    this.device = new window.Twilio.Device(token, { closeProtection: true });
    this.device.on("incoming", (call) => this.ringing(call));
    this.device.on("tokenWillExpire", async () => {
      const fresh = await api("POST", "/desktop/token");
      this.device.updateToken(fresh.token);
    });
    this.device.on("error", (error) => console.error("softphone:", error));
    await this.device.register();
  }

  ringing(call) {
    this.twilioCall = call;
    this.call = { sid: call.parameters.CallSid, status: "ringing" };
    const ended = () => {
      this.twilioCall = null;
      this.call = null;
      this.muted = this.held = false;
      this.onChange();
    };
    call.on("accept", () => {
      this.call = { ...this.call, status: "connected" };
      this.onChange();
    });
    call.on("disconnect", ended);
    call.on("cancel", ended);
    call.on("reject", ended);
    this.onChange();
  }

  async refresh() {}

  async answer() {
    this.twilioCall?.accept();
  }
  async decline() {
    this.twilioCall?.reject();
  }
  async hangup() {
    this.twilioCall?.disconnect();
  }
  async mute(on) {
    this.twilioCall?.mute(on);
    this.muted = on;
    this.onChange();
  }
  // A <Dial> bridge has no carrier-side hold: holding mutes the agent's side and shows it.
  async hold(on) {
    this.twilioCall?.mute(on || this.muted);
    this.held = on;
    this.onChange();
  }
}

class NoPhone {
  constructor(config, onChange) {
    this.why = config.why || "no softphone";
    this.onChange = onChange;
    this.call = null;
    this.kind = config.endpoint;
  }
  async register() {}
  async refresh() {}
}

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    document.head.append(script);
  });
}

export function createPhone(config, onChange) {
  if (config.mode === "sim") return new SimPhone(config, onChange);
  if (config.mode === "twilio") return new TwilioPhone(config, onChange);
  return new NoPhone(config, onChange);
}
