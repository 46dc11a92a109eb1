"""Members of the network and the roles of their people, as values.

A *member* is a state or agency that joins the network (``PHL-PCG``: the Philippine Coast
Guard). Its people act in one of four roles, each including the ones below it:

- ``viewer``: reads the picture its member may see;
- ``watch_officer``: a viewer who also acts on alerts and incidents;
- ``member_admin``: manages its own member's users and sources;
- ``network_admin``: manages members, signing keys and every member's users and sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["MEMBER_CODE", "Member", "MemberCodeError", "Role", "check_member_code"]

MEMBER_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}(-[A-Z0-9]{1,15}){0,2}$")
"""A member code: upper-case letters and digits, up to three dash-separated parts
(``PHL-PCG``, ``IDN-BAKAMLA``, ``NATO``)."""


class MemberCodeError(ValueError):
    """A member code that does not match :data:`MEMBER_CODE`."""


def check_member_code(code: str) -> str:
    """``code`` when it is a valid member code, else :class:`MemberCodeError` saying why."""
    if not MEMBER_CODE.fullmatch(code):
        raise MemberCodeError(
            f"member code {code!r}: use upper-case letters and digits, parts joined by '-' "
            "(e.g. PHL-PCG)"
        )
    return code


class Role(StrEnum):
    """What a user may do; each role includes every role before it."""

    VIEWER = "viewer"
    WATCH_OFFICER = "watch_officer"
    MEMBER_ADMIN = "member_admin"
    NETWORK_ADMIN = "network_admin"

    @property
    def rank(self) -> int:
        """0 for ``viewer`` up to 3 for ``network_admin``."""
        return _ORDER.index(self)

    def includes(self, other: Role) -> bool:
        """Whether this role may do what ``other`` may."""
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Role:
        """A role from its name (``watch-officer`` is read as ``watch_officer``)."""
        try:
            return cls(text.strip().lower().replace("-", "_"))
        except ValueError:
            names = ", ".join(r.value for r in cls)
            raise ValueError(f"unknown role {text!r}; one of {names}") from None


_ORDER = tuple(Role)


@dataclass(frozen=True, slots=True)
class Member:
    """A member of the network: ``code`` (``PHL-PCG``), full ``name``, ISO 3166 alpha-3
    ``country`` (empty for an international body)."""

    code: str
    name: str
    country: str = ""

    def __post_init__(self) -> None:
        check_member_code(self.code)
        if self.country and not re.fullmatch(r"[A-Z]{3}", self.country):
            raise ValueError(f"country {self.country!r}: an ISO 3166 alpha-3 code such as PHL")
