// The map: MapLibre GL JS with a self-contained style (background, Natural Earth land, zones,
// vessels, trails, events). No tile server, no glyphs: nothing here draws text.

import { CATEGORIES, categoryInfo, el, fmtTime } from "./categories.js";

export const REGIMES = {
  eez: { label: "EEZ", colour: "#4dd0e1", fill: 0.05 },
  contiguous_zone: { label: "Contiguous zone", colour: "#ff9f5a", fill: 0.07 },
  archipelagic_waters: { label: "Archipelagic waters", colour: "#b197fc", fill: 0.08 },
  internal_waters: { label: "Internal waters", colour: "#9775fa", fill: 0.1 },
  disputed: { label: "Disputed area", colour: "#ffd43b", fill: 0.13 },
  protected_area: { label: "Protected area", colour: "#69db7c", fill: 0.12 },
  territorial_sea: { label: "Territorial sea", colour: "#ff6b6b", fill: 0.12 },
  watch_area: { label: "Watch area", colour: "#f783ff", fill: 0.14 },
};
const SEVERITY_COLOUR = { high: "#ff5c5c", medium: "#ffa23a", low: "#ffe066", info: "#9fb3c8" };
const FLUSH_MS = 250; // setData at most 4 times a second
const TRAIL_POINTS = 12;
const TRAIL_SECONDS = 3600;
const TRAIL_MIN_ZOOM = 4;
const EMPTY = { type: "FeatureCollection", features: [] };

function matchColour(property, table, fallback) {
  const expr = ["match", ["get", property]];
  for (const [key, value] of Object.entries(table)) expr.push(key, value);
  expr.push(fallback);
  return expr;
}

const CATEGORY_COLOUR = matchColour("cat", Object.fromEntries(CATEGORIES.map((c) => [c.id, c.colour])), "#c4ccd6");
const REGIME_COLOUR = matchColour("regime", Object.fromEntries(Object.entries(REGIMES).map(([k, v]) => [k, v.colour])), "#cccccc");
const REGIME_FILL = matchColour("regime", Object.fromEntries(Object.entries(REGIMES).map(([k, v]) => [k, v.fill])), 0.08);

const LINE_WIDTH = ["interpolate", ["linear"], ["zoom"], 3, 0.7, 8, 1.6];

function style() {
  return {
    version: 8,
    sources: {
      land: { type: "geojson", data: "data/land.geojson", attribution: "Made with Natural Earth" },
      zones: { type: "geojson", data: EMPTY, promoteId: "id" },
      trails: { type: "geojson", data: EMPTY },
      track: { type: "geojson", data: EMPTY },
      events: { type: "geojson", data: EMPTY },
      vessels: { type: "geojson", data: EMPTY },
    },
    layers: [
      { id: "sea", type: "background", paint: { "background-color": "#0d2136" } },
      { id: "zone-fill", type: "fill", source: "zones", paint: { "fill-color": REGIME_COLOUR, "fill-opacity": REGIME_FILL } },
      { id: "land", type: "fill", source: "land", paint: { "fill-color": "#4f5966" } },
      { id: "coast", type: "line", source: "land", paint: { "line-color": "#6d7a8a", "line-width": 0.6 } },
      { id: "zone-line", type: "line", source: "zones", filter: ["!", ["get", "approximate"]],
        paint: { "line-color": REGIME_COLOUR, "line-width": LINE_WIDTH } },
      { id: "zone-line-approx", type: "line", source: "zones", filter: ["get", "approximate"],
        paint: { "line-color": REGIME_COLOUR, "line-width": LINE_WIDTH, "line-dasharray": [3, 3] } },
      { id: "trails", type: "line", source: "trails", minzoom: TRAIL_MIN_ZOOM,
        paint: { "line-color": CATEGORY_COLOUR, "line-width": 1.2, "line-opacity": 0.55 } },
      { id: "track", type: "line", source: "track",
        paint: { "line-color": "#ffd84d", "line-width": 2.2, "line-opacity": 0.9 } },
      { id: "events", type: "circle", source: "events",
        paint: { "circle-radius": ["case", ["get", "sel"], 13, 8], "circle-color": "rgba(0,0,0,0)",
          "circle-stroke-width": ["case", ["get", "sel"], 3, 2],
          "circle-stroke-color": matchColour("severity", SEVERITY_COLOUR, "#9fb3c8") } },
      { id: "vessel-dots", type: "circle", source: "vessels",
        paint: { "circle-color": CATEGORY_COLOUR,
          "circle-radius": ["interpolate", ["linear"], ["zoom"], 3, 3, 6, 3.6, 9, 3.8],
          "circle-stroke-color": "#0b1520", "circle-stroke-width": 1 } },
      { id: "vessel-icons", type: "symbol", source: "vessels", minzoom: 5.5,
        layout: {
          "icon-image": ["concat", ["case", ["get", "moving"], "v-", "s-"], ["get", "cat"]],
          "icon-rotate": ["get", "rot"], "icon-rotation-alignment": "map",
          "icon-size": ["interpolate", ["linear"], ["zoom"], 5.5, 0.7, 10, 1.1],
          "symbol-sort-key": ["get", "rank"],
          "icon-allow-overlap": false, "icon-padding": 1,
        } },
      { id: "vessel-selected", type: "circle", source: "vessels", filter: ["get", "sel"],
        paint: { "circle-radius": 14, "circle-color": "rgba(0,0,0,0)",
          "circle-stroke-color": "#ffd84d", "circle-stroke-width": 2.5 } },
    ],
  };
}

