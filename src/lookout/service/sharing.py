"""Where the sharing policy comes from: sources' releases, the agreement file, the zones.

The network agreement is a TOML file (setting ``sharing_file``, docs/sharing.md)::

    [communities]
    asean = ["PHL-PCG", "VNM-VCG", "MYS-MMEA", "IDN-BAKAMLA"]

    [mutual_alerts]
    kinds = ["zone_entry", "swarm", "shadowing", "close_approach", "dark_vessel"]
    regimes = ["territorial_sea", "archipelagic_waters", "internal_waters", "disputed"]

    [[sources]]                       # terms beyond a source's release, per source
    member = "JPN-JCG"
    name = "patrol"
    release = "network"               # overrides the source's own release when given
    delay_s = { "*" = 3600 }          # recipients wait an hour
    precision_m = { "VNM-VCG" = 5000 }

A :class:`PolicySource` rebuilds the :class:`~lookout.sharing.Policy` when any input changed,
checking at most once per ``refresh_s`` seconds, so a withdrawn release takes effect on the
next request (and on open streams) within that time.
"""

from __future__ import annotations

import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lookout.geo.zones import ZoneIndex
from lookout.sharing import Agreement, Policy, Release, ReleaseError, ZoneInfo

__all__ = ["PolicySource", "SharingFileError", "SourceTerms", "read_agreement"]


class SharingFileError(ValueError):
    """The sharing agreement file cannot be used; the message names the file and the entry."""


@dataclass(frozen=True, slots=True)
class SourceTerms:
    """A source's terms from the agreement file: a release (or ``None`` to keep the
    source's own) plus delays and precision per recipient."""

    release: Release | None
    delay_s: Mapping[str, float]
    precision_m: Mapping[str, float]


def _numbers(path: Path, what: str, value: Any) -> dict[str, float]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and v >= 0 for v in value.values()
    ):
        raise SharingFileError(f"{path}: {what} maps member codes (or '*') to numbers >= 0")
    return {str(k): float(v) for k, v in value.items()}


def read_agreement(path: Path) -> tuple[Agreement, dict[tuple[str, str], SourceTerms]]:
    """The network agreement and per-source terms from a TOML file."""
    try:
        doc = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SharingFileError(f"{path}: {exc}") from exc
    communities = {
        str(name): frozenset(str(m) for m in members)
        for name, members in (doc.get("communities") or {}).items()
    }
    mutual = doc.get("mutual_alerts") or {}
    agreement = Agreement(communities=communities)
    if "kinds" in mutual:
        agreement = replace(agreement, mutual_alert_kinds=frozenset(map(str, mutual["kinds"])))
    if "regimes" in mutual:
        agreement = replace(agreement, mutual_alert_regimes=frozenset(map(str, mutual["regimes"])))
    terms: dict[tuple[str, str], SourceTerms] = {}
    for n, entry in enumerate(doc.get("sources") or (), start=1):
        if "member" not in entry or "name" not in entry:
            raise SharingFileError(f"{path}: [[sources]] entry {n} needs member and name")
        try:
            release = Release.parse(entry["release"]) if "release" in entry else None
        except ReleaseError as exc:
            raise SharingFileError(f"{path}: [[sources]] entry {n}: {exc}") from exc
        terms[(str(entry["member"]), str(entry["name"]))] = SourceTerms(
            release,
            _numbers(path, f"[[sources]] entry {n} delay_s", entry.get("delay_s")),
            _numbers(path, f"[[sources]] entry {n} precision_m", entry.get("precision_m")),
        )
    return agreement, terms


def zone_infos(index: ZoneIndex | None) -> dict[str, ZoneInfo]:
    """Owners and regime of every watched zone, for mutual alerting."""
    if index is None:
        return {}
    return {
        z.id: ZoneInfo(frozenset(z.owners), str(getattr(z.regime, "value", z.regime)))
        for z in index.zones
    }


ReleaseRows = Callable[[], Iterable[tuple[str, str, str]]]
"""``(member, source, release text)`` of every registered source."""


class PolicySource:
    """The current policy, rebuilt when sources, releases or the agreement file change."""

    def __init__(
        self,
        releases: ReleaseRows,
        agreement_file: Path | None = None,
        zones: Callable[[], ZoneIndex | None] = lambda: None,
        refresh_s: float = 1.0,
    ) -> None:
        self._releases = releases
        self._file = agreement_file
        self._zones = zones
        self.refresh_s = refresh_s
        self._lock = threading.Lock()
        self._checked = float("-inf")
        self._key: object = None
        self._policy = Policy({})
        if agreement_file is not None:
            read_agreement(agreement_file)  # a bad file stops the start with its message

    def policy(self) -> Policy:
        """The policy in force (checked for changes at most every ``refresh_s``)."""
        now = time.monotonic()
        if now - self._checked < self.refresh_s:
            return self._policy
        with self._lock:
            self._checked = now
            rows = tuple(sorted(self._releases()))
            mtime = self._file.stat().st_mtime_ns if self._file else None
            index = self._zones()
            key = (rows, mtime, id(index))
            if key != self._key:
                self._policy = self._build(rows, index)
                self._key = key
        return self._policy

    def _build(self, rows: tuple[tuple[str, str, str], ...], index: ZoneIndex | None) -> Policy:
        agreement, terms = read_agreement(self._file) if self._file else (Agreement(), {})
        releases: dict[tuple[str, str], Release] = {}
        for member, name, text in rows:
            try:
                releases[(member, name)] = Release.parse(text)
            except ReleaseError:
                releases[(member, name)] = Release()  # unreadable: owner only
        for key, term in terms.items():
            base = term.release or releases.get(key, Release())
            releases[key] = replace(base, delay_s=term.delay_s, precision_m=term.precision_m)
        return Policy(
            releases, agreement, zone_infos(index), index.ids_at if index is not None else None
        )
