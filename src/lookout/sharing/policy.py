"""The sharing policy: what one member may see of the picture, asked by every read path.

:class:`Policy` is built from every source's :class:`~lookout.sharing.labels.Release` and the
network's :class:`~lookout.sharing.labels.Agreement`. Sources are named ``MEMBER/NAME`` (a
*feed*), the form in which vessel states list the sources they rest on. A feed the policy does
not know is released to its owner only: deny by default.

The policy is pure: the caller passes the wall-clock time ``now`` (for delayed releases) and,
for a partial view, the vessel's recent track points and identity reports.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lookout.fusion.identity import IDENTITY_FIELDS
from lookout.model import StaticReport, TrackPoint, VesselState
from lookout.sharing.labels import NETWORK, OWNER_ONLY, Agreement, Label, Release, most_restrictive

__all__ = ["Policy", "UpdateDecision", "ZoneInfo", "coarsen", "feed_of", "split_feed"]

METRES_PER_DEGREE = 111_320.0
"""Length of one degree of latitude (and of longitude at the equator), metres."""


def feed_of(member: str, source: str) -> str:
    """``MEMBER/NAME``: a source named the way vessel states and events list it."""
    return f"{member}/{source}"


def split_feed(feed: str) -> tuple[str, str]:
    """``MEMBER/NAME`` -> ``(MEMBER, NAME)``; a bare name has no member (``""``)."""
    member, sep, name = feed.partition("/")
    return (member, name) if sep else ("", feed)


def coarsen(lat: float, lon: float, precision_m: float) -> tuple[float, float]:
    """The centre of the ``precision_m`` grid cell holding the position (0 = unchanged).

    The grid is in degrees: ``precision_m / 111,320 m`` on both axes, so east-west cells are
    narrower away from the equator (never coarser than asked).
    """
    if precision_m <= 0:
        return lat, lon
    step = precision_m / METRES_PER_DEGREE
    return (
        round((math.floor(lat / step) + 0.5) * step, 6),
        round((math.floor(lon / step) + 0.5) * step, 6),
    )


@dataclass(frozen=True, slots=True)
class ZoneInfo:
    """What the policy needs of a zone: its owners and legal regime."""

    owners: frozenset[str]
    regime: str


DECISIONS_KEPT = 65_536
"""How many :meth:`Policy.update_decision` answers a policy remembers before starting over."""


@dataclass(frozen=True, slots=True)
class UpdateDecision:
    """What one viewer may see of a vessel update, given its sources and latest source.

    ``whole_after_s``: shown whole once the update is that old (``None``: never whole).
    ``part_after_s``: otherwise its latest position is shown once that old (``None``: never),
    at ``precision_m``, with only ``sources`` (and their ``members``) named.
    """

    whole_after_s: float | None
    part_after_s: float | None
    precision_m: float
    sources: tuple[str, ...]
    members: tuple[str, ...]


class Policy:
    """Every source's release plus the network agreement; answers "may X see this"."""

    def __init__(
        self,
        releases: Mapping[tuple[str, str], Release],
        agreement: Agreement | None = None,
        zones: Mapping[str, ZoneInfo] | None = None,
        zones_at: Callable[[float, float], Sequence[str]] | None = None,
    ) -> None:
        """``zones`` gives each zone's owners and regime; ``zones_at(lat, lon)`` the ids of
        the zones holding a position (to place events that name no zone)."""
        self._releases = dict(releases)
        self.agreement = agreement or Agreement()
        self._zones = dict(zones or {})
        self._zones_at = zones_at
        self._labels: dict[tuple[str, str], Label] = {}
        self._decisions: dict[tuple[str | None, tuple[str, ...], str], UpdateDecision] = {}

    # -- sources ---------------------------------------------------------------------------

    def release(self, member: str, source: str) -> Release:
        """The source's agreement; an unknown source is released to its owner only."""
        return self._releases.get((member, source), OWNER_ONLY)

    def label(self, member: str, source: str) -> Label:
        """Who may see what ``member``'s source ``source`` observes."""
        key = (member, source)
        found = self._labels.get(key)
        if found is None:
            found = self._labels[key] = self._label_of(member, self.release(member, source))
        return found

    def _label_of(self, member: str, release: Release) -> Label:
        if release.scope == "network":
            return NETWORK
        if release.scope == "members":
            return Label(frozenset({member}) | release.members)
        if release.scope == "community":
            community = self.agreement.community(release.community or "")
            return Label(frozenset({member}) | community)
        return Label(frozenset({member}))

    def feed_label(self, feed: str) -> Label:
        """:meth:`label` of a ``MEMBER/NAME`` feed."""
        return self.label(*split_feed(feed))

    def may_see(
        self, viewer: str | None, member: str, source: str, observed_ts: float, now: float
    ) -> bool:
        """Whether ``viewer`` may see an observation ``member``'s ``source`` made at
        ``observed_ts``, at wall-clock time ``now`` (a delayed release waits)."""
        if viewer is None:
            return False
        if viewer == member:
            return True
        if not self.label(member, source).allows(viewer):
            return False
        return now >= observed_ts + self.release(member, source).delay_for(member, viewer)

    def precision_m(self, viewer: str, member: str, source: str) -> float:
        """Grid size in metres of ``member``'s ``source`` positions that ``viewer`` sees."""
        return self.release(member, source).precision_for(member, viewer)

    def unrestricted(
        self, viewer: str | None, feeds: Iterable[str], newest_ts: float, now: float
    ) -> bool:
        """Whether ``viewer`` sees every one of ``feeds`` whole: allowed, not delayed past
        ``newest_ts``, exact positions. The fast path of every read."""
        for feed in feeds:
            member, source = split_feed(feed)
            if viewer == member:
                continue
            if not self.may_see(viewer, member, source, newest_ts, now):
                return False
            if self.precision_m(viewer or "", member, source) > 0:
                return False
        return viewer is not None

    def update_decision(
        self, viewer: str | None, feeds: Sequence[str], feed: str
    ) -> UpdateDecision:
        """What ``viewer`` may see of a vessel update resting on ``feeds`` whose latest
        position came from ``feed`` (remembered: a stream asks this for every update)."""
        key = (viewer, tuple(feeds), feed)
        found = self._decisions.get(key)
        if found is None:
            if len(self._decisions) >= DECISIONS_KEPT:
                self._decisions.clear()
            found = self._decisions[key] = self._decide(viewer, key[1], feed)
        return found

    def _decide(self, viewer: str | None, feeds: tuple[str, ...], feed: str) -> UpdateDecision:
        whole: float | None = 0.0 if feeds else None  # resting on nothing known: deny
        seen: list[str] = []
        for f in feeds:
            member, source = split_feed(f)
            if viewer is not None and viewer == member:
                seen.append(f)
                continue
            if viewer is None or not self.label(member, source).allows(viewer):
                whole = None
                continue
            seen.append(f)
            if whole is not None and self.precision_m(viewer, member, source) > 0:
                whole = None
            if whole is not None:
                whole = max(whole, self.release(member, source).delay_for(member, viewer))
        owner, name = split_feed(feed)
        part: float | None = None
        precision = 0.0
        if (
            viewer is not None
            and name
            and (owner == viewer or self.label(owner, name).allows(viewer))
        ):
            part = self.release(owner, name).delay_for(owner, viewer)
            precision = self.precision_m(viewer, owner, name)
        members = tuple(sorted({split_feed(f)[0] for f in seen}))
        return UpdateDecision(whole, part, precision, tuple(seen), members)

    # -- points and vessels ----------------------------------------------------------------

    def point_view(self, viewer: str | None, point: TrackPoint, now: float) -> TrackPoint | None:
        """The point as ``viewer`` may see it (position coarsened if so agreed), or ``None``."""
        if not self.may_see(viewer, point.member, point.source, point.observed_ts, now):
            return None
        precision = self.precision_m(viewer or "", point.member, point.source)
        if precision <= 0:
            return point
        lat, lon = coarsen(point.lat, point.lon, precision)
        return replace(point, lat=lat, lon=lon, receivers=())

    def vessel_view(
        self,
        viewer: str | None,
        state: VesselState,
        now: float,
        recent: Callable[[], Sequence[TrackPoint]],
        statics: Callable[[], Sequence[StaticReport]],
    ) -> VesselState | None:
        """The vessel as ``viewer`` may see it, or ``None`` when nothing of it is released.

        When every source behind the state is released to ``viewer`` whole, the state is
        shown as it is. Otherwise it is rebuilt from what ``viewer`` may see: the latest
        visible point of ``recent`` (oldest first), identity from visible ``statics``, and
        only the visible members and sources; ``positions`` counts the visible points of
        ``recent``.
        """
        if self.unrestricted(viewer, state.sources, state.observed_ts, now):
            return state
        shown = [v for p in recent() if (v := self.point_view(viewer, p, now)) is not None]
        if not shown:
            return None
        last = shown[-1]
        feeds = sorted({feed_of(p.member, p.source) for p in shown})
        identity = self._identity(viewer, statics(), now)
        return replace(
            state,
            segment=last.segment,
            observed_ts=last.observed_ts,
            lat=last.lat,
            lon=last.lon,
            speed_kn=last.speed_kn,
            course_deg=last.course_deg,
            heading_deg=last.heading_deg,
            members=tuple(sorted({p.member for p in shown})),
            sources=tuple(feeds),
            positions=len(shown),
            **identity,
        )

    def _identity(
        self, viewer: str | None, statics: Sequence[StaticReport], now: float
    ) -> dict[str, Any]:
        out: dict[str, Any] = dict.fromkeys(IDENTITY_FIELDS)
        for report in statics:  # oldest first: later reports win
            if not self.may_see(viewer, report.member, report.source, report.observed_ts, now):
                continue
            for name in IDENTITY_FIELDS[:-1]:
                value = getattr(report, name)
                if value is not None:
                    out[name] = value
            if report.to_bow_m is not None and report.to_stern_m is not None:
                out["length_m"] = report.to_bow_m + report.to_stern_m
        return out

    def static_visible(self, viewer: str | None, report: StaticReport, now: float) -> bool:
        """Whether ``viewer`` may see an identity report."""
        return self.may_see(viewer, report.member, report.source, report.observed_ts, now)

    # -- events ----------------------------------------------------------------------------

    def event_label(self, event: Mapping[str, Any]) -> Label:
        """The most restrictive label of the sources an event rests on (``sources`` as
        ``MEMBER/NAME``; an event naming only ``members`` is labelled with the most
        restrictive of each member's known sources)."""
        feeds = event.get("sources")
        if feeds:
            return most_restrictive(self.feed_label(f) for f in feeds)
        labels: list[Label] = []
        for member in event.get("members") or ():
            owned = [self.label(m, s) for (m, s) in self._releases if m == member]
            labels.append(most_restrictive(owned) if owned else Label(frozenset({member})))
        return most_restrictive(labels)

    def mutual(self, event: Mapping[str, Any]) -> bool:
        """Whether the network agreement alerts this event to every member: its kind is a
        mutual-alert kind and it lies in a zone with owners (of an agreed regime): the zone
        it names, else any zone holding its position."""
        if event.get("kind") not in self.agreement.mutual_alert_kinds:
            return False
        ids: Sequence[str] = ()
        if event.get("zone"):
            ids = (str(event["zone"]),)
        elif self._zones_at is not None and event.get("lat") is not None:
            ids = self._zones_at(float(event["lat"]), float(event["lon"]))
        regimes = self.agreement.mutual_alert_regimes
        for zone_id in ids:
            zone = self._zones.get(zone_id)
            if zone is not None and zone.owners and (not regimes or zone.regime in regimes):
                return True
        return False

    def event_view(
        self, viewer: str | None, event: Mapping[str, Any], now: float
    ) -> dict[str, Any] | None:
        """The event as ``viewer`` may see it, or ``None``.

        Whole when ``viewer`` may see every input (delays counted from the event time);
        under mutual alerting, every member sees the event, its zone and measured values but
        only the inputs it may see (``observations`` dropped, ``sources`` and ``members``
        narrowed, ``redacted`` true).
        """
        if viewer is None:
            return None
        label = self.event_label(event)
        ts = float(event.get("ts", event.get("start_ts", 0.0)) or 0.0)
        feeds = event.get("sources") or ()
        if label.allows(viewer) and self.unrestricted_delay(viewer, feeds, ts, now):
            return self._coarsened({**event, "label": label.text}, viewer, feeds)
        if not self.mutual(event):
            return None
        seen = [f for f in feeds if self.feed_label(f).allows(viewer)]
        return {
            **event,
            "observations": [],
            "sources": seen,
            "members": sorted({split_feed(f)[0] for f in seen}),
            "redacted": True,
            "label": NETWORK.text,
        }

    def _coarsened(
        self, event: dict[str, Any], viewer: str, feeds: Iterable[str]
    ) -> dict[str, Any]:
        """The event with its position on the coarsest grid agreed for any of its inputs,
        and the positions in its details (``*lat``/``*lon``) left out, when one is agreed."""
        precision = max(
            (self.precision_m(viewer, *split_feed(f)) for f in feeds if split_feed(f)[0] != viewer),
            default=0.0,
        )
        if precision <= 0:
            return event
        if event.get("lat") is not None and event.get("lon") is not None:
            event["lat"], event["lon"] = coarsen(event["lat"], event["lon"], precision)
        details = event.get("details") or {}
        event["details"] = {
            k: v for k, v in details.items() if not k.endswith(("lat", "lon", "positions"))
        }
        return event

    def unrestricted_delay(self, viewer: str, feeds: Iterable[str], ts: float, now: float) -> bool:
        """Whether no delayed release holds back an input made at ``ts`` from ``viewer``."""
        for feed in feeds:
            member, source = split_feed(feed)
            if member != viewer and now < ts + self.release(member, source).delay_for(
                member, viewer
            ):
                return False
        return True
