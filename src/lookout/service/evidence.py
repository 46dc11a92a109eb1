"""Evidence bundles: an incident with everything behind it, hashed and signed by a member.

A bundle is a zip of:

- ``incident.json``: the incident record, its timeline and its attachments' list;
- ``tracks.geojson`` and ``tracks.kml``: the incident's vessels' track points from
  :data:`TRACK_WINDOW_S` before to as long after ``occurred_at``, as the member may see them
  (the sharing policy: delayed and coarsened as agreed);
- ``events.json``: the linked events the member may see, with their measured values;
- ``attachments/<sha256>-<name>``: the attached files (with a full view of the incident);
- ``provenance.json``: member, source, receivers, observed and received time of every track
  point included;
- ``signer.pub``: the member's Ed25519 public key (PEM);
- ``manifest.json``: the SHA-256 and size of every file above, the incident, the signing
  member, the key and its fingerprint;
- ``manifest.sig``: the Ed25519 signature over ``manifest.json`` (base64).

:func:`verify` checks the signature over ``manifest.json`` with the key it names, then every
file's hash, and names the first problem. The signing keys live in
``<data_dir>/evidence-keys/<MEMBER>.key`` (PKCS #8 PEM, readable by its owner only), one per
member, made on first use. The fingerprint is the SHA-256 of the raw 32-byte public key (hex).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from lookout.model import TrackPoint
from lookout.model.incidents import Attachment, Entry, Incident, IncidentError
from lookout.pipeline.ports import Store
from lookout.service.batch import iso_utc
from lookout.service.evidence_formats import kml, track_geojson
from lookout.service.incidents import sight, visible_entries
from lookout.sharing import Policy
from lookout.storage.incidents import IncidentStore

__all__ = [
    "FORMAT",
    "KEYS_DIR",
    "TRACK_WINDOW_S",
    "BundleError",
    "SignerKey",
    "SigningKeys",
    "Verified",
    "build_bundle",
    "fingerprint",
    "verify",
]

FORMAT = "lookout-evidence/1"
KEYS_DIR = "evidence-keys"
TRACK_WINDOW_S = 7200.0
"""Track points from this long before ``occurred_at`` to as long after it, seconds."""
MANIFEST, SIGNATURE, PUBLIC_KEY = "manifest.json", "manifest.sig", "signer.pub"


class BundleError(ValueError):
    """A bundle that does not verify (or cannot be made); the message names the problem."""


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True, slots=True)
class SignerKey:
    """A member's evidence signing key as ``lookout evidence keys`` lists it."""

    member: str
    fingerprint: str
    created_ts: float
    public_pem: str


class SigningKeys:
    """The members' Ed25519 evidence keys in ``<data_dir>/evidence-keys``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @classmethod
    def of(cls, data_dir: Path) -> SigningKeys:
        return cls(data_dir / KEYS_DIR)

    def _path(self, member: str) -> Path:
        if not re.fullmatch(r"[A-Z0-9-]+", member):
            raise BundleError(f"not a member code: {member!r}")
        return self.folder / f"{member}.key"

    def private(self, member: str) -> Ed25519PrivateKey:
        """The member's key, made (and written readable by its owner only) on first use."""
        path = self._path(member)
        if not path.is_file():
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            pem = Ed25519PrivateKey.generate().private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise BundleError(f"{path} is not an Ed25519 key")
        return key

    def list(self) -> list[SignerKey]:
        found = []
        for path in sorted(self.folder.glob("*.key")) if self.folder.is_dir() else []:
            public = self.private(path.stem).public_key()
            found.append(
                SignerKey(
                    path.stem, fingerprint(public), path.stat().st_mtime,
                    _public_pem(public).decode(),
                )
            )  # fmt: skip
        return found


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")


def incident_record(incident: Incident) -> dict[str, Any]:
    """An incident as the API and bundles show it (times ISO 8601 UTC)."""
    return {
        "id": incident.id, "member": incident.member, "opened_by": incident.opened_by,
        "opened_at": iso_utc(incident.opened_ts), "occurred_at": iso_utc(incident.occurred_ts),
        "lat": incident.lat, "lon": incident.lon, "vessels": list(incident.vessels),
        "category": incident.category, "severity": incident.severity,
        "description": incident.description, "status": incident.status,
        "release": incident.release, "events": list(incident.events),
        "assistance_requested": incident.assistance_requested,
    }  # fmt: skip


