// Vessel categories, ship type names, flags and the formatting the panels share.
// The category mapping is documented in docs/web.md ("Vessel categories"); keep them in step.

export const CATEGORIES = [
  { id: "member", label: "Member asset", colour: "#3ddc97" },
  { id: "government", label: "Government / coast guard", colour: "#4ea8ff" },
  { id: "fishing", label: "Fishing", colour: "#ffa23a" },
  { id: "cargo", label: "Cargo / tanker", colour: "#c7a4ff" },
  { id: "unknown", label: "Other / unknown", colour: "#c4ccd6" },
];

// ITU-R M.1371-5 ship types that are state vessels: 35 military operations, 51 search and
// rescue, 55 law enforcement.
const GOVERNMENT_TYPES = new Set([35, 51, 55]);

// A member's id starts with its state's ISO 3166-1 alpha-3 code ("PHL-PCG"); a state vessel
// flagged by that state (MID -> ISO alpha-2) is one of its assets. The alpha-3 -> alpha-2 table
// is the one the alerts use (lookout.pipeline.alerts.ALPHA2_OF_STATE, served as states.json).
export function memberFlags(memberIds, alpha2OfState) {
  const flags = new Set();
  for (const id of memberIds) {
    const flag = alpha2OfState[String(id).slice(0, 3).toUpperCase()];
    if (flag) flags.add(flag);
  }
  return flags;
}

export function categoryOf(vessel, flags) {
  const type = vessel.ship_type;
  if (GOVERNMENT_TYPES.has(type)) {
    return vessel.flag && flags.has(vessel.flag) ? "member" : "government";
  }
  if (type === 30) return "fishing";
  if (type >= 70 && type <= 89) return "cargo";
  return "unknown";
}

export function categoryInfo(id) {
  return CATEGORIES.find((c) => c.id === id) || CATEGORIES[CATEGORIES.length - 1];
}

const TYPE_NAMES = {
  30: "Fishing", 31: "Towing", 32: "Towing (large)", 33: "Dredging or underwater ops",
  34: "Diving ops", 35: "Military ops", 36: "Sailing", 37: "Pleasure craft", 50: "Pilot vessel",
  51: "Search and rescue", 52: "Tug", 53: "Port tender", 54: "Anti-pollution",
  55: "Law enforcement", 58: "Medical transport", 59: "Noncombatant (RR Resolution 18)",
};

export function shipTypeName(code) {
  if (code === null || code === undefined) return "not reported";
  if (TYPE_NAMES[code]) return `${TYPE_NAMES[code]} (${code})`;
  const tens = Math.floor(code / 10);
  const family = { 2: "Wing in ground", 4: "High-speed craft", 6: "Passenger", 7: "Cargo",
    8: "Tanker", 9: "Other type" }[tens];
  return family ? `${family} (${code})` : `type ${code}`;
}

let regionNames = null;
export function flagName(alpha2) {
  if (!alpha2) return "unknown (no MID)";
  try {
    regionNames = regionNames || new Intl.DisplayNames(["en"], { type: "region" });
    return `${regionNames.of(alpha2)} (${alpha2})`;
  } catch {
    return alpha2;
  }
}

export function fmtTime(iso) {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const text = d.toISOString();
  const today = new Date().toISOString().slice(0, 10);
  const clock = text.slice(11, 19) + "Z";
  return text.slice(0, 10) === today ? clock : `${text.slice(0, 10)} ${clock}`;
}

export function fmtPos(lat, lon) {
  if (lat === null || lat === undefined || lon === null || lon === undefined) return "–";
  const ns = lat >= 0 ? "N" : "S";
  const ew = lon >= 0 ? "E" : "W";
  return `${Math.abs(lat).toFixed(4)}°${ns} ${Math.abs(lon).toFixed(4)}°${ew}`;
}

export function fmtValue(value) {
  if (value === null || value === undefined) return "–";
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, "").replace(/\.$/, "");
  if (Array.isArray(value)) return value.map(fmtValue).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

export function table(rows, cls = "") {
  return el("table", { class: cls },
    el("tbody", {}, rows.filter(Boolean).map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k), el("td", {}, v)))));
}
