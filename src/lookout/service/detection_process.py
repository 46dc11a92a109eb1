"""DetectionProcess: the embedded runtime's detectors, run in a child process.

Python runs one thread at a time. With every detector on, running the detectors took longer
than framing, decoding, fusing and storing a batch together, all on the ingest thread, while
the second core mostly waited. So the runtime's pipeline runs only the detectors of
:data:`INGEST_THREAD_KINDS` and hands the others nothing (a
:class:`~lookout.pipeline.suite.DeferredSuite`): each batch's work (identity reports and
non-AIS detections in arrival order, the accepted positions, the watermark) goes to a child
process (``python -m lookout.service.detection_process``) holding the others, built from the
same settings. The child runs them with
:meth:`~lookout.pipeline.suite.DetectorSuite.run`, so the events are the ones, in the same
order per detector, that they would have given in the pipeline. The ingest thread meanwhile
goes on with the next batch; the runtime writes a batch once its events are back, in one
transaction with its positions, and only then acknowledges it (``Runtime._process``).

- Positions travel as rows of plain values (:mod:`marshal`); identity reports, detections
  and events as pickles. Requests are answered in order.
- The child's state is the detectors' state: :meth:`snapshot` and :meth:`restore` move it as
  :meth:`~lookout.pipeline.suite.DetectorSuite.snapshot` does.
- A detector that raises fails that batch's request (``DetectionProcessError`` with the
  child's message); a child that dies fails every waiting and later request. Either way the
  runtime treats it like a failed batch: the submissions are refused, and a fresh pipeline
  with a fresh child takes the input.
- The child ignores SIGINT and SIGTERM (they reach the whole process group): it ends when
  this process closes its input, or when this process ends.
"""

from __future__ import annotations

import dataclasses
import logging
import marshal
import pickle
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from itertools import starmap
from operator import attrgetter
from typing import IO, TYPE_CHECKING, Any

from lookout.detectors.base import Event
from lookout.model import Observation
from lookout.pipeline.suite import DetectionWork, DetectorSuite
from lookout.storage.frames import ChildChannel, child_main, receive_frame, send_frame

if TYPE_CHECKING:
    from lookout.service.settings import Settings

__all__ = ["INGEST_THREAD_KINDS", "DetectionProcess", "DetectionProcessError"]

log = logging.getLogger(__name__)

INGEST_THREAD_KINDS = frozenset({"zone_entry", "zone_exit"})
"""Detectors that stay on the ingest thread (a :class:`~lookout.pipeline.suite.DeferredSuite`
runs them): the two share one screen of each batch against the zones, and the ingest thread,
which otherwise waits for the detection process now and then, has the time."""
CALL_TIMEOUT_S = 120.0
"""Longest wait for a snapshot or a restore (a suite is built first: a region pack's zones
take seconds)."""
_OBSERVATION_FIELDS = tuple(f.name for f in dataclasses.fields(Observation))
_observation_row = attrgetter(*_OBSERVATION_FIELDS)


class DetectionProcessError(RuntimeError):
    """The detection process failed a request, or has ended."""


def _send(stream: IO[bytes], message: Any, rows: bytes = b"") -> None:
    """One frame: ``message`` pickled, then ``rows`` (marshalled positions)."""
    send_frame(stream, pickle.dumps(message, pickle.HIGHEST_PROTOCOL), rows)


def _receive(stream: IO[bytes]) -> tuple[Any, bytes] | None:
    """The next frame's message and rows, or ``None`` when the other side has gone."""
    frame = receive_frame(stream)
    return None if frame is None else (pickle.loads(frame[0]), frame[1])