// One icon per category and state: a heading triangle ("v-") or, with no heading or course,
// or stopped, a disc ("s-"). Shapes differ by category so colour is not the only cue.
function iconCanvas(cat, moving) {
  const size = 48;
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  const g = canvas.getContext("2d");
  const colour = categoryInfo(cat).colour;
  g.lineJoin = "round";
  g.beginPath();
  if (!moving) {
    g.arc(24, 24, 9, 0, Math.PI * 2);
  } else if (cat === "member") { // arrowhead with a notch
    g.moveTo(24, 4); g.lineTo(40, 42); g.lineTo(24, 33); g.lineTo(8, 42);
  } else if (cat === "government") { // kite
    g.moveTo(24, 4); g.lineTo(38, 26); g.lineTo(24, 44); g.lineTo(10, 26);
  } else if (cat === "fishing") { // narrow
    g.moveTo(24, 6); g.lineTo(33, 42); g.lineTo(15, 42);
  } else { // cargo, unknown: broad
    g.moveTo(24, 6); g.lineTo(40, 42); g.lineTo(8, 42);
  }
  g.closePath();
  g.fillStyle = cat === "unknown" ? "rgba(196,204,214,0.35)" : colour;
  g.fill();
  g.lineWidth = cat === "member" || cat === "government" ? 4 : 3;
  g.strokeStyle = cat === "member" || cat === "government" ? "#ffffff" : cat === "unknown" ? colour : "#0d2136";
  g.stroke();
  return canvas;
}

function icon(cat, moving) {
  return iconCanvas(cat, moving).getContext("2d").getImageData(0, 0, 48, 48);
}

// The map's symbol for a category, as an image URL for the legend and the dossier.
export function iconUrl(cat) {
  return iconCanvas(cat, true).toDataURL();
}

const RANK = { member: 0, government: 1, fishing: 2, cargo: 3, unknown: 4 };

