// Search and filters over what is loaded: vessels by MMSI, name or call sign, flag, category
// and zone; events by kind and zone. Enter in the search box also asks the server
// (GET /api/v1/vessels?q=) for vessels not on the map yet, and lists what it found.

import { getJson } from "./api.js";
import { CATEGORIES, el, flagName } from "./categories.js";
import { KIND_HELP } from "./kinds.js";

const MAX_RESULTS = 12;

// Ray casting over one ring of [lon, lat] pairs.
function inRing(lon, lat, ring) {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if ((yi > lat) !== (yj > lat) && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function polygons(geometry) {
  if (geometry.type === "Polygon") return [geometry.coordinates];
  if (geometry.type === "MultiPolygon") return geometry.coordinates;
  return [];
}

// A zone as a fast test: its bounding box first, then its rings (holes subtract).
function zoneTest(feature) {
  const polys = polygons(feature.geometry);
  let [w, s, e, n] = [180, 90, -180, -90];
  for (const poly of polys) for (const [lon, lat] of poly[0]) {
    w = Math.min(w, lon); e = Math.max(e, lon); s = Math.min(s, lat); n = Math.max(n, lat);
  }
  return (lon, lat) => lon >= w && lon <= e && lat >= s && lat <= n
    && polys.some((poly) => inRing(lon, lat, poly[0]) && !poly.slice(1).some((hole) => inRing(lon, lat, hole)));
}

export function vesselMatchesText(v, text) {
  const q = text.trim().toUpperCase();
  if (!q) return true;
  return String(v.mmsi).startsWith(q) || (v.name || "").toUpperCase().includes(q) || (v.callsign || "").toUpperCase().includes(q);
}

export class Filters {
  constructor(form, { onChange, onOpen }) {
    this.form = form;
    this.onChange = onChange;
    this.onOpen = onOpen;
    this.q = form.querySelector("#filter-q");
    this.flag = form.querySelector("#filter-flag");
    this.cat = form.querySelector("#filter-category");
    this.zone = form.querySelector("#filter-zone");
    this.kind = form.querySelector("#filter-kind");
    this.clear = form.querySelector("#filter-clear");
    this.results = form.querySelector("#search-results");
    this.zones = new Map(); // id -> test(lon, lat)
    this.vessels = () => [];
    this.cat.append(...CATEGORIES.map((c) => el("option", { value: c.id }, c.label)));
    this.kind.append(...Object.keys(KIND_HELP).sort().map((k) => el("option", { value: k }, k.replace(/_/g, " "))));
    for (const input of [this.flag, this.cat, this.zone, this.kind]) input.addEventListener("change", () => this._changed());
    this.q.addEventListener("input", () => this._changed());
    this.q.addEventListener("keydown", (e) => { if (e.key === "Escape") this._hideResults(); });
    this.flag.addEventListener("focus", () => this._flagOptions());
    this.clear.addEventListener("click", () => this.reset());
    form.addEventListener("submit", (e) => { e.preventDefault(); this.search(); });
  }

  setZones(features) {
    this.zones = new Map(features.map((f) => [f.properties.id, zoneTest(f)]));
    this.zone.replaceChildren(el("option", { value: "" }, "any zone"),
      ...features.map((f) => el("option", { value: f.properties.id }, f.properties.name)));
  }

  _flagOptions() {
    const current = this.flag.value;
    const flags = [...new Set(this.vessels().map((v) => v.flag).filter(Boolean))].sort();
    this.flag.replaceChildren(el("option", { value: "" }, "any flag"),
      ...flags.map((f) => el("option", { value: f, selected: f === current }, flagName(f))));
  }

  active() {
    return Boolean(this.q.value.trim() || this.flag.value || this.cat.value || this.zone.value || this.kind.value);
  }

  vesselMatch(v, cat) {
    const inZone = this.zone.value ? this.zones.get(this.zone.value) : null;
    return vesselMatchesText(v, this.q.value) && (!this.flag.value || v.flag === this.flag.value)
      && (!this.cat.value || cat === this.cat.value) && (!inZone || inZone(v.lon, v.lat));
  }

  eventMatch(e) {
    const zone = this.zone.value;
    const inZone = zone ? this.zones.get(zone) : null;
    return (!this.kind.value || e.kind === this.kind.value)
      && (!zone || e.zone === zone || (e.lat !== null && inZone && inZone(e.lon, e.lat)));
  }

  _changed() {
    for (const input of [this.q, this.flag, this.cat, this.zone, this.kind]) input.classList.toggle("active", Boolean(input.value));
    this.clear.hidden = !this.active();
    if (!this.q.value.trim()) this._hideResults();
    this.onChange();
  }

  reset() {
    for (const input of [this.q, this.flag, this.cat, this.zone, this.kind]) input.value = "";
    this._changed();
  }

  // The vessels the search finds: those loaded, then the server's (q=), at most a dozen.
  async search() {
    const text = this.q.value.trim();
    if (!text) return;
    const found = new Map(this.vessels().filter((v) => vesselMatchesText(v, text)).map((v) => [v.mmsi, v]));
    try {
      const answer = await getJson("/api/v1/vessels", { q: text, limit: MAX_RESULTS });
      for (const v of answer.vessels) if (!found.has(v.mmsi)) found.set(v.mmsi, v);
    } catch (err) {
      console.warn("server search failed", err);
    }
    const shown = [...found.values()].slice(0, MAX_RESULTS);
    this.results.replaceChildren(...(shown.length ? shown.map((v) => el("li", { role: "option" },
      el("button", { type: "button", onclick: () => { this._hideResults(); this.onOpen(v); } },
        `${v.name || "(no name)"} · ${v.mmsi}${v.callsign ? ` · ${v.callsign}` : ""} · ${v.flag || "–"}`)))
      : [el("li", { class: "muted" }, "no vessel found")]));
    this.results.hidden = false;
    this.results.querySelector("button")?.focus();
  }

  _hideResults() {
    this.results.hidden = true;
  }
}
