// The alerts feed (events with their severity, newest first) and one event's detail panel.
// Acknowledge and escalate go to the API (POST /api/v1/alerts/{id}/ack|escalate): shared by
// the member's watch officers, who get them on the stream (alert_state).

import { getJson, postJson } from "./api.js";
import { el, fmtPos, fmtTime, fmtValue, table } from "./categories.js";
import { KIND_HELP, WHAT_TO_DO } from "./kinds.js";

const RANK = { info: 0, low: 1, medium: 2, high: 3 };
const MAX_SHOWN = 300;

export class Feed {
  constructor(list, filter, { onSelect }) {
    this.list = list;
    this.filter = filter;
    this.onSelect = onSelect;
    this.items = new Map(); // event id -> {event, title, addressees:Set}
    this.marks = {}; // event id -> {ack: iso, ackBy, esc: iso, escBy} (the member's)
    this.member = null; // the signed-in user's member
    this.until = null; // replay: only events started by then (ms since epoch)
    this.match = () => true; // the filters' test of an event
    this.selected = null;
    this.pending = false;
    this.zoneNames = new Map();
    this.vesselName = () => null;
    filter.addEventListener("change", () => this.render());
    list.setAttribute("role", "listbox");
    list.addEventListener("keydown", (e) => this._key(e));
  }

  addEvent(event, extra = {}) {
    const old = this.items.get(event.id);
    const item = old || { event, title: null, addressees: new Set() };
    if (!old || (event.version ?? 1) >= (old.event.version ?? 1) || event.status !== old.event.status) {
      item.event = { ...event, version: Math.max(event.version ?? 1, old ? old.event.version ?? 1 : 1) };
    }
    if (extra.title) item.title = extra.title;
    if (extra.member) item.addressees.add(extra.member);
    this.items.set(event.id, item);
    this._schedule();
  }

  addAlert(alert) {
    // An assistance request's event has no detector severity: the incident's is the alert's.
    const event = alert.kind === "assistance_request" ? { ...alert.event, severity: alert.severity } : alert.event;
    this.addEvent(event, { title: alert.title, member: alert.member });
  }

  titleOf(item) {
    if (item.title) return item.title;
    const e = item.event;
    const who = e.mmsi ? (this.vesselName(e.mmsi) || `MMSI ${e.mmsi}`) : `${e.mmsis.length} vessels`;
    const zone = e.zone ? ` · ${this.zoneNames.get(e.zone) || e.zone}` : "";
    return `${e.kind.replace(/_/g, " ")}: ${who}${zone}`;
  }

  shown() {
    const floor = RANK[this.filter.value] ?? 1;
    const until = this.until;
    return [...this.items.values()]
      .filter((i) => (RANK[i.event.severity] ?? 0) >= floor && this.match(i.event)
        && (until === null || Date.parse(i.event.start || i.event.at) <= until))
      .sort((a, b) => (b.event.at || "").localeCompare(a.event.at || "") || a.event.id.localeCompare(b.event.id))
      .slice(0, MAX_SHOWN);
  }

  counts() {
    let open = 0;
    for (const i of this.items.values()) {
      if ((RANK[i.event.severity] ?? 0) >= 1 && i.event.status !== "retracted" && !this.marks[i.event.id]?.ack) open += 1;
    }
    return { events: this.items.size, open };
  }

  _schedule() {
    if (this.pending) return;
    this.pending = true;
    // Not requestAnimationFrame: an alert must not wait for the map's next frame.
    setTimeout(() => { this.pending = false; this.render(); }, 0);
  }

  render() {
    const rows = this.shown().map((item) => {
      const e = item.event;
      const mark = this.marks[e.id] || {};
      const li = el("li", {
        id: `ev-${CSS.escape(e.id)}`, role: "option", "data-id": e.id, "data-mmsi": e.mmsi ?? "",
        class: `sev-${e.severity} ${e.status === "retracted" ? "retracted" : ""}`,
        "aria-selected": e.id === this.selected ? "true" : "false",
        onclick: () => this.select(e.id),
      },
      el("div", { class: "row1" },
        el("span", { class: "sev" }, e.severity),
        el("span", { class: "title" }, this.titleOf(item))),
      el("div", { class: "meta" },
        `${fmtTime(e.at)} · ${e.status}`,
        mark.ack ? " " : null, mark.ack ? el("span", { class: "tag ack" }, "acknowledged") : null,
        mark.esc ? " " : null, mark.esc ? el("span", { class: "tag esc" }, "escalated") : null));
      return li;
    });
    this.list.replaceChildren(...rows);
    if (this.selected) this.list.setAttribute("aria-activedescendant", `ev-${CSS.escape(this.selected)}`);
    this.onRender?.();
  }

  select(id, { focusPanel = false } = {}) {
    this.selected = id;
    this.render();
    document.getElementById(`ev-${CSS.escape(id)}`)?.scrollIntoView({ block: "nearest" });
    this.onSelect(id, { focusPanel });
  }

