// Lookout web app: sign in, then the map, the alerts feed and the detail panel.

import { Unauthorized, clearSession, getJson, login, openStream, refreshSession, saveSession, session } from "./api.js";
import { CATEGORIES, categoryOf, el, memberFlags } from "./categories.js";
import { vesselPanel } from "./dossier.js";
import { Feed, eventPanel } from "./feed.js";
import { Filters } from "./filters.js";
import { Incidents, incidentOfRequest } from "./incidents.js";
import { Replay } from "./replay.js";
import { MapView, REGIMES, iconUrl } from "./mapview.js";

const $ = (id) => document.getElementById(id);
const state = { map: null, feed: null, stream: null, flags: new Set(), members: new Set(), states: {}, regimes: new Set(), panel: null, exercise: false,
  replay: null, filters: null, live: null, refreshTimer: null, incidents: null };
const STREAM_KINDS = "vessel,event,alert,alert_state";
const REFRESH_BEFORE_MS = 60_000; // refresh the access token a minute before it expires
window.lookout = state; // for the browser tests and the curious

function showLogin(message = "") {
  state.stream?.stop();
  clearTimeout(state.refreshTimer);
  $("app").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message;
  $("login-user").focus();
}

async function signIn(event) {
  event.preventDefault();
  const token = $("login-token").value.trim();
  const username = $("login-user").value.trim();
  $("login-error").textContent = "";
  try {
    if (token) {
      saveSession({ token, who: "API token" });
    } else {
      if (!username) throw new Error("enter a user name and password, or an API token");
      const answer = await login(username, $("login-password").value);
      if (answer === null) throw new Error("this server has no member sign-in yet: paste an API token");
      const until = new Date(Date.now() + answer.expires_in * 1000).toISOString();
      saveSession({ token: answer.access_token, who: `${username} · ${answer.member} (${answer.role})`,
        member: answer.member, role: answer.role, until });
    }
    await getJson("/api/v1/status");
  } catch (err) {
    clearSession();
    showLogin(err instanceof Unauthorized ? "that token is not valid" : err.message);
    return;
  }
  $("login-password").value = "";
  $("login-token").value = "";
  start();
}

function legend() {
  $("legend-zones").replaceChildren(...Object.entries(REGIMES)
    .filter(([id]) => state.regimes.has(id))
    .map(([, r]) => el("li", {}, el("span", { class: "swatch", style: `border-color:${r.colour};background:${r.colour}33` }), r.label)),
  ...(state.approximate ? [el("li", {}, el("span", { class: "swatch dashed", style: "border-color:#c4ccd6" }), "dashed: approximate, not a legal boundary")] : []));
  $("legend-vessels").replaceChildren(...CATEGORIES.map((c) =>
    el("li", {}, el("img", { src: iconUrl(c.id), width: 16, height: 16, alt: "" }), c.label)));
}

function clock() {
  const now = new Date().toISOString();
  $("clock").textContent = `${now.slice(0, 10)} ${now.slice(11, 19)} UTC`;
  $("clock").setAttribute("datetime", now);
}

function refreshBanners() {
  let simulated = false;
  for (const { v } of state.map.vessels.values()) { if (v.simulated) { simulated = true; break; } }
  $("banner-simulated").hidden = !simulated;
  $("banner-exercise").hidden = !state.exercise;
  const { open } = state.feed.counts();
  const total = state.map.vessels.size;
  const noun = total === 1 ? "vessel" : "vessels";
  const vessels = state.map.filter ? `${state.map.shown} of ${total} ${noun}` : `${total} ${noun}`;
  $("counts").textContent = `${vessels} · ${open} open alerts`;
}

const IDENTITY = ["name", "callsign", "imo", "ship_type", "destination", "length_m", "positions"];

function addVessel(v) {
  // A partial update (sharing: only the latest position is released to us) carries no
  // identity; keep what we already know of the vessel.
  const into = state.live || state.map; // replaying: the live picture kept aside
  const known = v.partial ? into.vessels.get(v.mmsi)?.v : null;
  if (known) for (const k of IDENTITY) if (v[k] == null) v[k] = known[k];
  for (const m of v.members || []) {
    if (!state.members.has(m)) { state.members.add(m); state.flags = memberFlags(state.members, state.states); }
  }
  state.map.upsert(v, categoryOf(v, state.flags), into);
}

function showPanel(title, body, focus) {
  if (state.panel?.kind !== "incident" && state.panel?.kind !== "report") state.map.markIncident(null);
  $("panel-title").textContent = title;
  $("panel-body").replaceChildren(...body.filter(Boolean));
  $("panel").hidden = false;
  document.querySelector(".main").classList.add("panel-open");
  if (focus) $("panel").focus();
}

