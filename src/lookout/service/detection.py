"""Building the detector suite: which detectors run, with which thresholds, over which zones,
shore and ports. One function serves the live server and ``lookout detect``, so the two run
the very same detectors.

A detector config file is TOML. Every table but ``[detectors]`` is named by a detector kind and
sets fields of that detector's config (names, units and defaults in docs/detectors.md)::

    [detectors]
    enabled = ["zone_entry", "encounter", "ais_gap"]   # default: every registered detector

    [encounter]
    profile = "skylight"        # a named threshold set, then fields on top of it
    max_distance_m = 300

Unknown kinds, unknown fields and values of the wrong type are errors that name the table and
the key (:class:`DetectorConfigError`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

# Importing the detector modules registers them.
from lookout.detectors import (
    close_approach,
    dark,
    encounter,
    gap,
    identity,
    land,
    loitering,
    shadowing,
    speed,
    swarm,
    zones,
)
from lookout.detectors.base import Detector, detector_types
from lookout.detectors.pairwise import NearPort, PairwiseDetector, never_near_port
from lookout.geo.shore import Shore
from lookout.geo.zones import Zone, ZoneIndex

__all__ = [
    "CONFIG_TYPES",
    "PROFILES",
    "DetectionSetup",
    "DetectorConfigError",
    "build_detectors",
    "load_detector_config",
    "parse_detector_config",
    "share_feeds",
]

CONFIG_TYPES: Mapping[str, type[Any]] = MappingProxyType(
    {
        "encounter": encounter.EncounterConfig,
        "close_approach": close_approach.CloseApproachConfig,
        "shadowing": shadowing.ShadowingConfig,
        "swarm": swarm.SwarmConfig,
        "ais_gap": gap.AisGapConfig,
        "loitering": loitering.LoiteringConfig,
        "speed_anomaly": speed.SpeedAnomalyConfig,
        "identity_conflict": identity.IdentityConflictConfig,
        "position_on_land": land.PositionOnLandConfig,
        "dark_vessel": dark.DarkVesselConfig,
    }
)
"""The config dataclass of every detector that has thresholds, by kind."""

PROFILES: Mapping[str, Mapping[str, Any]] = MappingProxyType(
    {"encounter": encounter.ENCOUNTER_PROFILES}
)
"""Named threshold sets a config file may select with ``profile = "..."``."""


class DetectorConfigError(ValueError):
    """A detector config that cannot be used; the message names the table and key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectionSetup:
    """What the detectors watch and with which thresholds.

    ``kinds``: the detectors to run (``None``: every registered one). ``configs``: a config
    object per kind (missing: the defaults). ``zones``: the zones ``zone_entry`` /
    ``zone_exit`` watch. ``shore``: signed distance to the coast (``None``: rules that need it
    do not apply). ``near_port``: is a port or anchorage within a distance of a point.
    """

    kinds: frozenset[str] | None = None
    configs: Mapping[str, Any] = field(default_factory=dict)
    zones: Sequence[Zone] = ()
    shore: Shore | None = None
    near_port: NearPort = never_near_port

    def enabled(self) -> list[str]:
        """The kinds that will run, in registry order."""
        known = list(detector_types())
        if self.kinds is None:
            return known
        return [k for k in known if k in self.kinds]


def build_detectors(
    setup: DetectionSetup, *, index: ZoneIndex | None = None
) -> list[Detector[Any]]:
    """One instance of every enabled detector, configured and wired to zones, shore, ports.

    ``index``: a zone index of ``setup.zones`` built before, shared (building one takes
    seconds for a region pack; a process node builds a suite per partition)."""
    kinds = setup.enabled()
    if index is None and {"zone_entry", "zone_exit"} & set(kinds):
        index = ZoneIndex(setup.zones)
    built: list[Detector[Any]] = []
    for kind in kinds:
        detector = _build_one(kind, setup, index)
        if detector is not None:
            built.append(detector)
    share_feeds(built)
    return built


def share_feeds(detectors: Sequence[Detector[Any]]) -> None:
    """Pairwise detectors that resample alike read one feed (``encounter`` and ``swarm`` with
    their defaults): the pipeline hands them the same batches, so each report is folded in
    and each tick interpolated once (:class:`~lookout.detectors.pairwise.TickFeed`)."""
    first: dict[tuple[float, float, float, float], PairwiseDetector] = {}
    for detector in detectors:
        if isinstance(detector, PairwiseDetector):
            owner = first.setdefault(detector.feed_key(), detector)
            if owner is not detector:
                detector.share_feed(owner)


