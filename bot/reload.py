"""/reload: one re-index at a time, in the background, remembered for /status; and, for bot
replicas sharing one database, following the index and the last reload that another replica
made (``follow``)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from embeddings.errors import NewsbotError
from embeddings.index.indexer import IndexProgress
from embeddings.models import IndexReport, SkippedFile

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
            await self._share(self.last)
            raise
        self.last = ReloadRecord(by=by, at=datetime.now(UTC), report=report)
        await self._share(self.last)
        log.info("reload by %s: %s", by, report.summary())
        for skipped in report.skipped:
            log.info("reload skipped %s: %s", skipped.path, skipped.reason)
        return report, titles

    def _refresh(self, progress: IndexProgress) -> tuple[IndexReport, dict[str, str]]:
        report = self._engine.refresh(progress=progress)
        return report, {a.id: a.title for a in self._engine.articles()}

    async def follow(self, every: float) -> None:
        """Until cancelled, every ``every`` seconds: serve the database's live index if another
        replica published a new one, and take over its last reload record for /status. A
        database that is down is logged once per outage and tried again."""
        down = False
        while True:
            await asyncio.sleep(every)
            try:
                switched, shared = await asyncio.to_thread(self._poll)
            except NewsbotError as exc:
                if not down:
                    log.warning("cannot check for a new index: %s", exc)
                down = True
                continue
            down = False
            if switched:
                log.info("serving the index another replica published")
            if shared is not None and (self.last is None or shared.at > self.last.at):
                self.last = shared

    def _poll(self) -> tuple[bool, ReloadRecord | None]:
        switched = self._engine.follow_live()
        store = self._store()
        return switched, record_from_dict(store.shared_state(LAST_RELOAD)) if store else None

    async def _share(self, record: ReloadRecord) -> None:
        store = self._store()
        if store is None:
            return
        try:
            await asyncio.to_thread(store.set_shared_state, LAST_RELOAD, record_to_dict(record))
        except NewsbotError as exc:
            log.warning("could not share the reload record with the other replicas: %s", exc)

    def _store(self) -> SharedState | None:
        backend = getattr(self._engine, "backend", None)
        return backend if isinstance(backend, SharedState) else None


LAST_RELOAD = "last_reload"


@runtime_checkable
class SharedState(Protocol):
    """A backend that keeps small JSON values for every process using it (the database)."""

    def shared_state(self, key: str) -> Any: ...

    def set_shared_state(self, key: str, value: Any) -> None: ...


def record_to_dict(record: ReloadRecord) -> dict[str, Any]:
    report = asdict(record.report) if record.report is not None else None
    return {"by": record.by, "at": record.at.isoformat(), "report": report, "error": record.error}


def record_from_dict(value: Any) -> ReloadRecord | None:
    """The record ``record_to_dict`` made, or None for anything else."""
    if not isinstance(value, dict):
        return None
    try:
        raw = value.get("report")
        report = None
        if isinstance(raw, dict):
            fields = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k != "skipped"}
            skipped = tuple(SkippedFile(**s) for s in raw.get("skipped", ()))
            report = IndexReport(**fields, skipped=skipped)
        return ReloadRecord(str(value["by"]), datetime.fromisoformat(value["at"]), report, value.get("error"))
    except (KeyError, TypeError, ValueError):
        return None