function closePanel() {
  $("panel").hidden = true;
  document.querySelector(".main").classList.remove("panel-open");
  state.panel = null;
  state.map.picking = null;
  state.map.markIncident(null);
  state.map.select(null);
  state.map.setTrack([]);
  $("feed").focus();
}

async function openEvent(id, { focusPanel = false } = {}) {
  try {
    const shown = await eventPanel(state.feed, id, { openVessel, flyTo: (lon, lat) => state.map.flyTo(lon, lat),
      onMark: (what) => markAlert(id, what),
      onIncident: state.incidents.canAct ? (event) => state.incidents.report(event) : null });
    state.panel = { kind: "event", id, event: shown.event };
    showPanel(shown.title, shown.body, focusPanel);
    if (shown.event.lat !== null) state.map.flyTo(shown.event.lon, shown.event.lat);
    state.map.setEvents(eventsOnMap(), id);
  } catch (err) {
    handle(err);
  }
}

async function openVessel(mmsi) {
  try {
    const cat = state.map.vessels.get(mmsi)?.cat || "unknown";
    const shown = await vesselPanel(mmsi, {
      category: cat,
      onEvent: (e) => { state.feed.addEvent(e); state.feed.select(e.id); },
      onTrack: (points) => state.map.setTrack(points),
    });
    state.exercise = state.exercise || shown.exercise;
    addVessel(shown.vessel);
    state.panel = { kind: "vessel", mmsi };
    state.map.select(mmsi);
    showPanel(shown.title, shown.body, true);
    state.map.flyTo(shown.vessel.lon, shown.vessel.lat, 8);
    refreshBanners();
  } catch (err) {
    handle(err);
  }
}

function eventsOnMap() {
  return state.feed.shown().map((i) => i.event).filter((e) => e.status !== "retracted");
}

function handle(err) {
  if (err instanceof Unauthorized) {
    const until = session()?.until;
    clearSession();
    showLogin(until && Date.now() >= Date.parse(until) ? "your session ended: sign in again" : "signed out: the token is no longer valid");
    return;
  }
  console.error(err);
  $("link-state").textContent = `error: ${err.message}`;
}

function onKey(e) {
  const tag = e.target.tagName;
  if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || $("app").hidden) return;
  if (e.key === "Escape" && !$("panel").hidden) { e.preventDefault(); closePanel(); return; }
  const id = state.feed.selected;
  if (!id || e.ctrlKey || e.metaKey || e.altKey) return;
  const key = e.key.toLowerCase();
  if (key === "a" || key === "e") {
    markAlert(id, key === "a" ? "ack" : "esc");
  } else if (key === "v") {
    const event = state.feed.items.get(id)?.event;
    const mmsi = event?.mmsi ?? event?.mmsis?.[0];
    if (mmsi) openVessel(mmsi);
  }
}

// Acknowledge or escalate for the member (the API tells its other watch officers).
async function markAlert(id, what) {
  try {
    await state.feed.mark(id, what);
  } catch (err) {
    if (err instanceof Unauthorized) { handle(err); return; }
    const text = err.message.startsWith("403")
      ? "Your role may not acknowledge or escalate alerts (a watch officer's may)."
      : `Not recorded: ${err.message}`;
    const note = $("alert-state");
    if (note) note.textContent = text; else $("link-state").textContent = text;
    return;
  }
  if (state.panel?.kind === "event" && state.panel.id === id) openEvent(id);
}

function onStream(kind, payload) {
  if (kind === "vessel") addVessel(payload);
  else if (kind === "alert_state") {
    state.feed.setState(payload);
    if (state.panel?.kind === "event" && state.panel.id === payload.event_id) openEvent(payload.event_id);
  }
  else if (kind === "event") state.feed.addEvent(payload);
  else if (kind === "alert") {
    state.feed.addAlert(payload);
    if (payload.kind === "assistance_request") state.incidents.refresh().catch(handle);
    for (const mmsi of payload.mmsis?.length ? payload.mmsis : [payload.mmsi]) {
      if (mmsi && !state.map.vessels.has(mmsi)) {  // not on the map yet: fetch it
        getJson(`/api/v1/vessels/${mmsi}`).then(addVessel).catch(() => {});
      }
    }
  }
}

function onLinkState(s) {
  const node = $("link-state");
  if (s === "unauthorized") { handle(new Unauthorized("")); return; }
  if (s === "live" && state.wasDown) {  // catch up on what the gap missed
    state.wasDown = false;
    getJson("/api/v1/events", { limit: 500 }).then((r) => r.events.forEach((e) => state.feed.addEvent(e))).catch(handle);
  }
  if (s === "down") state.wasDown = true;
  node.className = `link-state ${s === "live" ? "live" : s === "down" ? "down" : ""}`;
  node.textContent = { live: "live", down: "stream lost: reconnecting", connecting: "connecting…" }[s];
}