def _build_one(kind: str, setup: DetectionSetup, index: ZoneIndex | None) -> Detector[Any] | None:
    config = setup.configs.get(kind)
    shore, near_port = setup.shore, setup.near_port
    match kind:
        case "zone_entry":
            return zones.ZoneEntryDetector(index)
        case "zone_exit":
            return zones.ZoneExitDetector(index)
        case "encounter":
            return encounter.EncounterDetector(config, near_port=near_port)
        case "close_approach":
            return close_approach.CloseApproachDetector(config, near_port=near_port)
        case "shadowing":
            return shadowing.ShadowingDetector(config)
        case "swarm":
            return swarm.SwarmDetector(config, near_port=near_port)
        case "ais_gap":
            return gap.AisGapDetector(config, shore=shore)
        case "loitering":
            return loitering.LoiteringDetector(config, shore=shore, near_port=near_port)
        case "speed_anomaly":
            return speed.SpeedAnomalyDetector(config)
        case "identity_conflict":
            return identity.IdentityConflictDetector(config)
        case "position_on_land":
            return land.PositionOnLandDetector(config, shore=shore)
        case "dark_vessel":
            return dark.DarkVesselDetector(config)
    cls = detector_types()[kind]  # a third-party plugin: defaults only
    return cls()


def load_detector_config(path: str | Path) -> tuple[frozenset[str] | None, dict[str, Any]]:
    """Read a TOML detector config (see the module docstring): (enabled kinds or None, configs)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DetectorConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DetectorConfigError(f"{path}: not valid TOML: {exc}") from exc
    return parse_detector_config(data, where=str(path))


def parse_detector_config(
    data: Mapping[str, Any], *, where: str = "config"
) -> tuple[frozenset[str] | None, dict[str, Any]]:
    """:func:`load_detector_config` on already parsed TOML."""
    known = set(detector_types())
    kinds: frozenset[str] | None = None
    configs: dict[str, Any] = {}
    for table, values in data.items():
        if not isinstance(values, Mapping):
            raise DetectorConfigError(f"{where}: {table!r} must be a table")
        if table == "detectors":
            kinds = _enabled(values, known, where)
            continue
        if table not in known:
            raise DetectorConfigError(
                f"{where}: [{table}] is not a detector (known: {', '.join(sorted(known))})"
            )
        cls = CONFIG_TYPES.get(table)
        if cls is None:
            if values:
                raise DetectorConfigError(f"{where}: [{table}] has no settings")
            continue
        configs[table] = _config(table, cls, values, where)
    return kinds, configs


def _enabled(values: Mapping[str, Any], known: set[str], where: str) -> frozenset[str]:
    extra = set(values) - {"enabled"}
    if extra:
        raise DetectorConfigError(f"{where}: [detectors] has no key {sorted(extra)[0]!r}")
    enabled = values.get("enabled", sorted(known))
    if not isinstance(enabled, list) or not all(isinstance(k, str) for k in enabled):
        raise DetectorConfigError(f"{where}: [detectors] enabled must be a list of kinds")
    unknown = sorted(set(enabled) - known)
    if unknown:
        raise DetectorConfigError(
            f"{where}: [detectors] enabled names unknown detector {unknown[0]!r} "
            f"(known: {', '.join(sorted(known))})"
        )
    return frozenset(enabled)


def _config(kind: str, cls: type[Any], values: Mapping[str, Any], where: str) -> Any:
    values = dict(values)
    base = cls()
    profile = values.pop("profile", None)
    if profile is not None:
        profiles = PROFILES.get(kind, {})
        if profile not in profiles:
            listed = ", ".join(sorted(profiles)) or "none"
            raise DetectorConfigError(
                f"{where}: [{kind}] profile {profile!r} is unknown (profiles: {listed})"
            )
        base = profiles[profile]
    names = {f.name: f for f in fields(cls)}
    changes: dict[str, Any] = {}
    for key, value in values.items():
        if key not in names:
            raise DetectorConfigError(
                f"{where}: [{kind}] has no setting {key!r} (settings: {', '.join(sorted(names))})"
            )
        current = getattr(base, key)
        changes[key] = _coerce(kind, key, current, value, where)
    try:
        return replace(base, **changes)
    except (TypeError, ValueError) as exc:
        raise DetectorConfigError(f"{where}: [{kind}] {exc}") from exc


def _coerce(kind: str, key: str, current: Any, value: Any, where: str) -> Any:
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        raise DetectorConfigError(f"{where}: [{kind}] {key} must be true or false")
    if isinstance(current, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise DetectorConfigError(f"{where}: [{kind}] {key} must be a number, got {value!r}")
        if not math.isfinite(value):
            raise DetectorConfigError(f"{where}: [{kind}] {key} must be finite")
        return type(current)(value)
    if isinstance(current, frozenset | tuple):
        if not isinstance(value, list):
            raise DetectorConfigError(f"{where}: [{kind}] {key} must be a list")
        return type(current)(_tuples(value))
    return value


def _tuples(value: Any) -> Any:
    """TOML arrays as (nested) tuples, the way frozen configs hold sequences."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