def entry_record(entry: Entry) -> dict[str, Any]:
    data = dict(entry.data)
    if isinstance(data.get("eta_ts"), int | float):
        data["eta_at"] = iso_utc(float(data.pop("eta_ts")))
    return {
        "seq": entry.seq, "kind": entry.kind, "member": entry.member, "user": entry.user,
        "at": iso_utc(entry.ts), "text": entry.text, "data": data,
    }  # fmt: skip


def attachment_record(a: Attachment) -> dict[str, Any]:
    return {
        "sha256": a.sha256, "name": a.name, "media_type": a.media_type,
        "size_bytes": a.size_bytes, "member": a.member, "added_at": iso_utc(a.added_ts),
    }  # fmt: skip


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:100] or "file"


def provenance(points: Iterable[TrackPoint]) -> list[dict[str, Any]]:
    return [
        {
            "mmsi": p.mmsi, "observed_at": iso_utc(p.observed_ts), "member": p.member,
            "source": p.source, "receivers": list(p.receivers),
            "received_at": iso_utc(p.received_ts) if p.received_ts is not None else None,
        }
        for p in points
    ]  # fmt: skip


def _points(
    store: Store, policy: Policy, member: str, incident: Incident, now: float
) -> list[TrackPoint]:
    """The incident's vessels' track points around its time, as ``member`` may see them."""
    low, high = incident.occurred_ts - TRACK_WINDOW_S, incident.occurred_ts + TRACK_WINDOW_S
    return [
        v
        for mmsi in incident.vessels
        for p in store.track(mmsi, low, high, 100_000)
        if (v := policy.point_view(member, p, now)) is not None
    ]


def _events(
    store: Store, policy: Policy, member: str, ids: Iterable[str], now: float
) -> list[dict[str, Any]]:
    """The latest version of each linked event ``member`` may see, as it may see it."""
    found = []
    for event_id in ids:
        history = store.event_history(event_id)
        if history and (seen := policy.event_view(member, history[-1], now)) is not None:
            found.append(seen)
    return found


def gather(
    incidents: IncidentStore, store: Store, policy: Policy, member: str, incident_id: str,
    now: float,
) -> dict[str, bytes]:  # fmt: skip
    """The bundle's files (before the manifest) as ``member`` may see them."""
    incident = incidents.incident(incident_id)
    shown = sight(policy, member, incident) if incident is not None else None
    if incident is None or shown is None:
        raise BundleError(f"no incident {incident_id!r} visible to {member}")
    entries = visible_entries(incidents.entries(incident.id), shown)
    attachments = incidents.attachments(incident.id) if shown == "full" else []
    points = _points(store, policy, member, incident, now)
    events = _events(store, policy, member, incident.events if shown == "full" else (), now)
    files = {
        "incident.json": _json(
            {
                "incident": {
                    **incident_record(incident),
                    **({} if shown == "full" else {"events": []}),
                },
                "timeline": [entry_record(e) for e in entries],
                "attachments": [attachment_record(a) for a in attachments],
                "redacted": shown != "full",
            }
        ),
        "tracks.geojson": _json(track_geojson(incident, points)),
        "tracks.kml": kml(incident, points).encode("utf-8"),
        "events.json": _json(events),
        "provenance.json": _json(provenance(points)),
    }
    for a in attachments:
        files[f"attachments/{a.sha256}-{_safe_name(a.name)}"] = incidents.blob(a.sha256)
    return files


