"""Child processes that answer requests over pipes: the SQLite writer and the detection
process.

A frame is two sizes (little-endian 32-bit), a head (the message, encoded by the caller) and
optional data sent as it is (no copy). Reads block until a whole frame is in; a frame cut
short means the other side has gone. :class:`ChildChannel` is the parent's side of such a
child, :func:`child_main` the body of the child.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import struct
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from typing import IO, Any, NoReturn

__all__ = ["ChildChannel", "child_main", "end_child", "receive_frame", "send_frame", "widen_pipe"]

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")
_PIPE_BYTES = 1 << 20


def send_frame(stream: IO[bytes], head: bytes, data: bytes = b"") -> None:
    """Write one frame and flush it."""
    stream.write(_HEADER.pack(len(head), len(data)) + head)
    if data:
        stream.write(data)
    stream.flush()


def receive_frame(stream: IO[bytes]) -> tuple[bytes, bytes] | None:
    """The next frame's head and data, or ``None`` when the other side has gone."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    size, data_size = _HEADER.unpack(header)
    head = stream.read(size)
    data = stream.read(data_size) if data_size else b""
    if len(head) < size or len(data) < data_size:
        return None
    return head, data


def widen_pipe(pipe: IO[bytes] | None) -> None:
    """Let a request pipe hold several batches (Linux: 1 MiB instead of 64 KiB), so a batch
    goes over in one or two reads instead of sixteen (each a wait for the child's GIL), and
    the sender need not wait for a busy child to read."""
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if pipe is not None and set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), set_size, _PIPE_BYTES)


class ChildChannel:
    """The parent's side of a child process (``python -m module``) that answers each request
    in order: :meth:`submit` sends one and returns a future, which a thread resolves with the
    answer (``outcome(answer)``: its value, or the exception it raises). Once the child has
    gone, every waiting and later request fails with ``ended(exit code)``.

    ``encode`` and ``decode`` turn messages into a frame's head and back; a frame's data
    travels as it is."""

    def __init__(
        self,
        module: str,
        *,
        name: str,
        encode: Callable[[Any], bytes],
        decode: Callable[[bytes], Any],
        outcome: Callable[[Any], Any],
        ended: Callable[[int | None], BaseException],
    ) -> None:
        self._encode, self._decode, self._outcome, self._ended = encode, decode, outcome, ended
        self._send_lock = threading.Lock()
        self._waiting: deque[Future[Any]] = deque()
        self._gone: BaseException | None = None
        self._child = subprocess.Popen(
            [sys.executable, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        widen_pipe(self._child.stdin)  # the next request waits in the pipe, not the sender
        self._answers = threading.Thread(target=self._read_answers, name=name, daemon=True)
        self._answers.start()

    @property
    def process(self) -> subprocess.Popen[bytes]:
        """The child process."""
        return self._child

    @property
    def pid(self) -> int:
        return self._child.pid

    def submit(
        self,
        message: Any,
        data: bytes = b"",
        on_done: Callable[[Future[Any]], None] | None = None,
    ) -> Future[Any]:
        """Send one request; its future resolves with the child's answer (in order), and
        ``on_done`` runs then, before the next answer is handled."""
        future: Future[Any] = Future()
        if on_done is not None:
            future.add_done_callback(on_done)
        with self._send_lock:
            assert self._child.stdin is not None
            if self._gone is not None:
                _fail(future, self._gone)
                return future
            self._waiting.append(future)
            try:
                send_frame(self._child.stdin, self._encode(message), data)
            except (OSError, ValueError):  # ValueError: the pipe was closed here
                _fail(future, self._ended(self._child.poll()))
        return future

    def _read_answers(self) -> None:
        assert self._child.stdout is not None
        while (frame := receive_frame(self._child.stdout)) is not None:
            future = self._waiting.popleft()
            try:
                value = self._outcome(self._decode(frame[0]))
            except Exception as exc:
                _fail(future, exc)
            else:
                future.set_result(value)
        try:
            code: int | None = self._child.wait(5.0)
        except subprocess.TimeoutExpired:
            code = None
        with self._send_lock:
            self._gone = self._ended(code)
            while self._waiting:
                _fail(self._waiting.popleft(), self._gone)

    def close(self, what: str, timeout_s: float = 30.0) -> None:
        """End the child (:func:`end_child`); ``what`` names it in a log line."""
        end_child(self._child, self._send_lock, self._answers, what, timeout_s)


def _fail(future: Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def end_child(
    child: subprocess.Popen[bytes],
    send_lock: threading.Lock,
    answers: threading.Thread,
    what: str,
    timeout_s: float = 30.0,
) -> None:
    """Close the child's input (under ``send_lock``, which guards sending), wait until it
    ends (killed after ``timeout_s``), then for the thread reading its answers."""
    assert child.stdin is not None and child.stdout is not None
    with send_lock, contextlib.suppress(OSError):  # a dead child: broken pipe
        child.stdin.close()
    try:
        child.wait(timeout_s)
    except subprocess.TimeoutExpired:
        log.error("%s did not end; killing it", what)
        child.kill()
        child.wait()
    answers.join(timeout_s)
    child.stdout.close()


def child_main(
    serve: Callable[[IO[bytes], IO[bytes]], None],
    name: str,
    *,
    level: int = logging.INFO,
    switch_interval_s: float | None = None,
) -> NoReturn:
    """Run ``serve(requests, answers)`` on stdin and stdout, log on stderr as ``name``, exit
    0 when it returns (the end of input), 1 if it raised.

    Ctrl+C, ``timeout`` and ``systemctl stop`` signal the whole process group: the parent
    ends the child by closing its input (or its own exit does), so SIGINT and SIGTERM are
    ignored here."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if switch_interval_s is not None:
        sys.setswitchinterval(switch_interval_s)
    logging.basicConfig(level=level, format=f"lookout {name}: %(message)s")
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write on the answer channel
    code = 1
    try:
        serve(requests, answers)
        code = 0
    except BaseException:
        log.exception("the %s failed", name)
    finally:
        logging.shutdown()
        # Every answer is flushed; exit now rather than wait for threads that may still be
        # blocked reading the pipe.
        os._exit(code)