// The picture's calls, started as soon as the user is signed in (while the map loads).
function fetchPicture() {
  return Promise.all([
    getJson("/api/v1/zones"),
    getJson("/api/v1/vessels", { limit: 100000 }),
    getJson("/api/v1/events", { limit: 500 }),
    getJson("/api/v1/sources").catch(() => ({ sources: [] })),
    getJson("/app/states.json").catch(() => ({ alpha2_of_state: {} })),
  ]);
}

async function loadPicture(fetched) {
  const [zones, vessels, events, sources, states] = await fetched;
  state.states = states.alpha2_of_state;
  state.members = new Set(sources.sources.map((s) => s.member));
  if (session().member) state.members.add(session().member);
  for (const f of zones.features) {  // zone owners that are members ("PHL-PCG"), not bare states
    for (const owner of f.properties.owners) if (owner.includes("-")) state.members.add(owner);
  }
  state.flags = memberFlags(state.members, state.states);
  state.regimes = new Set(zones.features.map((f) => f.properties.regime));
  state.approximate = zones.features.some((f) => f.properties.approximate);
  for (const f of zones.features) state.feed.zoneNames.set(f.properties.id, f.properties.name);
  state.map.setZones(zones);
  state.filters.setZones(zones.features);
  for (const v of vessels.vessels) addVessel(v);
  for (const e of events.events) state.feed.addEvent(e);
  state.feed.member = session().member || null;
  state.feed.load().catch((err) => console.warn("alert states not loaded", err));
  legend();
  const view = initialView(zones.features, vessels.vessels);
  if (view) state.map.fitTo(view);
}

function bounds(points) {
  let [w, s, e, n] = [180, 90, -180, -90];
  for (const [lon, lat] of points) {
    w = Math.min(w, lon); e = Math.max(e, lon); s = Math.min(s, lat); n = Math.max(n, lat);
  }
  return w <= e ? [[w, s], [e, n]] : null;
}

// The watched region when most vessels are in it (a new user sees the whole picture), else
// wherever the vessels are (a replay elsewhere).
function initialView(zoneFeatures, vessels) {
  const corners = [];
  const walk = (c) => { if (typeof c[0] === "number") corners.push(c); else c.forEach(walk); };
  for (const f of zoneFeatures) walk(f.geometry.coordinates);
  const region = bounds(corners);
  const fleet = bounds(vessels.map((v) => [v.lon, v.lat]));
  if (!region) return fleet;
  const inside = vessels.filter((v) => v.lon >= region[0][0] && v.lon <= region[1][0] && v.lat >= region[0][1] && v.lat <= region[1][1]);
  return !fleet || inside.length * 2 >= vessels.length ? region : fleet;
}

// -- replay, filters, sources, token refresh -------------------------------------------------

function showReplay(at, vessels, trails) {
  const entries = new Map(vessels.map((v) => [v.mmsi, { v, cat: categoryOf(v, state.flags) }]));
  const old = state.map.replaceAll(entries, trails);
  if (!state.live) state.live = old; // the live picture, kept up to date while replaying
  state.feed.until = at;
  state.feed.render();
  refreshBanners();
}

function backToLive() {
  if (state.live) state.map.replaceAll(state.live.vessels, state.live.trails);
  state.live = null;
  state.feed.until = null;
  state.feed.render();
  refreshBanners();
}

function filtersChanged() {
  const f = state.filters;
  state.map.setFilter(f.active() ? (v, cat) => f.vesselMatch(v, cat) : null);
  state.feed.match = (e) => f.eventMatch(e);
  state.feed.render();
  refreshBanners();
}

