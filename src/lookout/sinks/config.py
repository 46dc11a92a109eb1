"""The outputs file (setting ``outputs_file``): which sinks run, for whom, and where to.

A TOML file with one ``[[outputs]]`` table per output (docs/outputs.md)::

    [[outputs]]
    name = "pcg-ops"
    kind = "webhook"                  # webhook | cot | nmea
    member = "PHL-PCG"                # whose sharing view the output gets
    url = "https://ops.example/lookout"
    secret_env = "PCG_WEBHOOK_SECRET" # or secret_file = "/run/secrets/pcg-webhook"
    events = false                    # also post every event version (default: alerts only)

    [[outputs]]
    name = "pcg-tak"
    kind = "cot"
    member = "PHL-PCG"
    host = "tak.example"
    port = 8087
    protocol = "tcp"                  # tcp | udp
    assets = [548000001]              # the member's own vessels: friendly

Secrets are given by reference only (an environment variable or a file); a literal
``secret`` is refused so that it never sits in a config file, and ``repr`` never shows one.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["KINDS", "OutputConfig", "OutputsFileError", "read_outputs"]

KINDS = ("webhook", "cot", "nmea")
"""What an output may be."""

NMEA_PORT = 10110
"""Default port of an ``nmea`` relay: the IANA-registered ``nmea-0183`` port."""

PROTOCOLS = ("tcp", "udp")


class OutputsFileError(ValueError):
    """The outputs file cannot be used; the message names the file and the output."""


@dataclass(frozen=True, slots=True, kw_only=True)
class OutputConfig:
    """One configured output. See the module docstring and docs/outputs.md for each field."""

    name: str
    kind: str
    member: str
    url: str = ""
    secret: bytes = field(default=b"", repr=False)
    events: bool = False
    timeout_s: float = 10.0
    max_attempts: int = 6
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    queue_size: int = 1000
    host: str = "127.0.0.1"
    port: int = 8087
    protocol: str = "tcp"
    min_interval_s: float = 10.0
    stale_s: float = 300.0
    assets: frozenset[int] = frozenset()
    hostile: frozenset[int] = frozenset()
    neutral_flags: frozenset[str] = frozenset()
    suspect_s: float = 6 * 3600.0
    station: str = ""
    static_data: bool = False
    relay_simulated: bool = False

    def __repr__(self) -> str:
        where = self.url if self.kind == "webhook" else f"{self.protocol}://{self.host}:{self.port}"
        secret = "***" if self.secret else None
        return (
            f"OutputConfig(name={self.name!r}, kind={self.kind!r}, member={self.member!r}, "
            f"to={where!r}, secret={secret})"
        )


_NUMBERS = ("timeout_s", "backoff_s", "max_backoff_s", "min_interval_s", "stale_s", "suspect_s")
_INTS = ("max_attempts", "queue_size", "port")
_KNOWN = {
    "name", "kind", "member", "url", "secret_env", "secret_file", "events", "host", "protocol",
    "assets", "hostile", "neutral_flags", "station", "static_data", "relay_simulated",
    *_NUMBERS, *_INTS,
}  # fmt: skip
_FLAGS = ("events", "static_data", "relay_simulated")


def read_outputs(path: Path, env: Mapping[str, str] | None = None) -> tuple[OutputConfig, ...]:
    """The outputs of a TOML file; :class:`OutputsFileError` naming the file and the entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise OutputsFileError(f"{path}: {exc}") from None
    entries = data.get("outputs", [])
    if not isinstance(entries, list):
        raise OutputsFileError(f"{path}: 'outputs' is a list of [[outputs]] tables")
    out = [_output(path, i, e, os.environ if env is None else env) for i, e in enumerate(entries)]
    names = [o.name for o in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise OutputsFileError(f"{path}: output name {dupes[0]!r} is used twice")
    return tuple(out)


def _output(path: Path, index: int, entry: Any, env: Mapping[str, str]) -> OutputConfig:
    where = f"{path}: outputs[{index}]"
    if not isinstance(entry, dict):
        raise OutputsFileError(f"{where} is not a table")
    where = f"{path}: output {entry.get('name', index)!r}"
    unknown = sorted(set(entry) - _KNOWN)
    if unknown:
        hint = " (give secrets by secret_env or secret_file)" if "secret" in unknown else ""
        raise OutputsFileError(f"{where}: unknown key {unknown[0]!r}{hint}")
    for key in ("name", "kind", "member"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise OutputsFileError(f"{where}: {key!r} is required (a string)")
    kind = entry["kind"]
    if kind not in KINDS:
        raise OutputsFileError(f"{where}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    values: dict[str, Any] = {k: entry[k] for k in ("name", "kind", "member")}
    values.update(_typed(where, entry))
    if kind == "webhook":
        if not str(entry.get("url", "")).startswith(("http://", "https://")):
            raise OutputsFileError(f"{where}: a webhook needs an http(s) 'url'")
        values["secret"] = _secret(where, entry, env)
    elif values.get("protocol", "tcp") not in PROTOCOLS:
        raise OutputsFileError(f"{where}: protocol must be tcp or udp")
    if kind == "nmea":
        values.setdefault("port", NMEA_PORT)
        _check_station(where, values.get("station", ""))
    return OutputConfig(**values)


def _check_station(where: str, station: str) -> None:
    """A tag block station name: letters, digits, ``-``, ``_`` and ``.`` only."""
    if any(not (c.isascii() and (c.isalnum() or c in "-_.")) for c in station):
        raise OutputsFileError(f"{where}: station may hold letters, digits, - _ . only")


def _typed(where: str, entry: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in ("url", "host", "protocol", "station"):
        if key in entry:
            values[key] = str(entry[key])
    for key in _FLAGS:
        if key in entry:
            values[key] = bool(entry[key])
    for key in _NUMBERS + _INTS:
        if key not in entry:
            continue
        value = entry[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise OutputsFileError(f"{where}: {key} must be a number >= 0")
        values[key] = int(value) if key in _INTS else float(value)
    for key in ("assets", "hostile"):
        if key in entry:
            items = entry[key]
            if not isinstance(items, list) or not all(isinstance(m, int) for m in items):
                raise OutputsFileError(f"{where}: {key} is a list of MMSIs")
            values[key] = frozenset(items)
    if "neutral_flags" in entry:
        values["neutral_flags"] = frozenset(str(f).upper() for f in entry["neutral_flags"])
    return values


def _secret(where: str, entry: Mapping[str, Any], env: Mapping[str, str]) -> bytes:
    """The HMAC key named by ``secret_env`` or ``secret_file`` (required for a webhook)."""
    if "secret_env" in entry:
        value = env.get(str(entry["secret_env"]), "")
        if not value:
            raise OutputsFileError(f"{where}: environment variable {entry['secret_env']} is unset")
        return value.encode()
    if "secret_file" in entry:
        try:
            value = Path(str(entry["secret_file"])).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise OutputsFileError(f"{where}: secret_file: {exc.strerror}") from None
        if not value:
            raise OutputsFileError(f"{where}: secret_file is empty")
        return value.encode()
    raise OutputsFileError(f"{where}: a webhook needs secret_env or secret_file")
