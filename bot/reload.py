"""/reload: one re-index at a time, in the background, remembered for /status."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from embeddings.errors import NewsbotError
from embeddings.index.indexer import IndexProgress
from embeddings.models import IndexReport

from .errors import safe_message
from .stats import ReloadRecord

log = logging.getLogger("newsbot.discord")


class Reloader:
    """Runs ``engine.refresh`` for /reload, one at a time within this bot.

    ``claim`` and ``release`` bracket a reload so that a second /reload can be refused before
    anything is deferred (another process indexing is caught by the engine's own lock, which
    raises ``IndexBusyError``). Only the event loop calls these, so a plain attribute is an
    atomic claim.
    """

    def __init__(self, engine) -> None:
        self._engine = engine
        self.running_by: str | None = None
        self.last: ReloadRecord | None = None

    def claim(self, by: str) -> bool:
        """Take the reload slot for ``by``; False when a reload is already running."""
        if self.running_by is not None:
            return False
        self.running_by = by
        return True

    def release(self) -> None:
        self.running_by = None

    async def run(self, progress: IndexProgress) -> tuple[IndexReport, dict[str, str]]:
        """Re-read the seeds folder and update the index off the event loop; questions keep
        being answered from the old index until the new one is swapped in. Returns the report
        and the titles of the indexed articles by id. Must be called between claim and release."""
        by = self.running_by or "unknown"
        try:
            report, titles = await asyncio.to_thread(self._refresh, progress)
        except Exception as exc:
            if isinstance(exc, NewsbotError):
                # The admin is told a path-free message; the operator's log gets the whole one
                # (the user-facing error boundary logs engine errors at INFO only).
                log.warning("reload by %s failed: %s", by, exc)
            message = safe_message(exc) if isinstance(exc, NewsbotError) else "unexpected error (see the log)"
            self.last = ReloadRecord(by=by, at=datetime.now(UTC), error=message)
            raise
        self.last = ReloadRecord(by=by, at=datetime.now(UTC), report=report)
        log.info("reload by %s: %s", by, report.summary())
        for skipped in report.skipped:
            log.info("reload skipped %s: %s", skipped.path, skipped.reason)
        return report, titles

    def _refresh(self, progress: IndexProgress) -> tuple[IndexReport, dict[str, str]]:
        report = self._engine.refresh(progress=progress)
        return report, {a.id: a.title for a in self._engine.articles()}
