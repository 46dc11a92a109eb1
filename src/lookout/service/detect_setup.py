"""The detector suite of ``lookout detect`` from its options: config, subset, zones, ports, shore.

Every problem is a :class:`SetupError` whose message names the file or option (the CLI prints
it and exits 2). Ports: the data set installed with Lookout (``searoute``'s ports) unless
``no_ports``, plus every ``--ports`` file. Shore: the 1 km global land mask installed with
Lookout (:class:`~lookout.sources.land_mask.LandMaskShore`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from lookout.detectors.base import detector_types
from lookout.detectors.pairwise import NearPort, never_near_port
from lookout.geo.shore import Shore
from lookout.geo.zones import Zone
from lookout.model import Detection
from lookout.service.detection import DetectionSetup, DetectorConfigError, load_detector_config
from lookout.service.settings import Settings
from lookout.sources.ports import PortFileError, PortsRead, installed_ports, port_index, read_ports

__all__ = [
    "DetectOptions",
    "SetupError",
    "SetupReport",
    "build_setup",
    "parse_kinds",
    "read_detection_files",
    "setup_from_settings",
]

REGIONS = ("scs",)
"""Region packs ``--region`` knows."""


class SetupError(ValueError):
    """An option or file that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectOptions:
    """The options of ``lookout detect`` that shape the detector suite."""

    config: Path | None = None
    detectors: str | None = None
    zones: Sequence[Path] = ()
    region: str | None = None
    ports: Sequence[Path] = ()
    no_ports: bool = False
    shore: bool = True


@dataclass(slots=True)
class SetupReport:
    """What the suite was built from (for the summary)."""

    zones: int = 0
    port_sets: list[PortsRead] = field(default_factory=list)
    ports: int = 0
    shore: str = "none"


def parse_kinds(text: str) -> frozenset[str]:
    """``"kind,kind"`` -> the kinds; an unknown kind is a :class:`SetupError`."""
    kinds = frozenset(k.strip() for k in text.split(",") if k.strip())
    known = set(detector_types())
    unknown = sorted(kinds - known)
    if unknown:
        raise SetupError(
            f"--detectors: unknown detector {unknown[0]!r} (known: {', '.join(sorted(known))})"
        )
    if not kinds:
        raise SetupError("--detectors: name at least one detector")
    return kinds


def build_setup(options: DetectOptions) -> tuple[DetectionSetup, SetupReport]:
    """The :class:`DetectionSetup` for ``options``, and what it was built from."""
    report = SetupReport()
    kinds: frozenset[str] | None = None
    configs: dict[str, Any] = {}
    if options.config is not None:
        try:
            kinds, configs = load_detector_config(options.config)
        except DetectorConfigError as exc:
            raise SetupError(str(exc)) from exc
    if options.detectors is not None:
        kinds = parse_kinds(options.detectors)  # the option wins over the file's [detectors]
    zones = _zones(options)
    report.zones = len(zones)
    near_port = _ports(options, report)
    shore = _shore(options, report)
    setup = DetectionSetup(
        kinds=kinds, configs=configs, zones=zones, shore=shore, near_port=near_port
    )
    return setup, report


def _zones(options: DetectOptions) -> list[Zone]:
    from lookout.sources.zone_files import ZoneFileError, read_zones

    zones: list[Zone] = []
    if options.region is not None:
        zones.extend(_region(options.region))
    for path in options.zones:
        if not path.is_file():
            raise SetupError(f"--zones: no such file: {path}")
        try:
            zones.extend(read_zones(path))
        except (ZoneFileError, OSError, ValueError) as exc:
            raise SetupError(f"--zones: {exc}") from exc
    seen: set[str] = set()
    for zone in zones:
        if zone.id in seen:
            raise SetupError(f"--zones: zone id {zone.id!r} is given twice")
        seen.add(zone.id)
    return zones


_SETTING_OF = {
    "--zones": "LOOKOUT_ZONES",
    "--detectors": "LOOKOUT_DETECTORS",
    "--ports": "LOOKOUT_PORTS_FILE",
    "--region": "LOOKOUT_REGION",
}


def setup_from_settings(settings: Settings) -> DetectionSetup:
    """The live server's detector suite, built exactly as ``lookout detect`` builds its own
    from the settings ``detectors`` (``all``, ``none`` or kinds), ``detector_config``,
    ``zones``, ``region``, ``ports_file`` (besides the installed ports) and ``shore``."""
    chosen = settings.detectors.strip()
    if settings.shore not in ("landmask", "none"):
        raise SetupError(f"shore must be 'landmask' or 'none', not {settings.shore!r}")
    options = DetectOptions(
        config=settings.detector_config,
        detectors=None if chosen in ("", "all", "none") else chosen,
        zones=settings.zones,
        region=settings.region,
        ports=() if settings.ports_file is None else (settings.ports_file,),
        shore=settings.shore == "landmask",
    )
    try:
        setup, _ = build_setup(options)
    except SetupError as exc:  # name the setting, not the lookout detect option
        text = str(exc)
        for option, setting in _SETTING_OF.items():
            if text.startswith(option):
                text = setting + text[len(option) :]
        raise SetupError(text) from exc
    if chosen == "none":
        return replace(setup, kinds=frozenset())
    return setup


def _region(name: str) -> list[Zone]:
    if name not in REGIONS:
        raise SetupError(f"--region: unknown region {name!r} (known: {', '.join(REGIONS)})")
    from lookout.sources.region_pack import load_region_pack

    try:
        pack = load_region_pack(name)
    except (OSError, ValueError) as exc:
        raise SetupError(f"--region {name}: {exc}") from exc
    return list(pack.zones)


def _ports(options: DetectOptions, report: SetupReport) -> NearPort:
    reads: list[PortsRead] = []
    try:
        if not options.no_ports:
            reads.append(installed_ports())
        for path in options.ports:
            if not path.is_file():
                raise SetupError(f"--ports: no such file: {path}")
            reads.append(read_ports(path))
    except PortFileError as exc:
        raise SetupError(f"--ports: {exc}") from exc
    report.port_sets = reads
    if not reads:
        return never_near_port
    index = port_index(reads)
    report.ports = len(index)
    return index.near


def _shore(options: DetectOptions, report: SetupReport) -> Shore | None:
    if not options.shore:
        return None
    from lookout.sources.land_mask import LandMaskShore

    report.shore = "global-land-mask (1 km)"
    return LandMaskShore()


def read_detection_files(paths: Sequence[Path], member: str) -> tuple[list[Detection], list[str]]:
    """Detections of every ``--detections`` file, and one message per row not read
    (``<file>: line <n>: <why>``). A file that is missing or not a detections CSV is a
    :class:`SetupError`."""
    from lookout.sources.detections import read_detections
    from lookout.sources.files import FileFormatError

    found: list[Detection] = []
    problems: list[str] = []
    for path in paths:
        if not path.is_file():
            raise SetupError(f"--detections: no such file: {path}")
        try:
            read = read_detections(path, member=member)
        except (FileFormatError, OSError, ValueError) as exc:
            raise SetupError(f"--detections: {exc}") from exc
        found.extend(read.detections)
        problems.extend(f"{path}: line {e.line}: {e.message}" for e in read.errors)
    return found, problems