async function showSources() {
  try {
    const { sources } = await getJson("/api/v1/sources");
    const rows = sources.map((s) => el("tr", {},
      el("td", {}, s.member), el("td", {}, s.name), el("td", {}, s.kind || "–"),
      el("td", {}, String(s.accepted)), el("td", {}, s.simulated ? "simulated" : "")));
    state.panel = { kind: "sources" };
    showPanel("Sources", [
      el("p", { class: "muted small" }, "The sources whose data your member may see: its own, and those released to it."),
      el("table", { class: "grid", id: "sources-table" },
        el("thead", {}, el("tr", {}, ["Member", "Source", "Kind", "Accepted", ""].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, rows)),
    ], true);
  } catch (err) {
    handle(err);
  }
}

// An access token lasts token_ttl_s (15 min by default): a minute before it expires the app
// swaps it for a new one (POST /api/v1/auth/refresh) and reopens the stream with it.
function scheduleRefresh() {
  clearTimeout(state.refreshTimer);
  const until = session()?.until;
  if (!until) return;
  const wait = Math.max(5_000, Date.parse(until) - Date.now() - REFRESH_BEFORE_MS);
  state.refreshTimer = setTimeout(async () => {
    try {
      const next = await refreshSession();
      if (!next) return;
      $("who").title = `signed in until ${next.slice(11, 19)}Z; renewed while the app is open`;
      state.stream?.stop();
      state.stream = openStream(STREAM_KINDS, onStream, onLinkState);
      scheduleRefresh();
    } catch (err) {
      if (err instanceof Unauthorized) { handle(err); return; }
      console.warn("token refresh failed; retrying", err);
      state.refreshTimer = setTimeout(scheduleRefresh, 10_000);
    }
  }, wait);
}

// -- incidents (incidents.js) ---------------------------------------------------------------

// An alert of the feed: its panel, or for an assistance request the incident's page.
function selectAlert(id, opts) {
  const event = state.feed.items.get(id)?.event;
  if (event?.kind === "assistance_request") state.incidents.open(incidentOfRequest(event));
  else openEvent(id, opts);
}

function newIncidents() {
  return new Incidents({
    show: (title, body, key) => { state.panel = key; showPanel(title, body, true); },
    current: () => (state.panel?.kind === "incident" ? state.panel.id : null),
    flyTo: (lon, lat) => state.map.flyTo(lon, lat),
    mark: (lon, lat) => state.map.markIncident(lon, lat),
    pick: (done) => state.map.pick(done),
    openEvent: (id) => { state.feed.select(id); },
    openVessel,
    vesselName: (mmsi) => state.feed.vesselName(mmsi),
    onCount: (open, asked) => {
      $("incidents-count").textContent = String(open);
      $("incidents-button").classList.toggle("asked", asked > 0);
      $("incidents-button").title = `${open} open incidents your member sees${asked ? `; ${asked} asking for assistance` : ""}`;
    },
    onError: handle,
  });
}

let started = false;
async function start() {
  const s = session();
  const picture = fetchPicture();
  picture.catch(() => {}); // handled where it is awaited, below
  $("login").hidden = true;
  $("app").hidden = false;
  $("who").textContent = s.who || "";
  $("who").title = s.until ? `signed in until ${s.until.slice(11, 19)}Z; renewed while the app is open` : "";
  if (!started) {
    started = true;
    let maplibregl;
    try {
      maplibregl = await import("../vendor/maplibre-gl.mjs");
    } catch (err) {
      $("map-error").hidden = false;
      $("map-error").textContent = "The map library is not installed on this server: run `make web` (it copies MapLibre GL JS and the land layer into the app), then reload.";
      throw err;
    }
    MapView.maplibregl = maplibregl;
    state.map = new MapView($("map"), { onVessel: openVessel, onEvent: (id) => state.feed.select(id) });
    state.feed = new Feed($("feed"), $("feed-filter"), { onSelect: selectAlert });
    state.incidents = newIncidents();
    $("incidents-button").addEventListener("click", () => state.incidents.showList());
    state.feed.vesselName = (mmsi) => state.map.vessels.get(mmsi)?.v.name || null;
    state.feed.onRender = () => { state.map.setEvents(eventsOnMap(), state.feed.selected); refreshBanners(); };
    state.replay = new Replay({ slider: $("time-slider"), mode: $("time-mode"), live: $("time-live"),
      onPicture: showReplay, onLive: backToLive, onError: handle });
    state.filters = new Filters($("filters"), { onChange: filtersChanged, onOpen: (v) => openVessel(v.mmsi) });
    state.filters.vessels = () => [...state.map.vessels.values()].map((e) => e.v);
    $("sources-button").addEventListener("click", showSources);
    $("panel-close").addEventListener("click", closePanel);
    document.addEventListener("keydown", onKey);
    clock();
    setInterval(clock, 1000);
    setInterval(refreshBanners, 1000);
  }
  try {
    await state.map.ready;
    await loadPicture(picture);
    await state.incidents.whoAmI().then(() => state.incidents.refresh())
      .catch((err) => { if (err instanceof Unauthorized) throw err; console.warn("incidents not loaded", err); });
    state.stream = openStream(STREAM_KINDS, onStream, onLinkState);
    scheduleRefresh();
  } catch (err) {
    handle(err);
  }
}

$("login-form").addEventListener("submit", signIn);
$("logout").addEventListener("click", () => { clearSession(); location.reload(); });
if (session()) start(); else showLogin();