class DetectionProcess:
    """A child process running the detector suite ``settings`` build (module docstring).

    Starting returns at once; the child builds its suite (land mask, ports, zone index: some
    seconds for a region pack) while the first requests wait in its pipe. A suite that cannot
    be built fails every request with the reason."""

    def __init__(self, settings: Settings) -> None:
        self._channel = ChildChannel(
            "lookout.service.detection_process",
            name="lookout-detection-answers",
            encode=lambda message: pickle.dumps(message, pickle.HIGHEST_PROTOCOL),
            decode=pickle.loads,
            outcome=_outcome,
            ended=lambda code: DetectionProcessError(
                f"the detection process has ended (exit code {code})"
            ),
        )
        self._ready = self._submit("start", settings)

    @property
    def pid(self) -> int:
        return self._channel.pid

    def _submit(self, op: str, args: Any = None, rows: bytes = b"") -> Future[Any]:
        return self._channel.submit((op, args), rows)

    def ready(self, timeout_s: float | None = None) -> list[str]:
        """Wait until the child has built its suite; its detector kinds, in order (those of
        :data:`INGEST_THREAD_KINDS` are not among them). Raises
        :class:`DetectionProcessError` if it could not build it."""
        kinds: list[str] = self._ready.result(timeout_s)
        return kinds

    def run(self, works: Sequence[DetectionWork]) -> Future[list[Event]]:
        """The events of ``works`` (one per batch, oldest first), once the child has run
        them; the future raises :class:`DetectionProcessError` if it could not."""
        sizes: list[tuple[list[Any], float | None, int]] = []
        rows: list[tuple[Any, ...]] = []
        for work in works:
            sizes.append((list(work.handoffs), work.watermark_ts, len(work.observations)))
            rows.extend(map(_observation_row, work.observations))
        return self._submit("run", sizes, marshal.dumps(rows, 4))

    def snapshot(self) -> list[dict[str, Any]]:
        """The detectors' state (:meth:`~lookout.pipeline.suite.DetectorSuite.snapshot`)."""
        states: list[dict[str, Any]] = self._wait(self._submit("snapshot"))
        return states

    def restore(self, states: Sequence[Mapping[str, Any]]) -> None:
        """Resume from :meth:`snapshot` (the child takes the states of its kinds)."""
        self._wait(self._submit("restore", list(states)))

    @staticmethod
    def _wait(future: Future[Any]) -> Any:
        try:
            return future.result(CALL_TIMEOUT_S)
        except TimeoutError as exc:
            raise DetectionProcessError(
                f"the detection process did not answer in {CALL_TIMEOUT_S:.0f} s"
            ) from exc

    def close(self) -> None:
        """End the child (it finishes the request it runs); later requests fail."""
        self._channel.close("the detection process")


def _outcome(answer: tuple[str, Any]) -> Any:
    status, value = answer
    if status != "ok":
        raise DetectionProcessError(value)
    return value


# -- the child ---------------------------------------------------------------------------------


def _works(sizes: Sequence[tuple[Any, float | None, int]], rows: bytes) -> list[DetectionWork]:
    observations = list(starmap(Observation, marshal.loads(rows))) if rows else []
    works, start = [], 0
    for handoffs, watermark_ts, count in sizes:
        works.append(DetectionWork(handoffs, observations[start : start + count], watermark_ts))
        start += count
    return works


def _serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    """Answer requests until the end of input."""
    from lookout.service.detect_setup import setup_from_settings
    from lookout.service.detection import build_detectors
    from lookout.service.gc_tuning import tune_gc

    suite: DetectorSuite | None = None
    unbuilt = "the detectors were not built"
    while (frame := _receive(requests)) is not None:
        (op, args), rows = frame
        try:
            if op == "start":
                try:
                    built = build_detectors(setup_from_settings(args))
                except Exception as exc:
                    unbuilt = f"the detectors could not be built: {type(exc).__name__}: {exc}"
                    log.error("%s", unbuilt)
                    _send(answers, ("error", unbuilt))
                    continue
                suite = DetectorSuite([d for d in built if d.kind not in INGEST_THREAD_KINDS])
                tune_gc()
                result: Any = [d.kind for d in suite.detectors]
            elif suite is None:
                raise DetectionProcessError(unbuilt)
            elif op == "run":
                result = []
                for work in _works(args, rows):
                    result.extend(suite.run(work))
            elif op == "snapshot":
                result = suite.snapshot()
            elif op == "restore":
                suite.restore(args)
                result = None
            else:
                raise ValueError(f"unknown request {op!r}")
        except Exception as exc:
            log.exception("detection request %r failed", op)
            _send(answers, ("error", f"{type(exc).__name__}: {exc}"))
            continue
        _send(answers, ("ok", result))


def main() -> None:
    """The child: requests on stdin, answers on stdout, logs on stderr (warnings only: what
    building the suite reports, zones read and so on, its parent reported already)."""
    child_main(_serve, "detection process", level=logging.WARNING)


if __name__ == "__main__":
    main()
