"""What one member may receive of a bus message: the rules every live output shares.

The SSE stream (``lookout.api.sharing.StreamView``), webhooks and Cursor-on-Target outputs
(``lookout.sinks``) act for one member and pass every message through these functions, so a
member gets the same from each (docs/sharing.md):

- a vessel update whole when every source behind it is released to the member whole; else only
  its latest position, when that position's source (``feed``) is released and not delayed:
  coarsened as agreed, identity fields null, ``positions`` null, ``partial`` true, sources and
  members narrowed; else nothing;
- an event as :meth:`~lookout.sharing.Policy.event_view` shows it (whole, redacted under mutual
  alerting, or not at all);
- an alert to its addressee, to everyone when addressed to the network, and to every member
  once (from its first owner's copy) when its event is a mutual alert; its summary fields
  follow the event as shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lookout.fusion.identity import IDENTITY_FIELDS
from lookout.sharing.policy import Policy, coarsen

__all__ = ["IDENTITY_FIELDS", "NETWORK", "alert_view", "event_view", "vessel_update_view"]

NETWORK = "network"
"""The alert addressee meaning every member (``lookout.pipeline.alerts.NETWORK``)."""


_NO_IDENTITY = {**dict.fromkeys(IDENTITY_FIELDS), "positions": None, "partial": True}


def event_view(
    policy: Policy, member: str | None, event: Mapping[str, Any], now: float
) -> dict[str, Any] | None:
    """The event as ``member`` may see it at ``now``, or ``None``."""
    return policy.event_view(member, event, now)


def alert_view(
    policy: Policy, member: str | None, alert: Mapping[str, Any], now: float
) -> dict[str, Any] | None:
    """The alert as ``member`` may receive it, or ``None`` (not for it, or withheld)."""
    event = alert.get("event") or {}
    shown = policy.event_view(member, event, now)
    if shown is None:
        return None
    addressee = alert.get("member")
    if addressee not in (member, NETWORK):
        if not shown.get("redacted") and not policy.mutual(event):
            return None
        owners = sorted(str(o) for o in (event.get("details") or {}).get("owners") or ())
        if owners and addressee != owners[0]:
            return None  # a mutual alert reaches each member once
    summary = {k: shown.get(k) for k in ("lat", "lon", "zone", "mmsi", "mmsis") if k in alert}
    return {**alert, **summary, "event": shown}


def vessel_update_view(
    policy: Policy, member: str | None, update: Mapping[str, Any], now: float
) -> Mapping[str, Any] | None:
    """The vessel update as ``member`` may see it at ``now``, or ``None`` (the update itself
    when it may see all of it)."""
    ts = update.get("observed_ts")
    if not isinstance(ts, (int, float)):  # the tuple form: faster than int | float
        return None  # not a vessel update as the pipeline publishes them
    decision = policy.update_decision(
        member, update.get("sources") or (), str(update.get("feed") or "")
    )
    age_s = now - ts
    if decision.whole_after_s is not None and age_s >= decision.whole_after_s:
        return update
    if decision.part_after_s is None or age_s < decision.part_after_s:
        return None  # the latest position is not released to this member (yet)
    lat, lon = coarsen(update["lat"], update["lon"], decision.precision_m)
    return {
        **update, **_NO_IDENTITY, "lat": lat, "lon": lon,
        "members": decision.members, "sources": decision.sources,
    }  # fmt: skip
