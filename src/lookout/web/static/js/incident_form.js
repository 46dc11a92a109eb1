// The form that opens an incident (POST /api/v1/incidents): from an alert (its time, place
// and vessels filled in, `event_id` linking the alert's event) or reported directly (the place
// typed or picked on the map). Files chosen are attached once it is open
// (POST /api/v1/incidents/{id}/attachments, one call per file).

import { Unauthorized, sendJson, uploadFile } from "./api.js";
import { el, fmtPos } from "./categories.js";

// A detector's event kind -> the incident category it most likely is (the officer may change it).
const CATEGORY_OF_KIND = {
  zone_entry: "incursion", swarm: "swarming", close_approach: "unsafe_approach",
  shadowing: "dangerous_manoeuvre",
};
const RELEASES = [
  ["owner", "my member only"],
  ["network", "every member"],
  ["other", "members or a community…"],
];

// "2026-11-26T13:04:50.123Z" -> "2026-11-26 13:04:50", the time field's UTC text.
function utcText(when) {
  return new Date(when).toISOString().slice(0, 19).replace("T", " ");
}

// The time field's text as ISO 8601 UTC, or null when it is not a time.
export function parseUtc(text) {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?Z?$/.exec(text.trim());
  if (!m) return null;
  const iso = `${m[1]}T${m[2]}${m[3] || ":00"}Z`;
  return Number.isNaN(Date.parse(iso)) ? null : iso;
}

function field(label, input, hint) {
  return el("div", { class: "field" }, el("label", { for: input.id }, label), input,
    hint ? el("span", { class: "small muted" }, hint) : null);
}

function select(id, options, value) {
  return el("select", { id }, options.map(([v, text]) => el("option", { value: v, selected: v === value }, text)));
}

// MMSIs from free text ("412999017, 574000123"), or an error naming the first that is not one.
export function parseMmsis(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const bad = parts.find((p) => !/^\d{1,9}$/.test(p) || Number(p) < 1);
  if (bad) return { error: `"${bad}" is not an MMSI (1 to 9 digits)` };
  return { mmsis: [...new Set(parts.map(Number))] };
}

