"""Releasability labels and the sharing agreements they come from.

A :class:`Label` says which members may see an object: every member of the network, or a named
set. A source's :class:`Release` (its sharing agreement) gives the label of everything it
observes, and may hold observations back from some recipients for a while or show them at
reduced precision. A fused object (a vessel track heard by several sources, an event resting on
several members' data) carries the most restrictive label of its inputs
(:func:`most_restrictive`).

Release texts, as the CLI and settings take them:

- ``network``: every member;
- ``owner``: the owning member only (the default: deny by default);
- ``members:PHL-PCG,VNM-VCG``: the owner and the named members;
- ``community:NAME``: the owner and the members of a community of interest named in the
  network's :class:`Agreement`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "NETWORK",
    "OWNER_ONLY",
    "Agreement",
    "Label",
    "Release",
    "ReleaseError",
    "Scope",
    "most_restrictive",
]

Scope = Literal["network", "owner", "members", "community"]
SCOPES: tuple[Scope, ...] = ("network", "owner", "members", "community")


class ReleaseError(ValueError):
    """A release text or agreement that cannot be understood; the message says why."""


@dataclass(frozen=True, slots=True)
class Label:
    """Who may see an object: ``readers`` ``None`` means every member of the network."""

    readers: frozenset[str] | None = None

    def allows(self, member: str | None) -> bool:
        """Whether ``member`` may see the object; nobody without a member sees labelled data."""
        if member is None:
            return False
        return self.readers is None or member in self.readers

    @property
    def text(self) -> str:
        """``network``, or ``members:A,B`` (sorted), or ``none`` when nobody may see it."""
        if self.readers is None:
            return "network"
        if not self.readers:
            return "none"
        return "members:" + ",".join(sorted(self.readers))

    def __str__(self) -> str:
        return self.text


NETWORK = Label(None)
"""Every member may see it."""


def most_restrictive(labels: Iterable[Label]) -> Label:
    """The label of an object fused from inputs with these labels: only members who may see
    every input may see it. No inputs give :data:`NETWORK`."""
    readers: frozenset[str] | None = None
    for label in labels:
        if label.readers is None:
            continue
        readers = label.readers if readers is None else readers & label.readers
    return Label(readers)


def _names(text: str, what: str) -> frozenset[str]:
    names = frozenset(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise ReleaseError(f"{what} names no member")
    return names


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """A source's sharing agreement.

    ``scope`` says who receives its observations (see the module docstring); ``members`` the
    named recipients for ``members``; ``community`` the community of interest for
    ``community``. ``delay_s`` holds observations back from a recipient for that many seconds
    after they were observed; ``precision_m`` rounds the positions a recipient sees to a grid
    of that many metres. Both map a member code, or ``*`` for every recipient but the owner,
    to a value; the owner always sees its own data at once and exactly.
    """

    scope: Scope = "owner"
    members: frozenset[str] = frozenset()
    community: str | None = None
    delay_s: Mapping[str, float] = field(default_factory=dict)
    precision_m: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.scope not in SCOPES:
            raise ReleaseError(f"unknown release scope {self.scope!r}; use {', '.join(SCOPES)}")
        if self.scope == "members" and not self.members:
            raise ReleaseError("a 'members' release names at least one member")
        if self.scope == "community" and not self.community:
            raise ReleaseError("a 'community' release names its community")
        for what, values in (("delay_s", self.delay_s), ("precision_m", self.precision_m)):
            for who, value in values.items():
                if not value >= 0:
                    raise ReleaseError(f"{what} for {who} must be >= 0, not {value}")

    @classmethod
    def parse(cls, text: str) -> Release:
        """``network``, ``owner``, ``members:A,B`` or ``community:NAME``."""
        text = text.strip()
        head, _, rest = text.partition(":")
        if head in ("network", "owner") and not rest:
            return cls(scope=head)  # type: ignore[arg-type]
        if head == "members":
            return cls(scope="members", members=_names(rest, "members:"))
        if head == "community" and rest.strip():
            return cls(scope="community", community=rest.strip())
        raise ReleaseError(
            f"release {text!r} is not network, owner, members:CODE,CODE or community:NAME"
        )

    @property
    def text(self) -> str:
        """The release as :meth:`parse` reads it (without delays and precision)."""
        if self.scope == "members":
            return "members:" + ",".join(sorted(self.members))
        if self.scope == "community":
            return f"community:{self.community}"
        return self.scope

    def _for(self, values: Mapping[str, float], owner: str, recipient: str) -> float:
        if recipient == owner:
            return 0.0
        return float(values.get(recipient, values.get("*", 0.0)))

    def delay_for(self, owner: str, recipient: str) -> float:
        """Seconds ``recipient`` waits after an observation before it may see it."""
        return self._for(self.delay_s, owner, recipient)

    def precision_for(self, owner: str, recipient: str) -> float:
        """Grid size in metres of the positions ``recipient`` sees; 0 = exact."""
        return self._for(self.precision_m, owner, recipient)


OWNER_ONLY = Release()


@dataclass(frozen=True, slots=True, kw_only=True)
class Agreement:
    """The network's own agreement, on top of each source's release.

    ``communities`` names communities of interest (name -> member codes).
    ``mutual_alert_kinds``: events of these kinds in a member's zone are alerted to every
    member, each recipient seeing only the inputs it may see (the event, its zone and its
    measured values; not a restricted track behind it). ``mutual_alert_regimes`` limits that
    to zones of these legal regimes (empty = any zone).
    """

    communities: Mapping[str, frozenset[str]] = field(default_factory=dict)
    mutual_alert_kinds: frozenset[str] = frozenset(
        {"zone_entry", "swarm", "shadowing", "close_approach", "dark_vessel"}
    )
    mutual_alert_regimes: frozenset[str] = frozenset()

    def community(self, name: str) -> frozenset[str]:
        """The members of a community of interest; unknown names have none (deny)."""
        return self.communities.get(name, frozenset())
