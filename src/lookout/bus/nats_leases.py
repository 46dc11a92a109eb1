"""Membership, leases and hand-over snapshots in JetStream key-value and object stores.

:class:`LeaseTable` is what the process nodes of a deployment coordinate through
(docs/deployment.md, "Partitions and leases"); it keeps a NATS connection of its own, on its
own event-loop thread, so it does not share a bus's publishing path. Three buckets per
deployment (``<PREFIX>`` as for the streams: ``LOOKOUT`` with no prefix):

- ``<PREFIX>_NODES`` (key-value, entries expire ``ttl_s`` after their last write): one key per
  live process node, written by :meth:`LeaseTable.heartbeat`. A node that stops writing
  (killed, cut off) drops out of :meth:`LeaseTable.members` after ``ttl_s``.
- ``<PREFIX>_LEASES`` (key-value, same expiry): one key per held lease (a partition, or the
  pairwise detectors), its value the holder's node id. :meth:`LeaseTable.acquire` creates the
  key only if nobody holds it; :meth:`LeaseTable.renew` rewrites it only if it is still the
  revision this node wrote (compare-and-set), so a lease that expired and was taken by another
  node is never renewed by the old holder; :meth:`LeaseTable.release` deletes it.
- ``<PREFIX>_SNAPSHOTS`` (object store, kept until deleted): the state a node hands over when
  it releases a lease (:meth:`LeaseTable.save` / :meth:`LeaseTable.load` /
  :meth:`LeaseTable.discard`), of any size.

Expiry is the server's (the buckets' ``max_age``): a lease held by a dead node lapses
``ttl_s`` after its last renewal, give or take the server's expiry timer (about a second).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine
from typing import Any, TypeVar

import nats.errors
import nats.js.errors
from nats.js import api
from nats.js.kv import KeyValue
from nats.js.object_store import ObjectStore

from lookout.bus.nats_connect import LoopThread, NatsBusError, connect
from lookout.bus.nats_streams import check_prefix
from lookout.pipeline import subjects

__all__ = ["LeaseTable", "bucket_names", "delete_buckets"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def bucket_names(prefix: str) -> tuple[str, str, str]:
    """The deployment's buckets: nodes, leases (key-value) and snapshots (object store)."""
    root = check_prefix(prefix) or subjects.PREFIX.upper()
    return f"{root}_NODES", f"{root}_LEASES", f"{root}_SNAPSHOTS"