export function reportForm({ event, categories, pick, mark, onOpened, onSignedOut }) {
  const vessels = event ? (event.mmsis?.length ? event.mmsis : event.mmsi ? [event.mmsi] : []) : [];
  const when = el("input", { id: "report-time", value: utcText(event?.at || Date.now()), placeholder: "YYYY-MM-DD hh:mm:ss", autocomplete: "off", spellcheck: "false" });
  const lat = el("input", { id: "report-lat", type: "number", step: "any", min: "-90", max: "90", value: event?.lat ?? "", placeholder: "e.g. 9.7167" });
  const lon = el("input", { id: "report-lon", type: "number", step: "any", min: "-180", max: "180", value: event?.lon ?? "", placeholder: "e.g. 115.8667" });
  const where = el("span", { class: "small muted", id: "report-where" }, event?.lat != null ? fmtPos(event.lat, event.lon) : "");
  const placed = () => {
    const [y, x] = [Number(lat.value), Number(lon.value)];
    const ok = lat.value !== "" && lon.value !== "" && Math.abs(y) <= 90 && Math.abs(x) <= 180;
    where.textContent = ok ? fmtPos(y, x) : "";
    mark(ok ? x : null, ok ? y : null);
  };
  lat.addEventListener("change", placed);
  lon.addEventListener("change", placed);
  const pickButton = el("button", { type: "button", id: "report-pick", class: "ghost small-button" }, "Pick on map");
  pickButton.addEventListener("click", () => {
    pickButton.textContent = "Click the map…";
    pickButton.setAttribute("aria-pressed", "true");
    pick((p) => {
      lat.value = p.lat.toFixed(5);
      lon.value = p.lng.toFixed(5);
      pickButton.textContent = "Pick on map";
      pickButton.setAttribute("aria-pressed", "false");
      placed();
    });
  });
  const mmsis = el("input", { id: "report-vessels", value: vessels.join(", "), placeholder: "MMSIs, comma separated", autocomplete: "off" });
  const category = el("select", { id: "report-category" },
    el("option", { value: "", disabled: true, selected: !CATEGORY_OF_KIND[event?.kind] }, "choose…"),
    categories.map(([id, text]) => el("option", { value: id, selected: id === CATEGORY_OF_KIND[event?.kind] }, text)));
  const severity = select("report-severity", [["low", "low"], ["medium", "medium"], ["high", "high"]],
    event && ["low", "medium", "high"].includes(event.severity) ? event.severity : "medium");
  const release = select("report-release", RELEASES, "owner");
  const releaseText = el("input", { id: "report-release-text", placeholder: "members:VNM-VCG,JPN-JCG or community:asean", hidden: true });
  release.addEventListener("change", () => { releaseText.hidden = release.value !== "other"; });
  const description = el("textarea", { id: "report-description", rows: "3", placeholder: "What happened, who saw it" });
  const files = el("input", { id: "report-files", type: "file", multiple: true });
  const error = el("p", { class: "error", id: "report-error", role: "alert" });
  const submit = el("button", { type: "submit", id: "report-submit" }, "Open incident");

  async function send(e) {
    e.preventDefault();
    error.textContent = "";
    const parsed = parseMmsis(mmsis.value);
    const occurred = parseUtc(when.value);
    const problem = parsed.error
      || (!occurred && "give the time as YYYY-MM-DD hh:mm:ss, UTC")
      || (!category.value && "choose a category")
      || ((lat.value === "" || lon.value === "") && !event && "give the place: type lat and lon or pick it on the map")
      || (release.value === "other" && !releaseText.value.trim() && "name the members or the community");
    if (problem) { error.textContent = problem; error.scrollIntoView({ block: "nearest" }); return; }
    const body = {
      category: category.value, severity: severity.value, description: description.value,
      occurred_at: occurred,
      lat: lat.value === "" ? null : Number(lat.value), lon: lon.value === "" ? null : Number(lon.value),
      vessels: parsed.mmsis, release: release.value === "other" ? releaseText.value.trim() : release.value,
      event_id: event ? event.id : null,
    };
    submit.disabled = true;
    let incident;
    try {
      incident = await sendJson("/api/v1/incidents", body);
    } catch (err) {
      submit.disabled = false;
      if (err instanceof Unauthorized) { onSignedOut(err); return; }
      error.textContent = `Not opened: ${err.message}`;
      error.scrollIntoView({ block: "nearest" });
      return;
    }
    const failed = [];
    for (const file of files.files) {
      try {
        await uploadFile(`/api/v1/incidents/${encodeURIComponent(incident.id)}/attachments`, file);
      } catch (err) {
        failed.push(`${file.name}: ${err.message}`);
      }
    }
    onOpened(incident, failed.length ? `Opened, but not attached: ${failed.join("; ")}` : "");
  }

  return [
    event ? el("p", { class: "help" }, "From the alert ", el("strong", {}, event.kind.replace(/_/g, " ")),
      ": its event is linked; time, place and vessels are the alert's unless you change them.") : null,
    el("form", { id: "report-form", class: "form", onsubmit: send },
      field("Time (UTC)", when),
      el("div", { class: "field" }, el("span", { class: "label" }, "Place (WGS84 degrees)"),
        el("div", { class: "row" }, el("label", { for: "report-lat", class: "small" }, "lat"), lat,
          el("label", { for: "report-lon", class: "small" }, "lon"), lon, pickButton), where),
      field("Vessels", mmsis, "MMSIs, comma separated"),
      el("div", { class: "row" }, field("Category", category), field("Severity", severity)),
      field("Who may see it", release), releaseText,
      field("Description", description),
      field("Attachments", files, "photos, videos, documents; attached once the incident is open"),
      error,
      el("div", { class: "actions" }, submit)),
  ];
}
