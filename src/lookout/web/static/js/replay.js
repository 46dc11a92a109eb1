// The time slider: the last 24 hours, back to live. Moving it asks the API for the picture as
// it was (GET /api/v1/vessels?at=): each vessel's latest position within the hour before, from
// the sources the user may see. The trails are the positions at the five 10-minute steps
// before it; events are those that had started by then.

import { getJson } from "./api.js";

const TRAIL_STEPS_MIN = [50, 40, 30, 20, 10];
const SETTLE_MS = 250; // a drag asks once it pauses

function hhmm(ms) {
  return new Date(ms).toISOString().slice(11, 16);
}

export class Replay {
  constructor({ slider, mode, live, onPicture, onLive, onError }) {
    this.slider = slider;
    this.mode = mode;
    this.live = live;
    this.onPicture = onPicture;
    this.onLive = onLive;
    this.onError = onError;
    this.at = null; // ms since epoch while replaying, null when live
    this.seq = 0;
    this.timer = null;
    slider.addEventListener("input", () => this._moved());
    live.addEventListener("click", () => this.goLive());
  }

  _target() {
    const minutes = Number(this.slider.value);
    return minutes >= 0 ? null : Date.now() + minutes * 60_000;
  }

  _label(at) {
    const text = at === null ? "LIVE" : `REPLAY ${hhmm(at)} UTC`;
    this.mode.textContent = text;
    this.mode.className = `time-mode ${at === null ? "live" : "replay"}`;
    this.slider.setAttribute("aria-valuetext", at === null ? "live" : `replay ${hhmm(at)} UTC`);
    this.live.disabled = at === null;
  }

  _moved() {
    const at = this._target();
    this._label(at);
    clearTimeout(this.timer);
    if (at === null) { this.goLive(); return; }
    this.timer = setTimeout(() => this.show(at), SETTLE_MS);
  }

  // Replay the picture at `at` (ms since epoch).
  async show(at) {
    const seq = ++this.seq;
    const times = [at, ...TRAIL_STEPS_MIN.map((m) => at - m * 60_000)];
    try {
      const pictures = await Promise.all(times.map((t) =>
        getJson("/api/v1/vessels", { at: new Date(t).toISOString(), limit: 100000 })));
      if (seq !== this.seq) return; // the slider moved on, or back to live
      this.at = at;
      this._label(at);
      this.onPicture(at, pictures[0].vessels, trailsOf(pictures));
    } catch (err) {
      if (seq === this.seq) this.onError(err);
    }
  }

  goLive() {
    clearTimeout(this.timer);
    this.seq += 1;
    const was = this.at;
    this.at = null;
    this.slider.value = "0";
    this._label(null);
    if (was !== null) this.onLive();
  }
}

// mmsi -> [[lon, lat, t]], oldest first, from pictures newest first.
function trailsOf(pictures) {
  const trails = new Map();
  for (const picture of [...pictures].reverse()) {
    for (const v of picture.vessels) {
      let trail = trails.get(v.mmsi);
      if (!trail) { trail = []; trails.set(v.mmsi, trail); }
      const last = trail[trail.length - 1];
      if (!last || last[0] !== v.lon || last[1] !== v.lat) trail.push([v.lon, v.lat, Date.parse(v.observed_at) / 1000]);
    }
  }
  return trails;
}
