"""Who listens, across processes: :meth:`NatsBus.has_subscribers` on a NATS server.

A process node cannot see the api nodes' subscriptions, yet building and publishing a
vessel update per changed vessel is a large share of its work. So live subscriptions say
what they listen to, and a publisher asks before it builds messages nobody would get:

- while a bus has a live subscription on a pattern, it answers requests on the pattern's
  *interest subject* (``lookout.interest.<token>``: the pattern with ``.`` as ``_``, ``*`` as
  ``STAR`` and ``>`` as ``ALL``); when it starts listening it also announces the pattern on
  ``lookout.interest`` (after a round trip to the server, so a publisher that hears it gets
  an answer to its request);
- a bus asked about a pattern (:meth:`InterestBoard.ask_first`, then :meth:`~InterestBoard.known`)
  asks the server once (a request; an answer or a timeout means yes, NATS' "no responders"
  means no), then keeps the answer fresh: it asks again every ``refresh_s`` seconds, and an
  announcement of the pattern makes it yes at once.

So a new listener gets messages from about a round trip after it subscribed, and the
messages stop at most ``refresh_s`` after the last listener left. Only subscriptions on
exactly the pattern asked about count: Lookout's publishers ask about the patterns its
listeners subscribe to (``lookout.vessel.>``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg

from lookout.bus.nats_streams import wire

__all__ = ["ANNOUNCE", "REFRESH_S", "InterestBoard", "interest_subject"]

log = logging.getLogger(__name__)

ANNOUNCE = "lookout.interest"
"""Where a bus says which pattern it started listening to (payload: the pattern)."""
REFRESH_S = 1.0
"""How often a publisher asks again whether anyone listens, seconds."""
ASK_TIMEOUT_S = 0.5
"""How long a question waits for an answer; no answer counts as yes."""


def interest_subject(pattern: str) -> str:
    """The subject a listener to ``pattern`` answers on."""
    token = pattern.replace(".", "_").replace("*", "STAR").replace(">", "ALL")
    return f"{ANNOUNCE}.{token}"


class InterestBoard:
    """One bus's side of the interest protocol (see the module docstring). Every ``async``
    method runs on the bus's event loop; :meth:`known` is for any thread."""

    def __init__(self, nc: Client, prefix: str, refresh_s: float = REFRESH_S) -> None:
        self._nc = nc
        self._prefix = prefix
        self._refresh_s = refresh_s
        self._listening: dict[str, tuple[Any, int]] = {}  # pattern -> (responder, count)
        self._known: dict[str, bool] = {}  # the patterns asked about -> the last answer
        self._announcements: Any = None
        self._refresher: asyncio.Task[None] | None = None

    def known(self, pattern: str) -> bool | None:
        """The last answer about ``pattern``, ``None`` before the first question."""
        return self._known.get(pattern)

    # -- listening -----------------------------------------------------------------------

    async def listen(self, pattern: str) -> None:
        """A live subscription on ``pattern`` started: answer for it, announce it."""
        responder, count = self._listening.get(pattern, (None, 0))
        if responder is None:

            async def answer(msg: Msg) -> None:
                with contextlib.suppress(nats.errors.Error):
                    await msg.respond(b"1")

            subject = wire(self._prefix, interest_subject(pattern))
            responder = await self._nc.subscribe(subject, cb=answer)
            await self._nc.flush()
            await self._nc.publish(wire(self._prefix, ANNOUNCE), pattern.encode())
        self._listening[pattern] = (responder, count + 1)

    async def unlisten(self, pattern: str) -> None:
        """A live subscription on ``pattern`` ended: stop answering once none is left."""
        responder, count = self._listening.get(pattern, (None, 0))
        if responder is None:
            return
        if count > 1:
            self._listening[pattern] = (responder, count - 1)
            return
        del self._listening[pattern]
        with contextlib.suppress(nats.errors.Error):
            await responder.unsubscribe()

    # -- asking ----------------------------------------------------------------------------

    async def ask_first(self, pattern: str) -> bool:
        """The first question about ``pattern``; from then on it is kept fresh."""
        if pattern in self._known:
            return self._known[pattern]
        if self._announcements is None:
            self._announcements = await self._nc.subscribe(
                wire(self._prefix, ANNOUNCE), cb=self._announced
            )
            self._refresher = asyncio.get_running_loop().create_task(self._refresh())
        self._known[pattern] = answer = await self._ask(pattern)
        return answer

    async def _announced(self, msg: Msg) -> None:
        pattern = msg.data.decode(errors="replace")
        if pattern in self._known:
            self._known[pattern] = True

    async def _ask(self, pattern: str) -> bool:
        subject = wire(self._prefix, interest_subject(pattern))
        try:
            await self._nc.request(subject, b"", timeout=ASK_TIMEOUT_S)
        except nats.errors.NoRespondersError:
            return False
        except (TimeoutError, nats.errors.TimeoutError):
            return True  # nobody answered in time: assume someone listens
        return True

    async def _refresh(self) -> None:
        while True:
            await asyncio.sleep(self._refresh_s)
            for pattern in list(self._known):
                try:
                    self._known[pattern] = await self._ask(pattern)
                except nats.errors.Error as exc:  # a reconnect: keep the last answer
                    log.debug("asking who listens to %s failed: %s", pattern, exc)

    async def close(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refresher