def build_bundle(
    files: Mapping[str, bytes], *, incident_id: str, member: str, key: Ed25519PrivateKey,
    created_ts: float | None = None,
) -> bytes:  # fmt: skip
    """The zip of ``files``, ``signer.pub``, the manifest and its signature."""
    public = key.public_key()
    content = {**files, PUBLIC_KEY: _public_pem(public)}
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    manifest = _json(
        {
            "format": FORMAT, "incident": incident_id, "member": member,
            "created_at": iso_utc(time.time() if created_ts is None else created_ts),
            "public_key": base64.b64encode(raw).decode(), "fingerprint": fingerprint(public),
            "files": [
                {"path": name, "sha256": hashlib.sha256(data).hexdigest(),
                 "size_bytes": len(data)}
                for name, data in sorted(content.items())
            ],
        }
    )  # fmt: skip
    signature = base64.b64encode(key.sign(manifest)) + b"\n"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, data in sorted(content.items()):
            bundle.writestr(name, data)
        bundle.writestr(MANIFEST, manifest)
        bundle.writestr(SIGNATURE, signature)
    return out.getvalue()


@dataclass(frozen=True, slots=True)
class Verified:
    """A bundle that verified: who signed it, with which key, over how many files."""

    incident: str
    member: str
    fingerprint: str
    files: int


def _read(bundle: Path | bytes) -> dict[str, bytes]:
    try:
        source = io.BytesIO(bundle) if isinstance(bundle, bytes) else bundle
        with zipfile.ZipFile(source) as archive:
            return {name: archive.read(name) for name in archive.namelist()}
    except (zipfile.BadZipFile, OSError, KeyError) as exc:
        raise BundleError(f"not a readable bundle: {exc}") from exc


def _signed_manifest(content: Mapping[str, bytes]) -> tuple[dict[str, Any], Ed25519PublicKey]:
    if MANIFEST not in content or SIGNATURE not in content:
        raise BundleError(f"no {MANIFEST} or {SIGNATURE} in the bundle")
    try:
        manifest = json.loads(content[MANIFEST])
        public = Ed25519PublicKey.from_public_bytes(base64.b64decode(manifest["public_key"]))
        signature = base64.b64decode(content[SIGNATURE], validate=False)
        public.verify(signature, content[MANIFEST])
    except (InvalidSignature, ValueError, KeyError, TypeError) as exc:
        raise BundleError(
            f"bad signature: {MANIFEST} or {SIGNATURE} changed, or not signed by the key it names"
        ) from exc
    return manifest, public


def verify(bundle: Path | bytes, expect_fingerprint: str | None = None) -> Verified:
    """Check the signature and every file's hash; :class:`BundleError` naming the first
    problem."""
    content = _read(bundle)
    manifest, public = _signed_manifest(content)
    listed: Sequence[Mapping[str, Any]] = manifest.get("files") or []
    for item in listed:
        name = str(item["path"])
        if name not in content:
            raise BundleError(f"missing file: {name}")
        if hashlib.sha256(content[name]).hexdigest() != item["sha256"]:
            raise BundleError(f"changed file: {name} (its SHA-256 is not the manifest's)")
    extra = sorted(set(content) - {str(i["path"]) for i in listed} - {MANIFEST, SIGNATURE})
    if extra:
        raise BundleError(f"file not in the manifest: {extra[0]}")
    found = fingerprint(public)
    if content.get(PUBLIC_KEY) != _public_pem(public) or manifest.get("fingerprint") != found:
        raise BundleError(f"{PUBLIC_KEY} or the manifest's fingerprint is not the signing key")
    if expect_fingerprint is not None and expect_fingerprint.lower() != found:
        raise BundleError(f"signed with key {found}, not {expect_fingerprint}")
    return Verified(str(manifest.get("incident")), str(manifest.get("member")), found, len(listed))


def export(
    incidents: IncidentStore, store: Store, policy: Policy, keys: SigningKeys, *,
    member: str, incident_id: str, now: float | None = None,
) -> tuple[bytes, Verified]:  # fmt: skip
    """The signed bundle of one incident as ``member`` may see it, and what it verifies as."""
    now = time.time() if now is None else now
    try:
        files = gather(incidents, store, policy, member, incident_id, now)
    except IncidentError as exc:
        raise BundleError(str(exc)) from exc
    key = keys.private(member)
    data = build_bundle(files, incident_id=incident_id, member=member, key=key, created_ts=now)
    return data, verify(data)