class LeaseTable:
    """One node's view of the membership and leases; see the module docstring.

    ``node_id`` names this node (letters, digits, ``-``, ``_``); ``ttl_s`` is the lease and
    membership lifetime, seconds; ``replicas`` the buckets' replication factor.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str,
        node_id: str,
        ttl_s: float,
        replicas: int = 1,
        timeout_s: float = 5.0,
    ) -> None:
        if ttl_s < 1.0:
            raise ValueError(f"a lease lasts at least 1 s, not {ttl_s:g}")
        self.node_id = node_id
        self.ttl_s = ttl_s
        self._timeout_s = timeout_s
        self._held: dict[str, int] = {}
        self._closed = False
        self._loop = LoopThread()
        try:
            self._nc, self._js = self._call(connect(url, timeout_s, lambda: self._closed))
            self._nodes, self._leases, self._snapshots = self._call(self._buckets(prefix, replicas))
        except BaseException:
            self._loop.stop()
            raise

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.call(coro, 2 * self._timeout_s)

    async def _buckets(self, prefix: str, replicas: int) -> tuple[KeyValue, KeyValue, ObjectStore]:
        nodes, leases, snaps = bucket_names(prefix)
        kvs = []
        for name in (nodes, leases):
            try:
                kvs.append(await self._js.key_value(name))
            except nats.js.errors.BucketNotFoundError:
                kvs.append(
                    await self._js.create_key_value(
                        bucket=name, ttl=self.ttl_s, history=1, replicas=replicas
                    )
                )
        try:
            store = await self._js.object_store(snaps)
        except nats.js.errors.BucketNotFoundError:
            store = await self._js.create_object_store(
                snaps, config=api.ObjectStoreConfig(replicas=replicas)
            )
        return kvs[0], kvs[1], store

    # -- membership --------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Say this node is alive for another ``ttl_s``."""
        self._call(self._nodes.put(self.node_id, str(time.time()).encode()))

    def members(self) -> list[str]:
        """The live nodes (this one included once it has sent a heartbeat), sorted."""

        async def run() -> list[str]:
            try:
                return sorted(await self._nodes.keys())
            except nats.js.errors.NoKeysError:
                return []

        return self._call(run())

    def leave(self) -> None:
        """Drop out of the membership now (a clean stop), not ``ttl_s`` later."""
        with contextlib.suppress(Exception):
            self._call(self._nodes.delete(self.node_id))

    # -- leases ------------------------------------------------------------------------------

    def holder(self, name: str) -> str | None:
        """The node holding lease ``name``, or ``None``."""

        async def run() -> str | None:
            try:
                entry = await self._leases.get(name)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                return None
            return entry.value.decode() if entry.value else None

        return self._call(run())

    def acquire(self, name: str) -> bool:
        """Take lease ``name`` if nobody holds it; True if this node holds it now."""
        try:
            self._held[name] = self._call(self._leases.create(name, self.node_id.encode()))
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True

    def renew(self, name: str) -> bool:
        """Extend a held lease by ``ttl_s``; False if it lapsed (another node may hold it)."""
        last = self._held.get(name)
        if last is None:
            return False
        try:
            self._held[name] = self._call(
                self._leases.update(name, self.node_id.encode(), last=last)
            )
        except nats.js.errors.KeyWrongLastSequenceError:
            self._held.pop(name, None)
            return False
        return True

    def release(self, name: str) -> None:
        """Give lease ``name`` up (only if this node still holds it)."""
        last = self._held.pop(name, None)
        if last is None:
            return
        try:
            self._call(self._leases.delete(name, last=last))
        except nats.js.errors.APIError as exc:  # lapsed and taken meanwhile: not ours
            log.info("lease %s was no longer ours to release: %s", name, exc)

    # -- hand-over snapshots -----------------------------------------------------------------

    def save(self, name: str, data: bytes) -> None:
        """Keep ``data`` under ``name`` until :meth:`discard` (replacing what was there)."""
        self._call(self._snapshots.put(name, data))

    def load(self, name: str) -> bytes | None:
        """The data saved under ``name``, or ``None``."""

        async def run() -> bytes | None:
            try:
                result = await self._snapshots.get(name)
            except (nats.js.errors.ObjectNotFoundError, nats.js.errors.ObjectDeletedError):
                return None
            return result.data

        return self._call(run())

    def discard(self, name: str) -> None:
        """Delete what was saved under ``name``, if anything."""

        async def run() -> None:
            with contextlib.suppress(
                nats.js.errors.ObjectNotFoundError, nats.js.errors.ObjectDeletedError
            ):
                await self._snapshots.delete(name)

        self._call(run())

    def close(self) -> None:
        """Disconnect (held leases lapse after ``ttl_s`` unless released first)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(RuntimeError, NatsBusError, nats.errors.Error):
            self._call(self._nc.close())
        self._loop.stop()


def delete_buckets(url: str, prefix: str, timeout_s: float = 3.0) -> None:
    """Delete a deployment's lease, membership and snapshot buckets (tests, decommissioning)."""

    async def run() -> None:
        nc, js = await connect(url, timeout_s, closing=lambda: True)
        try:
            nodes, leases, snaps = bucket_names(prefix)
            for name in (nodes, leases):
                with contextlib.suppress(nats.js.errors.NotFoundError):
                    await js.delete_key_value(name)
            with contextlib.suppress(nats.js.errors.NotFoundError):
                await js.delete_object_store(snaps)
        finally:
            await nc.close()

    asyncio.run(asyncio.wait_for(run(), timeout_s * 3))
