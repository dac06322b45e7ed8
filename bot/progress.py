"""Indexing progress, reported from the engine's worker thread as throttled message edits."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger("newsbot.discord")


class ThrottledProgress:
    """An ``IndexProgress`` whose ``begin``/``advance`` (called on the worker thread) schedule
    ``show(done, total)`` on the event loop, at most once per ``interval`` seconds and never
    while the previous edit is still in flight (Discord rate-limits message edits).

    Call ``await drain()`` on the loop before the final edit, so that a late progress edit
    can never overwrite the final report.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        show: Callable[[int, int], Awaitable[None]],
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._loop = loop
        self._show = show
        self._interval = interval
        self._clock = clock
        self._last = float("-inf")
        self._pending: concurrent.futures.Future | None = None
        self._closed = False
        self.done = 0
        self.total = 0

    def begin(self, total_chunks: int) -> None:
        self.total = total_chunks
        self._emit()

    def advance(self, chunks: int) -> None:
        self.done += chunks
        self._emit()

    def _emit(self) -> None:
        now = self._clock()
        if self._closed or now - self._last < self._interval:
            return
        if self._pending is not None and not self._pending.done():
            return
        self._last = now
        self._pending = asyncio.run_coroutine_threadsafe(self._show(self.done, self.total), self._loop)
        self._pending.add_done_callback(_log_failure)

    async def drain(self) -> None:
        """Stop scheduling edits and wait for the one in flight, if any."""
        self._closed = True
        if self._pending is not None:
            await asyncio.wrap_future(self._pending)


def _log_failure(future: concurrent.futures.Future) -> None:
    # A lost progress edit is harmless; the final report follows.
    if not future.cancelled() and future.exception() is not None:
        log.warning("reload progress edit failed: %s", future.exception())
