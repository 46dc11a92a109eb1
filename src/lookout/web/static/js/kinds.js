// What each event kind means, in one line for the alert panel (from docs/detectors.md), and
// the incident categories (docs/incidents.md).

export const KIND_HELP = {
  zone_entry: "A vessel entered a watched zone. Into a territorial sea, internal or archipelagic waters of a state that is not its flag's, it is high severity.",
  zone_exit: "A vessel left a watched zone.",
  ais_gap: "A vessel was silent for hours: it switched its transponder off, or nobody could hear it (a gap in a coverage hole is only informative).",
  encounter: "Two vessels side by side at sea, both nearly stopped, for hours: a transfer of catch, fuel or crew, or another meeting at sea.",
  loitering: "One vessel nearly stopped far out at sea for hours: it may be meeting a vessel that does not transmit AIS.",
  speed_anomaly: "A position the vessel could not have reached at its type's top speed: a teleport.",
  identity_conflict: "One MMSI that behaves as two vessels, or a vessel that changes who it says it is.",
  position_on_land: "A position well inland: it cannot be true.",
  dark_vessel: "A satellite, radar or patrol detection where no AIS vessel was: a vessel with its transponder off, or without one.",
  swarm: "Many slow vessels massed around one point for hours.",
  shadowing: "One vessel keeping station on another under way for an hour or more: an escort or a tail.",
  close_approach: "Two vessels passing dangerously close at speed: a blocking manoeuvre, a bow crossing, a near collision.",
};

export const WHAT_TO_DO = "Check the vessel's dossier and the measured values; acknowledge once you have assessed it, escalate when it needs a response from your duty officer or another member.";

// lookout.model.incidents.CATEGORIES, named as in docs/incidents.md (the browser test checks
// that the two lists agree).
export const INCIDENT_CATEGORIES = [
  ["water_cannon", "Water cannon"],
  ["laser", "Laser"],
  ["ramming", "Ramming"],
  ["blocking", "Blocking"],
  ["dangerous_manoeuvre", "Dangerous manoeuvre"],
  ["swarming", "Swarming"],
  ["unsafe_approach", "Unsafe approach"],
  ["incursion", "Incursion"],
  ["illegal_fishing", "Illegal fishing"],
  ["piracy_armed_robbery", "Piracy / armed robbery"],
];

export function categoryLabel(id) {
  return INCIDENT_CATEGORIES.find(([c]) => c === id)?.[1] || String(id).replace(/_/g, " ");
}
