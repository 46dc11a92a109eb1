// Incidents (docs/web.md "Incidents", docs/incidents.md): the list of the incidents the
// member may see, reporting one (from an alert or directly) and an incident's page. The API
// decides what the member sees; the app shows only the controls the signed-in role may use
// (GET /api/v1/auth/me: a viewer reads, a watch officer and up also acts).

import { Unauthorized, getJson } from "./api.js";
import { el, fmtTime } from "./categories.js";
import { reportForm } from "./incident_form.js";
import { IncidentPage } from "./incident_page.js";
import { INCIDENT_CATEGORIES, categoryLabel } from "./kinds.js";

const ACTING_ROLES = new Set(["watch_officer", "member_admin", "network_admin"]);

// The incident of an assistance request's alert (the feed's event of kind assistance_request).
export function incidentOfRequest(event) {
  return event.details?.incident || String(event.id).split("/assistance/")[0];
}

export class Incidents {
  // ctx: show(title, body, key) puts a page in the side panel, key = {kind, id};
  // current() the incident id the panel shows (or null); flyTo(lon, lat); mark(lon, lat | null)
  // the incident's place on the map; pick(callback) the next map click's {lat, lon};
  // openEvent(id), openVessel(mmsi), vesselName(mmsi); onCount(open, asked); onError(err).
  constructor(ctx) {
    this.ctx = ctx;
    this.me = { member: null, role: null };
    this.items = [];
    this.filter = "open";
  }

  get canAct() {
    return Boolean(this.me.member) && ACTING_ROLES.has(this.me.role);
  }

  async whoAmI() {
    const me = await getJson("/api/v1/auth/me");
    this.me = { member: me.member, role: me.role };
  }

  // The incidents the member sees, for the top bar's count (open ones; those of other members
  // asking for assistance).
  async refresh() {
    const { incidents } = await getJson("/api/v1/incidents", { limit: 1000 });
    this.items = incidents;
    const open = incidents.filter((i) => i.status === "open");
    const asked = open.filter((i) => i.assistance_requested && i.member !== this.me.member).length;
    this.ctx.onCount(open.length, asked);
    return incidents;
  }

  async showList() {
    let incidents;
    try {
      incidents = await this.refresh();
    } catch (err) {
      this._failed("Incidents", err);
      return;
    }
    const shown = incidents.filter((i) => this.filter === "all" || i.status === this.filter);
    const filter = el("select", { id: "incidents-filter", "aria-label": "Which incidents",
      onchange: (e) => { this.filter = e.target.value; this.showList(); } },
    [["open", "open"], ["closed", "closed"], ["all", "all"]].map(([v, text]) =>
      el("option", { value: v, selected: v === this.filter }, text)));
    const body = [
      el("div", { class: "actions" }, filter,
        this.canAct && el("button", { type: "button", id: "report-open", onclick: () => this.report() }, "Report incident")),
      this.canAct ? null : el("p", { class: "note", id: "incidents-role" },
        `Your role (${this.me.role || "none"}) may read incidents but not open or work them; a watch officer's may.`),
      shown.length ? this._table(shown) : el("p", { class: "muted" }, `No ${this.filter === "all" ? "" : `${this.filter} `}incidents your member may see.`),
    ];
    this.ctx.show("Incidents", body, { kind: "incidents" });
  }

  _table(incidents) {
    const row = (i) => el("tr", { "data-id": i.id, class: `inc-${i.status}` },
      el("td", {}, el("span", { class: `pill pill-${i.status}` }, i.status)),
      el("td", {},
        el("button", { type: "button", class: "linkish", onclick: () => this.open(i.id) }, categoryLabel(i.category)),
        i.assistance_requested ? [" ", el("span", { class: "tag esc" }, "assistance")] : null,
        i.redacted ? [" ", el("span", { class: "tag" }, "for assistance")] : null),
      el("td", {}, el("span", { class: `sev sev-${i.severity}` }, i.severity)),
      el("td", {}, i.member),
      el("td", {}, fmtTime(i.occurred_at)));
    return el("table", { class: "grid", id: "incidents-table" },
      el("thead", {}, el("tr", {}, ["Status", "Category", "Severity", "Member", "Occurred"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, incidents.map(row)));
  }

  // The report form, filled from `event` (an alert's) when given.
  report(event = null) {
    const body = reportForm({
      event,
      categories: INCIDENT_CATEGORIES,
      pick: this.ctx.pick,
      mark: this.ctx.mark,
      onOpened: (incident, note) => { this.refresh().catch(() => {}); this.open(incident.id, note); },
      onSignedOut: this.ctx.onError,
    });
    this.ctx.show(event ? "Open incident from alert" : "Report incident", body, { kind: "report" });
    if (event && event.lat !== null) this.ctx.mark(event.lon, event.lat);
  }

  async open(id, note = "") {
    try {
      this.page?.stop(); // one page polls at a time
      this.page = new IncidentPage(id, this, note);
      await this.page.load();
    } catch (err) {
      this._failed(`Incident ${id}`, err);
    }
  }

  // What the API said, in the panel (a refused token returns to the sign-in form).
  _failed(title, err) {
    if (err instanceof Unauthorized) { this.ctx.onError(err); return; }
    this.ctx.show(title, [el("p", { class: "error", role: "alert", id: "incident-error" }, `Not loaded: ${err.message}`)], { kind: "incidents" });
  }
}