  _key(e) {
    const ids = this.shown().map((i) => i.event.id);
    if (!ids.length) return;
    const at = ids.indexOf(this.selected);
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      const next = e.key === "ArrowDown" ? Math.min(ids.length - 1, at + 1) : Math.max(0, at - 1);
      this.select(ids[at < 0 ? 0 : next]);
    } else if (e.key === "Enter" && at >= 0) {
      e.preventDefault();
      this.select(ids[at], { focusPanel: true });
    }
  }

  // The id of the member's alert of an event: addressed to the member, else the network's.
  alertId(id) {
    const to = this.items.get(id)?.addressees || new Set();
    const who = to.has(this.member) ? this.member : to.has("network") ? "network" : [...to][0] || this.member || "network";
    return `${id}@${who}`;
  }

  // An alert state from GET /api/v1/alerts or the stream's alert_state.
  setState(s) {
    this.marks[s.event_id] = { ack: s.acknowledged_at, ackBy: s.acknowledged_by, esc: s.escalated_at, escBy: s.escalated_by };
    this._schedule();
  }

  async load() {
    const { alerts } = await getJson("/api/v1/alerts", { limit: 500 });
    for (const a of alerts) {
      if (this.items.has(a.event_id)) this.items.get(a.event_id).addressees.add(a.addressee);
      if (a.acknowledged_at || a.escalated_at) this.setState(a);
    }
  }

  // Acknowledge ("ack") or escalate ("esc") for the whole member; the first one stands.
  async mark(id, what) {
    if (this.marks[id]?.[what]) return this.marks[id];
    const path = `/api/v1/alerts/${encodeURIComponent(this.alertId(id))}/${what === "ack" ? "ack" : "escalate"}`;
    const state = await postJson(path);
    this.setState(state);
    return this.marks[id];
  }
}

function detailRows(details) {
  return Object.entries(details)
    .filter(([k]) => k !== "thresholds")
    .map(([k, v]) => [k, k.endsWith("_ts") && typeof v === "number" ? fmtTime(new Date(v * 1000).toISOString()) : fmtValue(v)]);
}

// The event panel: what fired, the measured values and thresholds, its history.
function stateText(mark) {
  const done = [];
  if (mark.ack) done.push(`acknowledged by ${mark.ackBy} at ${fmtTime(mark.ack)}`);
  if (mark.esc) done.push(`escalated by ${mark.escBy} at ${fmtTime(mark.esc)}`);
  return done.length
    ? `${done.join("; ")}. Shared with your member's watch officers.`
    : "Not acknowledged yet. Acknowledging or escalating tells your member's other watch officers at once; it cannot be undone.";
}

export async function eventPanel(feed, id, { openVessel, flyTo, onMark, onIncident }) {
  const { event, versions } = await getJson(`/api/v1/events/${encodeURIComponent(id)}`);
  feed.addEvent(event);
  const item = feed.items.get(id);
  const mark = feed.marks[id] || {};
  const vessels = event.mmsis.length ? event.mmsis : event.mmsi ? [event.mmsi] : [];
  const zone = event.zone ? `${feed.zoneNames.get(event.zone) || event.zone} (${event.zone})` : null;
  const ack = el("button", { type: "button", id: "alert-ack", class: mark.ack ? "on" : "", "aria-pressed": mark.ack ? "true" : "false",
    onclick: () => onMark("ack") },
  mark.ack ? "Acknowledged ✓" : "Acknowledge (A)");
  const esc = el("button", { type: "button", id: "alert-esc", class: mark.esc ? "warn" : "ghost", "aria-pressed": mark.esc ? "true" : "false",
    onclick: () => onMark("esc") },
  mark.esc ? "Escalated ✓" : "Escalate (E)");
  const thresholds = event.details.thresholds || {};
  const body = [
    el("p", {}, el("span", { class: `sev sev-${event.severity}` }, event.severity), " ",
      el("strong", {}, feed.titleOf(item))),
    el("p", { class: "help" }, KIND_HELP[event.kind] || `A ${event.kind.replace(/_/g, " ")} event.`, " ", el("span", { class: "muted" }, WHAT_TO_DO)),
    table([
      ["Kind", event.kind],
      ["Status", el("span", { class: `status-${event.status}` }, `${event.status} (version ${versions.length})`)],
      ["At", fmtTime(event.at)],
      ["Episode", `${fmtTime(event.start)} → ${event.end ? fmtTime(event.end) : "open"}`],
      ["Where", fmtPos(event.lat, event.lon)],
      zone && ["Zone", zone],
      ["Vessels", vessels.length ? el("span", {}, vessels.map((m, i) => [i ? ", " : "",
        el("button", { type: "button", class: "linkish", onclick: () => openVessel(m) }, feed.vesselName(m) ? `${feed.vesselName(m)} (${m})` : String(m))])) : "–"],
      ["Data from", event.members.join(", ") || "–"],
      item.addressees.size && ["Alerted", [...item.addressees].join(", ")],
    ]),
    el("div", { class: "actions" }, ack, esc,
      event.lat !== null && el("button", { type: "button", class: "ghost", onclick: () => flyTo(event.lon, event.lat) }, "Show on map"),
      vessels.length === 1 && el("button", { type: "button", class: "ghost", onclick: () => openVessel(vessels[0]) }, "Vessel dossier (V)"),
      onIncident && el("button", { type: "button", id: "alert-incident", class: "ghost", onclick: () => onIncident(event) }, "Open incident")),
    el("p", { class: "note", id: "alert-state" }, stateText(mark)),
    el("h3", {}, "Measured values"),
    table(detailRows(event.details), "grid"),
    el("h3", {}, "Thresholds in force"),
    Object.keys(thresholds).length ? table(Object.entries(thresholds).map(([k, v]) => [k, fmtValue(v)]), "grid") : el("p", { class: "muted" }, "none published"),
    el("h3", {}, "History"),
    el("ol", { class: "versions" }, versions.map((v) => el("li", {},
      `v${v.version} `, el("span", { class: `status-${v.status}` }, v.status), ` at ${fmtTime(v.at)}`))),
  ];
  return { title: "Alert", body, event };
}
