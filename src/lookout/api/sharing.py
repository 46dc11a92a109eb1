"""Every read path asks the sharing policy: one :class:`View` per request (or stream client).

A view holds the caller's member, the runtime's current :class:`~lookout.sharing.Policy` and
the wall-clock time, and answers "what of this may the caller see": a vessel (whole, rebuilt
from the visible part of its track, or nothing), track points (delayed or coarsened as agreed),
events (whole, redacted under mutual alerting, or nothing), detections, sources and their
counters. Routes declare their policy with :func:`policy_route` so a test can list the routes
that do not (an unlabelled route fails the suite).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from lookout.model import Detection, StaticReport, TrackPoint, VesselState
from lookout.sharing import Policy, coarsen, most_restrictive
from lookout.sharing.messages import alert_view, vessel_update_view

if TYPE_CHECKING:
    from lookout.api.auth import Actor
    from lookout.api.deps import ApiRuntime

__all__ = ["POLICY_KEY", "RECENT_WINDOWS_S", "StreamView", "View", "policy_route"]

POLICY_KEY = "x-lookout-policy"
"""OpenAPI extension naming how a route applies the sharing policy."""

RECENT_WINDOWS_S = (3600.0, 25 * 3600.0)
"""How far back from a vessel's latest position a partial view looks for the caller's latest
visible point, seconds: an hour first, then 25 hours (a day's delayed release plus margin)."""


POLICIES = ("filtered", "own", "aggregate", "reference", "write", "stream", "public")
"""How a route may apply the sharing policy (docs/sharing.md, "What each read path does")."""


def policy_route(how: str) -> dict[str, Any]:
    """``openapi_extra`` for a route: how it applies the sharing policy, one of
    :data:`POLICIES`."""
    if how not in POLICIES:
        raise ValueError(f"unknown sharing policy {how!r}; one of {', '.join(POLICIES)}")
    return {POLICY_KEY: how}


class View:
    """What one caller may see, at one moment."""

    def __init__(self, runtime: ApiRuntime, actor: Actor, now: float | None = None) -> None:
        self.runtime = runtime
        self.member = actor.member
        self.policy: Policy = runtime.policy()
        self.now = time.time() if now is None else now

    # -- vessels and tracks ----------------------------------------------------------------

    def vessel(self, state: VesselState) -> VesselState | None:
        """The vessel as the caller may see it, or ``None``."""
        store = self.runtime.store
        mmsi = state.mmsi

        def recent() -> Sequence[TrackPoint]:
            points: Sequence[TrackPoint] = ()
            for window in RECENT_WINDOWS_S:
                points = store.track(mmsi, state.observed_ts - window, None, 10_000)
                if any(self.policy.point_view(self.member, p, self.now) for p in points):
                    return points
            return points

        return self.policy.vessel_view(
            self.member, state, self.now, recent, lambda: store.statics(mmsi)
        )

    def vessels(self, states: Iterable[VesselState]) -> list[VesselState]:
        return [v for s in states if (v := self.vessel(s)) is not None]

    def points(self, points: Iterable[TrackPoint]) -> list[TrackPoint]:
        """Track points the caller may see, coarsened where agreed."""
        return [v for p in points if (v := self.policy.point_view(self.member, p, self.now))]

    def statics(self, reports: Iterable[StaticReport]) -> list[StaticReport]:
        return [r for r in reports if self.policy.static_visible(self.member, r, self.now)]

    # -- events, detections, sources --------------------------------------------------------

    def event(self, event: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.policy.event_view(self.member, event, self.now)

    def events(self, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [v for e in events if (v := self.event(e)) is not None]

    def detection(self, detection: Detection) -> bool:
        """A detection is labelled by the source that delivered it (``feed``), else by its
        member's source named like what saw it (``radar``, ``sar``)."""
        member, source = self._detection_source(detection)
        return self.policy.may_see(self.member, member, source, detection.ts, self.now)

    @staticmethod
    def _detection_source(detection: Detection) -> tuple[str, str]:
        if detection.feed:
            member, _, name = detection.feed.partition("/")
            return member, name
        return detection.member, detection.source

    def detection_label(self, detection: Detection) -> str:
        return self.policy.label(*self._detection_source(detection)).text

    def detection_position(self, detection: Detection) -> tuple[float, float]:
        """Where the caller may see a detection: on the grid agreed for it, if any."""
        member, source = self._detection_source(detection)
        return coarsen(
            detection.lat, detection.lon, self.policy.precision_m(self.member or "", member, source)
        )

    def source(self, member: str, name: str) -> bool:
        """Whether the caller may see a source and its counters: its own, or released to it."""
        return member == self.member or self.policy.label(member, name).allows(self.member)

    def label_of(self, member: str, source: str) -> str:
        return self.policy.label(member, source).text

    def vessel_label(self, state: VesselState) -> str:
        """The label of a vessel as shown: the most restrictive of its (visible) sources."""
        return most_restrictive(self.policy.feed_label(f) for f in state.sources).text


class StreamView:
    """The sharing view of one open stream: each message, as its client may see it.

    Vessel updates whose sources are all released to the client whole pass as they are. Any
    other passes only when the source of its latest position (``feed``) is released to the
    client and not delayed: coarsened as agreed, without identity fields (they may come from
    a source the client may not see; ``GET /vessels/{mmsi}`` gives the visible identity), with
    ``members``/``sources`` narrowed, ``positions`` null and ``partial`` true. Events and
    alerts follow :mod:`lookout.sharing.messages` (the rules webhooks and CoT outputs share);
    ingest counters only name the sources the client may see.
    """

    def __init__(self, runtime: ApiRuntime, actor: Actor) -> None:
        self.runtime = runtime
        self.actor = actor

    def message(self, kind: str, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The payload to send, or ``None`` to send nothing."""
        if kind == "vessel":
            return self._vessel(payload)
        view = View(self.runtime, self.actor)
        if kind == "event":
            return view.event(payload)
        if kind == "alert":
            return self._alert(view, payload)
        if kind == "alert_state":  # a member's own acknowledgements, for its users only
            return payload if payload.get("member") == self.actor.member else None
        if kind == "stats" and "sources" in payload:
            shown = [s for s in payload["sources"] if view.source(s["member"], s["source"])]
            return {**payload, "sources": shown} if shown else None
        return payload

    def _vessel(self, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        policy = self.runtime.policy()
        return vessel_update_view(policy, self.actor.member, payload, time.time())

    def _alert(self, view: View, payload: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return alert_view(view.policy, view.member, payload, view.now)
