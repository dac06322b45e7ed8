"""Auto-refresh (``NEWSBOT_WATCH=1``): watch the seeds folder with watchfiles and refresh the
index incrementally once changes settle, one refresh at a time, through the same reload slot
as /reload (so /status shows it as the last reload, by "auto-refresh")."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import watchfiles

from embeddings.ingest.corpus import PARSERS

log = logging.getLogger("newsbot.discord")

WHO = "auto-refresh"
MAX_BATCH_MS = 10_000  # a steady trickle of changes still refreshes at least this often
LIVE_CHECK_MS = 1_000  # how often the watch wakes up when nothing changes


class _NoProgress:
    def begin(self, total_chunks: int) -> None:
        pass

    def advance(self, chunks: int) -> None:
        pass


def is_article_change(change: watchfiles.Change, path: str) -> bool:
    """Whether a change can alter the corpus: an article file's, not a hidden (temporary) one's."""
    name = Path(path).name
    return not name.startswith(".") and (Path(path).suffix.lower() in PARSERS or change == watchfiles.Change.deleted)


class SeedsWatcher:
    """Refreshes the index after the seeds folder changes; ``refreshes`` counts the runs."""

    def __init__(self, state) -> None:
        self.state = state
        self.refreshes = 0  # refreshes that changes started
        self.live = asyncio.Event()  # set once the folder is being watched
        self._stop = asyncio.Event()

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        """Watch until ``stop()``: each settled batch of changes is one incremental refresh. Once
        watching, one catch-up refresh takes in what changed while the bot was starting."""
        settings = self.state.settings
        folder = Path(settings.seeds_dir)
        log.warning("watching %s for changes (settle %.1f s)", folder, settings.watch_settle_seconds)
        async for changes in watchfiles.awatch(
            folder,
            watch_filter=is_article_change,
            step=int(settings.watch_settle_seconds * 1000),
            debounce=MAX_BATCH_MS,
            stop_event=self._stop,
            rust_timeout=LIVE_CHECK_MS,
            yield_on_timeout=True,  # the first (empty) yield says the watch is live
            recursive=True,
        ):
            if not self.live.is_set():
                self.live.set()
                await self._refresh(len(changes), catch_up=True)
            elif changes:
                await self._refresh(len(changes))

    async def _refresh(self, changed: int, catch_up: bool = False) -> None:
        log.info("auto-refresh: %d files changed", changed)
        reloads = self.state.reloads
        while not reloads.claim(WHO):  # an admin's /reload or /add is running: after it
            await asyncio.sleep(0.5)
        try:
            report, _titles = await reloads.run(_NoProgress())
            self.refreshes += 0 if catch_up else 1
            log.warning("auto-refresh after %d changed files: %s", changed, report.summary())
        except Exception as exc:  # logged and kept in /status by the Reloader; the watch goes on
            log.warning("auto-refresh failed: %s", exc)
        finally:
            reloads.release()
