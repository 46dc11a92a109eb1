// The vessel dossier: identity, flag from the MID, type, latest positions, who saw it and the
// events involving it, from GET /vessels/{mmsi}, /vessels/{mmsi}/track and /events?mmsi=.

import { getJson } from "./api.js";
import { iconUrl } from "./mapview.js";
import { categoryInfo, el, flagName, fmtPos, fmtTime, fmtValue, shipTypeName, table } from "./categories.js";

const TRACK_WINDOW_S = 6 * 3600;
const LATEST = 10;

function knots(v) { return v === null || v === undefined ? "–" : `${v.toFixed(1)} kn`; }
function degrees(v) { return v === null || v === undefined ? "–" : `${Math.round(v)}°`; }

export async function vesselPanel(mmsi, { category, onEvent, onTrack }) {
  const vessel = await getJson(`/api/v1/vessels/${mmsi}`);
  const since = new Date(Date.parse(vessel.observed_at) - TRACK_WINDOW_S * 1000).toISOString();
  const [track, events] = await Promise.all([
    getJson(`/api/v1/vessels/${mmsi}/track`, { start: since, limit: 5000 }),
    getJson("/api/v1/events", { mmsi, limit: 50 }),
  ]);
  onTrack(track.points, vessel);
  const receivers = new Set();
  const members = new Set(vessel.members);
  for (const p of track.points) {
    members.add(p.member);
    for (const r of p.receivers) receivers.add(r);
  }
  const cat = categoryInfo(category);
  const latest = track.points.slice(-LATEST).reverse();
  const body = [
    table([
      ["MMSI", String(vessel.mmsi)],
      ["Name", vessel.name || "–"],
      ["Call sign", vessel.callsign || "–"],
      ["IMO", vessel.imo ? String(vessel.imo) : "–"],
      ["Flag (MID)", flagName(vessel.flag)],
      ["Type", shipTypeName(vessel.ship_type)],
      ["Category", el("span", {}, el("img", { src: iconUrl(category), width: 14, height: 14, alt: "", class: "inline-icon" }), " ", cat.label)],
      ["Length", vessel.length_m ? `${vessel.length_m} m` : "–"],
      ["Destination", vessel.destination || "–"],
      vessel.simulated && ["Source", el("span", { class: "banner banner-sim" }, "SIMULATED")],
    ]),
    el("h3", {}, "Latest"),
    table([
      ["Position", fmtPos(vessel.lat, vessel.lon)],
      ["Seen", fmtTime(vessel.observed_at)],
      ["Speed", knots(vessel.speed_kn)],
      ["Course / heading", `${degrees(vessel.course_deg)} / ${degrees(vessel.heading_deg)}`],
      ["Reports fused", String(vessel.positions)],
    ]),
    el("h3", {}, "Seen by"),
    table([
      ["Members", [...members].sort().join(", ") || "–"],
      ["Sources", [...new Set(vessel.sources)].sort().join(", ") || "–"],
      ["Receivers", [...receivers].sort().join(", ") || "–"],
    ]),
    el("h3", {}, `Latest positions (${track.count} in the last ${TRACK_WINDOW_S / 3600} h)`),
    el("table", { class: "grid" },
      el("thead", {}, el("tr", {}, ["Time", "Position", "Speed", "Receivers"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, latest.map((p) => el("tr", {},
        el("td", {}, fmtTime(p.observed_at)), el("td", {}, fmtPos(p.lat, p.lon)),
        el("td", {}, knots(p.speed_kn)), el("td", {}, p.receivers.join(", ")))))),
    el("h3", {}, `Events (${events.count})`),
    events.count
      ? el("ul", { class: "versions" }, events.events.map((e) => el("li", {},
        el("span", { class: `sev sev-${e.severity}` }, e.severity), " ",
        el("button", { type: "button", class: "linkish", onclick: () => onEvent(e) }, `${e.kind.replace(/_/g, " ")}`),
        ` ${e.status}, ${fmtTime(e.at)}`)))
      : el("p", { class: "muted" }, "none"),
    el("h3", {}, `Identity history (${vessel.statics.length})`),
    vessel.statics.length
      ? el("table", { class: "grid" },
        el("thead", {}, el("tr", {}, ["Time", "Name", "Call sign", "IMO", "Type", "From"].map((h) => el("th", { scope: "col" }, h)))),
        el("tbody", {}, vessel.statics.map((s) => el("tr", {},
          el("td", {}, fmtTime(s.observed_at)), el("td", {}, s.name || "–"), el("td", {}, s.callsign || "–"),
          el("td", {}, fmtValue(s.imo)), el("td", {}, fmtValue(s.ship_type)), el("td", {}, `${s.member}/${s.source}`)))))
      : el("p", { class: "muted" }, "no identity reports"),
  ];
  return { title: vessel.name ? `${vessel.name} · ${mmsi}` : `MMSI ${mmsi}`, body, vessel, exercise: receivers.has("EXERCISE") };
}
