"""Start-up builds what is missing: a bot started with no index (or a damaged one, or one built
with other settings) builds it from the seeds folder in the background once it is connected, and
meanwhile tells whoever asks how far it has got instead of failing."""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from embeddings.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, NewsbotError

log = logging.getLogger("newsbot.discord")

Need = Literal["nothing", "build", "rebuild"]


class IndexingNotice(NewsbotError):
    """A question arrived while the start-up index is being built; its message says how far."""


class StartupIndexer:
    """Loads the index at start-up, and when that is impossible builds it in the background.

    ``begin``/``advance`` are the engine's ``IndexProgress``: called on the worker thread, they
    only store two integers, which the event loop reads for the notice.
    """

    def __init__(self, engine) -> None:
        self._engine = engine
        self.need: Need = "nothing"
        self.running = False
        self.done = 0
        self.total = 0
        self.error: str | None = None

    def load(self) -> Need:
        """Load the live index (call off the event loop); what start-up must do when it cannot."""
        try:
            self._engine.load()
        except IndexMissingError as exc:
            log.warning("%s Building it from the seeds folder once connected.", exc)
            self.need = "build"
        except (IndexCorruptError, IndexMismatchError) as exc:
            log.warning("%s Rebuilding it from the seeds folder once connected.", exc)
            self.need = "rebuild"
        self.running = self.need != "nothing"
        return self.need

    def begin(self, total_chunks: int) -> None:
        self.total = total_chunks

    def advance(self, chunks: int) -> None:
        self.done += chunks

    async def build(self) -> None:
        """Build (or rebuild) the index off the event loop, if ``load`` found it necessary.
        A failure is logged and leaves the bot running without an index, as before."""
        if self.need == "nothing":
            return
        try:
            report = await asyncio.to_thread(self._engine.refresh, rebuild=self.need == "rebuild", progress=self)
        except Exception as exc:
            self.error = str(exc) if isinstance(exc, NewsbotError) else repr(exc)
            log.error("start-up indexing failed: %s Questions will fail until an admin runs /reload.", self.error)
        else:
            log.warning("start-up indexing done: %s", report.summary())
        finally:
            self.running = False
            self.need = "nothing"

    def check(self) -> None:
        """Raise ``IndexingNotice`` while the start-up index is being built."""
        if self.running:
            raise IndexingNotice(indexing_text(self.done, self.total))


def indexing_text(done: int, total: int) -> str:
    """What a question gets while the index is being built."""
    if total <= 0:
        return "The articles are being indexed (reading the articles folder)… Please ask again in a moment."
    return f"The articles are being indexed ({done:,} of {total:,} passages)… Please ask again in a moment."
