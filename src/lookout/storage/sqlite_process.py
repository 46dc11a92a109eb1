"""SqliteProcessStore: the SQLite store with its writing done in a child process.

Python runs one thread at a time (the GIL). Committing a batch to SQLite and writing the
indexed tables costs about a third of what decoding and fusing it costs, and in a thread it
takes turns with the pipeline instead of running beside it. This store keeps the same
database, journal and guarantees as :class:`~lookout.storage.sqlite.SqliteStore` (it *runs*
one, in a child process: ``python -m lookout.storage.sqlite_process``), so commits use a
second core:

- ``write`` sends the batch as plain rows (:func:`~lookout.storage.sqlite.batch_values`,
  serialised with :mod:`marshal`) over a pipe and returns when the child answers that the
  batch is committed, durably as ``synchronous`` says. It raises what the child's store
  raised (``sqlite3.IntegrityError`` for a position that is not WGS84 degrees, ...).
- Reads run in this process on reader connections of the same file (WAL), exactly as in
  :class:`~lookout.storage.sqlite.SqliteStore`; a read first asks the child to write what
  its journal holds to the derived tables, so it sees every committed write.
- The wall clock (receipts' times, how often the journal is written out) is this process's
  ``clock``, sent with every request.
- ``close`` writes everything out and ends the child. If this process dies, the child sees
  its input end, writes out what it committed and exits; what it had not committed was never
  acknowledged. If the child dies, every later call raises ``sqlite3.OperationalError``.

The child ignores SIGINT (Ctrl-C in a terminal reaches the whole process group): it stops
when this process closes the store or disappears. ``":memory:"`` cannot be shared between
processes; use :class:`~lookout.storage.sqlite.SqliteStore` for it.
"""

from __future__ import annotations

import logging
import marshal
import queue
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from functools import partial
from operator import itemgetter
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from lookout.model import VesselState
from lookout.model.rows import new_vessel_state
from lookout.pipeline.ports import StoreBatch
from lookout.storage import sqlite_sql as sql
from lookout.storage.frames import ChildChannel, child_main, receive_frame, send_frame
from lookout.storage.sqlite import (
    JOURNAL_MARSHAL_VERSION,
    SqliteStore,
    batch_entry,
    check_options,
)
from lookout.storage.sqlite_reads import SqliteReads

__all__ = ["MAX_WRITES_IN_FLIGHT", "SqliteProcessStore"]

log = logging.getLogger(__name__)

MAX_WRITES_IN_FLIGHT = 64
"""Batches sent to the child and not yet committed, at most (``write_async`` waits)."""
_SWITCH_INTERVAL_S = 0.0005
_MARSHAL_VERSION = 4
_ERRORS: dict[str, type[Exception]] = {
    "IntegrityError": sqlite3.IntegrityError,
    "OperationalError": sqlite3.OperationalError,
    "DatabaseError": sqlite3.DatabaseError,
    "RuntimeError": RuntimeError,
    "ValueError": ValueError,
    "FileNotFoundError": FileNotFoundError,
}
"""Errors of the child's store raised as themselves here; any other as DatabaseError."""


def _send(stream: IO[bytes], message: Any, data: bytes = b"") -> None:
    """One frame: ``message`` marshalled, then ``data`` as it is (not copied)."""
    send_frame(stream, marshal.dumps(message, _MARSHAL_VERSION), data)


def _receive(stream: IO[bytes]) -> tuple[Any, bytes] | None:
    """The next frame's message and data, or ``None`` when the other side has gone."""
    frame = receive_frame(stream)
    return None if frame is None else (marshal.loads(frame[0]), frame[1])