export class MapView {
  constructor(container, { onVessel, onEvent }) {
    this.vessels = new Map(); // mmsi -> {v, cat}
    this.trails = new Map(); // mmsi -> [[lon, lat, t]]
    this.selected = null;
    this.filter = null; // (vessel, category) -> shown?
    this.shown = 0; // vessels drawn at the last redraw
    this.dirty = false;
    this.lastFlush = 0;
    this.lastTrails = 0;
    this.interval = FLUSH_MS;
    this.flushes = 0;
    this.events = [];
    this.selectedEvent = null;
    this.ready = new Promise((resolve) => { this._resolveReady = resolve; });
    this.map = new this.constructor.maplibregl.Map({
      container, style: style(), center: [114, 12], zoom: 4, attributionControl: { compact: true },
      dragRotate: false, pitchWithRotate: false, maxPitch: 0,
    });
    this.map.touchZoomRotate.disableRotation();
    this.map.addControl(new this.constructor.maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.map.addControl(new this.constructor.maplibregl.ScaleControl({ unit: "nautical" }), "bottom-right");
    this.map.on("load", () => {
      for (const c of CATEGORIES) {
        this.map.addImage(`v-${c.id}`, icon(c.id, true), { pixelRatio: 2 });
        this.map.addImage(`s-${c.id}`, icon(c.id, false), { pixelRatio: 2 });
      }
      this._resolveReady();
    });
    for (const layer of ["vessel-icons", "vessel-dots"]) {
      this.map.on("click", layer, (e) => { if (!this.picking) onVessel(e.features[0].properties.mmsi); });
      this.map.on("mouseenter", layer, () => { this.map.getCanvas().style.cursor = "pointer"; });
      this.map.on("mouseleave", layer, () => { this.map.getCanvas().style.cursor = ""; });
    }
    this.map.on("click", "events", (e) => { if (!this.picking) onEvent(e.features[0].properties.id); });
    this.picking = null; // pick(): the next click's position goes there, and opens nothing
    this.map.on("click", (e) => {
      const done = this.picking;
      if (!done) return;
      setTimeout(() => { this.picking = null; }, 0); // after the layers' handlers of this click
      this.map.getCanvas().style.cursor = "";
      done(e.lngLat);
    });
    this.incidentMarker = null;
    this._popups(this.constructor.maplibregl);
    this.map.on("zoomend", () => { this.dirty = true; }); // trails appear when zoomed in
    // Frame time, smoothed: where drawing is slow (software WebGL, a busy machine) the
    // vessels are redrawn less often, so the map stays responsive between redraws.
    this.frameMs = 16;
    let previous = null;
    const tick = (t) => {
      if (previous !== null) this.frameMs = 0.9 * this.frameMs + 0.1 * Math.min(t - previous, 2000);
      previous = t;
      this._maybeFlush();
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  // A tip on hovering a vessel; the zones under a click that hit no vessel or alert.
  _popups(maplibregl) {
    const tip = new maplibregl.Popup({ closeButton: false, closeOnClick: false, offset: 12 });
    const show = (e) => {
      const entry = this.vessels.get(e.features[0].properties.mmsi);
      if (!entry) return;
      const { v, cat } = entry;
      tip.setLngLat([v.lon, v.lat]).setDOMContent(el("div", { class: "tip" },
        el("strong", {}, v.name || `MMSI ${v.mmsi}`), el("br"),
        `${categoryInfo(cat).label} · ${v.flag || "flag unknown"} · ${v.speed_kn ?? "–"} kn`, el("br"),
        `seen ${fmtTime(v.observed_at)}`)).addTo(this.map);
    };
    for (const layer of ["vessel-icons", "vessel-dots"]) {
      this.map.on("mousemove", layer, show);
      this.map.on("mouseleave", layer, () => tip.remove());
    }
    this.map.on("click", "zone-fill", (e) => {
      if (this.picking) return;
      const hit = this.map.queryRenderedFeatures(e.point, { layers: ["vessel-icons", "vessel-dots", "events"] });
      if (hit.length) return;
      const zones = e.features.map((f) => f.properties);
      new maplibregl.Popup({ offset: 6, maxWidth: "320px" }).setLngLat(e.lngLat).setDOMContent(el("div", { class: "tip" },
        zones.map((z) => el("p", {}, el("strong", {}, z.name), el("br"),
          `${(REGIMES[z.regime]?.label || z.regime)} · owners: ${(Array.isArray(z.owners) ? z.owners : JSON.parse(z.owners)).join(", ") || "none"}`,
          String(z.approximate) === "true" && !z.name.includes("approximate") ? [el("br"), "approximate, not a legal boundary"] : null)))).addTo(this.map);
    });
  }

  setZones(geojson) {
    const order = Object.keys(REGIMES);
    geojson.features.sort((a, b) => order.indexOf(a.properties.regime) - order.indexOf(b.properties.regime));
    this.map.getSource("zones").setData(geojson);
  }

  // A vessel's new state, into what the map shows or (replaying) into the live picture kept
  // aside, `into` = {vessels, trails}.
  upsert(vessel, cat, into = this) {
    const mmsi = vessel.mmsi;
    const t = Date.parse(vessel.observed_at) / 1000;
    let trail = into.trails.get(mmsi);
    if (!trail) { trail = []; into.trails.set(mmsi, trail); }
    const last = trail[trail.length - 1];
    if (!last || last[0] !== vessel.lon || last[1] !== vessel.lat) trail.push([vessel.lon, vessel.lat, t]);
    while (trail.length > TRAIL_POINTS || (trail.length && t - trail[0][2] > TRAIL_SECONDS)) trail.shift();
    into.vessels.set(mmsi, { v: vessel, cat });
    if (into === this) this.dirty = true;
  }

  // Show another picture (a replay, or the live one back); returns the one it replaces.
  replaceAll(vessels, trails) {
    const old = { vessels: this.vessels, trails: this.trails };
    this.vessels = vessels;
    this.trails = trails;
    this.lastTrails = 0;
    this.dirty = true;
    return old;
  }

  setFilter(test) {
    this.filter = test;
    this.dirty = true;
  }

  select(mmsi) {
    this.selected = mmsi;
    this.dirty = true;
  }

  // At most every FLUSH_MS, and never more than a fifth of the time spent building the data
  // (20,000 vessels take tens of milliseconds). Trails, heavier, at most once a second and
  // only where the trails layer shows.
  _maybeFlush() {
    const now = performance.now();
    if (!this.dirty || now - this.lastFlush < this.interval || !this.map.getSource("vessels")) return;
    this.dirty = false;
    this.lastFlush = now;
    this.flushes += 1;
    const withTrails = now - this.lastTrails >= 1000 && this.map.getZoom() >= TRAIL_MIN_ZOOM;
    const features = [];
    const trails = [];
    const filter = this.filter;
    let shown = 0;
    for (const [mmsi, { v, cat }] of this.vessels) {
      if (filter && !filter(v, cat)) continue;
      shown += 1;
      const heading = v.heading_deg ?? v.course_deg;
      const moving = heading !== null && heading !== undefined && (v.speed_kn ?? 1) >= 0.5;
      features.push({ type: "Feature", geometry: { type: "Point", coordinates: [v.lon, v.lat] },
        properties: { mmsi, cat, rot: moving ? heading : 0, moving, sel: mmsi === this.selected, rank: RANK[cat] ?? 5 } });
      const trail = withTrails ? this.trails.get(mmsi) : null;
      if (trail && trail.length > 1) {
        trails.push({ type: "Feature", geometry: { type: "LineString", coordinates: trail.map((p) => [p[0], p[1]]) },
          properties: { cat } });
      }
    }
    this.shown = shown;
    this.map.getSource("vessels").setData({ type: "FeatureCollection", features });
    if (withTrails) {
      this.lastTrails = now;
      this.map.getSource("trails").setData({ type: "FeatureCollection", features: trails });
    }
    this.interval = Math.max(FLUSH_MS, 5 * (performance.now() - now), 6 * this.frameMs);
  }

  setTrack(points) {
    const coords = points.map((p) => [p.lon, p.lat]);
    const data = coords.length > 1
      ? { type: "FeatureCollection", features: [{ type: "Feature", geometry: { type: "LineString", coordinates: coords }, properties: {} }] }
      : EMPTY;
    this.map.getSource("track")?.setData(data);
  }

  setEvents(events, selectedId) {
    this.events = events;
    this.selectedEvent = selectedId;
    const features = events.filter((e) => e.lat !== null && e.lon !== null).map((e) => ({
      type: "Feature", geometry: { type: "Point", coordinates: [e.lon, e.lat] },
      properties: { id: e.id, severity: e.severity, sel: e.id === selectedId },
    }));
    this.map.getSource("events")?.setData({ type: "FeatureCollection", features });
  }

  // The next click on the map gives its position ({lng, lat}) to `done`.
  pick(done) {
    this.picking = done;
    this.map.getCanvas().style.cursor = "crosshair";
  }

  // A marker where the incident shown happened (lon, lat), or none (null).
  markIncident(lon, lat) {
    if (lon === null || lon === undefined) {
      this.incidentMarker?.remove();
      this.incidentMarker = null;
      return;
    }
    if (!this.incidentMarker) {
      const element = el("div", { class: "incident-marker", title: "the incident's place" });
      this.incidentMarker = new this.constructor.maplibregl.Marker({ element });
    }
    this.incidentMarker.setLngLat([lon, lat]).addTo(this.map);
  }

  flyTo(lon, lat, zoom = 9) {
    this.map.flyTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), zoom), speed: 1.6 });
  }

  fitTo(bounds) {
    this.map.fitBounds(bounds, { padding: 30, maxZoom: 9, animate: false });
  }
}
