"""Sharing: releasability labels, source agreements and the policy every read path asks.

Pure domain logic (no I/O, no clock): see :mod:`lookout.sharing.labels` and
:mod:`lookout.sharing.policy`, and docs/sharing.md.
"""

from lookout.sharing.labels import (
    NETWORK,
    OWNER_ONLY,
    Agreement,
    Label,
    Release,
    ReleaseError,
    most_restrictive,
)
from lookout.sharing.policy import Policy, ZoneInfo, coarsen, feed_of, split_feed

__all__ = [
    "NETWORK",
    "OWNER_ONLY",
    "Agreement",
    "Label",
    "Policy",
    "Release",
    "ReleaseError",
    "ZoneInfo",
    "coarsen",
    "feed_of",
    "most_restrictive",
    "split_feed",
]