class SqliteProcessStore(SqliteReads):
    """A :class:`~lookout.storage.sqlite.SqliteStore` written by a child process (see the
    module docstring); the same options."""

    def __init__(
        self,
        path: Path | str,
        *,
        synchronous: str = "FULL",
        retention_s: float | None = None,
        receipt_ttl_s: float | None = 7 * 86_400.0,
        clock: Callable[[], float] = time.time,
        materialize_rows: int = 20_000,
        materialize_interval_s: float = 1.0,
    ) -> None:
        self._path = str(path)
        if self._path == ":memory:":
            raise ValueError("an in-memory database cannot be written by another process")
        level = check_options(self._path, synchronous, retention_s)
        self._clock = clock
        self._rows = sql.RowCodec()
        self._in_flight = threading.BoundedSemaphore(MAX_WRITES_IN_FLIGHT)
        self._writes = self._flushed = 0
        self._recent: dict[int, tuple[Any, ...]] = {}
        """Vessel states committed since the last flush (see :meth:`vessel`)."""
        self._recent_batches: list[list[tuple[Any, ...]]] = []
        self._recent_lock = threading.Lock()
        self._readers: dict[threading.Thread, sqlite3.Connection] = {}
        self._readers_lock = threading.Lock()
        self._closed = False
        self._channel = ChildChannel(
            "lookout.storage.sqlite_process",
            name="sqlite-writer-answers",
            encode=lambda message: marshal.dumps(message, _MARSHAL_VERSION),
            decode=marshal.loads,
            outcome=_outcome,
            ended=lambda _: self._ended(),
        )
        options = (level, retention_s, receipt_ttl_s, materialize_rows, materialize_interval_s)
        try:
            self._call("open", (self._path, *options))
        except BaseException:
            self._end_child()
            raise

    # -- the channel -----------------------------------------------------------------------

    @property
    def _child(self) -> subprocess.Popen[bytes]:
        """The writer process."""
        return self._channel.process

    def _submit(
        self,
        op: str,
        args: Any = None,
        on_done: Callable[[Future[Any]], None] | None = None,
        data: bytes = b"",
    ) -> Future[Any]:
        """Send one request (with this process's clock); see :meth:`ChildChannel.submit`."""
        return self._channel.submit((op, self._clock(), args), data, on_done)

    def _call(self, op: str, args: Any = None) -> Any:
        return self._submit(op, args).result()

    def _ended(self) -> sqlite3.OperationalError:
        return sqlite3.OperationalError(f"the writer of {self._path} has ended")

    # -- writing ---------------------------------------------------------------------------

    def write(self, batch: StoreBatch) -> None:
        """Commit the batch (in the child); returns once it is durable."""
        self.write_async(batch).result()

    def write_async(self, batch: StoreBatch) -> Future[None]:
        """Send the batch to be committed; the future resolves once it is durable (or with
        the error that refused it). Futures resolve in the order of the calls. Waits while
        :data:`MAX_WRITES_IN_FLIGHT` batches are not yet committed. Not part of the ``Store``
        port."""
        self._check_open()
        entry, receipts = batch_entry(batch)
        blob = marshal.dumps(entry, JOURNAL_MARSHAL_VERSION)
        self._in_flight.acquire()
        self._writes += 1
        return self._submit("write", receipts, partial(self._written, entry[1]), blob)

    def _written(self, vessels: list[tuple[Any, ...]], future: Future[Any]) -> None:
        """A write was answered: remember its vessel states if it was committed (looked at
        only when :meth:`vessel` is asked, so kept as they came until then)."""
        self._in_flight.release()
        if future.exception() is None and vessels:
            with self._recent_lock:
                self._recent_batches.append(vessels)

    def flush(self) -> None:
        """Write what the journal holds to the derived tables now (reads do this anyway)."""
        self._check_open()
        writes = self._writes
        self._submit("flush", on_done=self._forget_recent).result()
        self._flushed = max(self._flushed, writes)

    def _forget_recent(self, future: Future[Any]) -> None:
        """Everything committed before a flush is in the derived tables."""
        if future.exception() is None:
            with self._recent_lock:
                self._recent.clear()
                self._recent_batches.clear()

    def prune(self, before_ts: float) -> int:
        """Delete track points and statics observed before ``before_ts``; returns the points."""
        self._check_open()
        pruned: int = self._call("prune", before_ts)
        return pruned

    def prune_receipts(self, created_before_ts: float) -> int:
        """Delete receipts committed before ``created_before_ts`` (wall clock); how many."""
        self._check_open()
        pruned: int = self._call("prune_receipts", created_before_ts)
        return pruned

    # -- reading ---------------------------------------------------------------------------

    def vessel(self, mmsi: int) -> VesselState | None:
        """The latest committed state of one vessel, without waiting for the journal to be
        written out: a state committed since the last flush is remembered here, any other
        one is in the derived tables already."""
        self._check_open()
        with self._recent_lock:
            for rows in self._recent_batches:
                self._recent.update(zip(map(_mmsi, rows), rows, strict=True))
            self._recent_batches.clear()
            row = self._recent.get(mmsi)
        if row is not None:
            return new_vessel_state(*row)
        with self._snapshot() as conn:
            return self._vessel_in(conn, mmsi)

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        self._check_open()
        if self._flushed < self._writes:
            self.flush()
        with self._snapshot() as conn:
            yield conn

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Write everything out, end the child and close every connection; later calls do
        nothing, other methods raise."""
        with self._readers_lock:
            if self._closed:
                return
            self._closed = True
            self._close_readers()
        try:
            self._call("close")
        except sqlite3.Error as exc:  # still in the journal: replayed at the next open
            log.error("closing the writer of %s failed: %s", self._path, exc)
        finally:
            self._end_child()

    def _end_child(self) -> None:
        self._channel.close(f"the writer of {self._path}")

    def __enter__(self) -> SqliteProcessStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_mmsi = itemgetter(0)


def _outcome(answer: Any) -> Any:
    """An answer's value, or the error of the child's store raised as itself."""
    if answer[0] == "ok":
        return answer[1]
    _, kind, message = answer
    raise _ERRORS.get(kind, sqlite3.DatabaseError)(message)


# -- the child ---------------------------------------------------------------------------------


def _read_requests(requests: IO[bytes], inbox: queue.SimpleQueue[Any]) -> None:
    """Keep reading requests while the store works, so the parent never waits on the pipe;
    ``None`` marks the end of input."""
    while (frame := _receive(requests)) is not None:
        (op, now, args), data = frame
        inbox.put((op, now, (data, args) if op == "write" else args))
    inbox.put(None)


def _next_group(inbox: queue.SimpleQueue[Any]) -> tuple[list[Any], Any]:
    """The requests waiting now: the leading run of writes (committed together) and the
    request after it (``None`` for none; ``END`` at the end of input)."""
    writes: list[Any] = []
    request = inbox.get()
    while request is not None and request[0] == "write":
        writes.append(request)
        try:
            request = inbox.get_nowait()
        except queue.Empty:
            return writes, None
    return writes, _END if request is None else request


_END = ("end", 0.0, None)


def _commit_writes(store: SqliteStore, writes: list[Any], answers: IO[bytes]) -> None:
    """Commit a run of writes in one transaction and answer each."""
    now = writes[-1][1]
    batch = [(blob, marshal.loads(blob), receipts) for _, _, (blob, receipts) in writes]
    for error in store.commit(batch, now):
        _send(answers, ("ok", None) if error is None else _error(error))
    store.materialize_if_due(now)


def _error(exc: BaseException) -> tuple[str, str, str]:
    return ("err", type(exc).__name__, str(exc))


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer requests until ``close`` or the end of input, then close the store."""
    inbox: queue.SimpleQueue[Any] = queue.SimpleQueue()
    threading.Thread(target=_read_requests, args=(requests, inbox), daemon=True).start()
    now = [time.time()]
    store: SqliteStore | None = None
    try:
        while True:
            writes, request = _next_group(inbox)
            if writes:
                assert store is not None, "the store is not open"
                now[0] = writes[-1][1]
                _commit_writes(store, writes, answers)
            if request is None:
                continue
            op, now[0], args = request
            if op == "end":
                return
            try:
                result = _open(args, now) if op == "open" else _handle(store, op, args)
            except Exception as exc:
                _send(answers, _error(exc))
                continue
            if op == "open":
                store = result
                result = None
            elif op == "close":
                store = None
            _send(answers, ("ok", result))
            if op == "close":
                return
    finally:
        if store is not None:
            store.close()


def _open(args: Any, now: list[float]) -> SqliteStore:
    path, level, retention_s, ttl_s, rows, interval_s = args
    return SqliteStore(
        path, synchronous=level, retention_s=retention_s, receipt_ttl_s=ttl_s,
        clock=lambda: now[0], materialize_rows=rows, materialize_interval_s=interval_s,
    )  # fmt: skip


def _handle(store: SqliteStore | None, op: str, args: Any) -> Any:
    assert store is not None, "the store is not open"
    if op == "flush":
        return store.flush()
    if op == "prune":
        return store.prune(args)
    if op == "prune_receipts":
        return store.prune_receipts(args)
    if op == "close":
        return store.close()
    raise ValueError(f"unknown request {op!r}")


def main() -> None:
    """The child: requests on stdin, answers on stdout, logs on stderr."""
    # The request reader must get the GIL soon after each read while the store works, or the
    # parent finds the pipe full and waits: switch threads every 0.5 ms instead of 5 ms.
    child_main(_serve, "sqlite writer", switch_interval_s=_SWITCH_INTERVAL_S)


if __name__ == "__main__":
    main()
