"""``PostgresBackend``: the ``SearchBackend`` over one PostgreSQL database with pgvector."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import psycopg
import psycopg_pool

from embeddings.errors import IndexBusyError, IndexMissingError, IndexUnavailableError
from embeddings.index.pg.connection import Database, Pooled, faults
from embeddings.index.pg.lexicon import Lexicon
from embeddings.index.pg.schema import LOCK_KEY, ensure_schema, missing_vector
from embeddings.index.pg.snapshot import PostgresSnapshot
from embeddings.index.pg.writer import PostgresGenerationWriter

log = logging.getLogger(__name__)

_NO_INDEX = "There is no index in the database {where} yet. Build it with `newsbot index` (or `newsbot migrate`)."


class PostgresBackend:
    """Index generations in the database ``database`` (``backend.SearchBackend``); vectors
    have ``dimension`` components. Readers share one pool, opened on first use; each writer
    has its own connection. ``candidate_cap``: the rows BM25's first step may select (None:
    ``pruning.candidate_cap``; a huge cap scores every chunk holding a query term, unpruned)."""

    def __init__(
        self, database: Database, dimension: int, *, ef_search: int = 100, candidate_cap: int | None = None
    ) -> None:
        self.database = database
        self.dimension = dimension
        self.ef_search = ef_search
        self.candidate_cap = candidate_cap
        self._pooled = Pooled(database)

    @property
    def location(self) -> str:
        return self.database.location

    def live_generation(self) -> int | None:
        """The live generation's id (one small query), None when there is none."""
        rows = self._read("SELECT generation FROM newsbot_live")
        return int(rows[0][0]) if rows else None

    def live_manifest(self) -> dict[str, Any] | None:
        rows = self._read("SELECT g.manifest FROM newsbot_live l JOIN newsbot_generations g ON g.id = l.generation")
        return _manifest(rows[0][0]) if rows else None

    def open_snapshot(self) -> PostgresSnapshot:
        rows = self._read(
            "SELECT g.id, g.manifest, g.lexicon FROM newsbot_live l JOIN newsbot_generations g ON g.id = l.generation"
        )
        if not rows:
            raise IndexMissingError(_NO_INDEX.format(where=self.location))
        generation, manifest, blob = rows[0]
        manifest = _manifest(manifest)
        lexicon = Lexicon.decode(bytes(blob), int(manifest["chunks"]))
        return PostgresSnapshot(
            self.connection, self.location, int(generation), manifest, lexicon, self.ef_search, self.candidate_cap
        )

    @contextlib.contextmanager
    def writer(self, *, rebuild: bool = False, bulk: bool = True) -> Iterator[PostgresGenerationWriter]:
        """The advisory lock and the next generation, in one transaction: committed by
        ``publish``, rolled back otherwise (also when the process dies). Into an empty chunk
        table it loads in bulk (search indexes built after the rows) unless ``bulk`` is False."""
        conn = self.database.connect()
        try:
            with faults(self.location):
                if not conn.execute("SELECT pg_try_advisory_xact_lock(%s)", (LOCK_KEY,)).fetchone()[0]:  # type: ignore[index]
                    raise IndexBusyError(
                        "The index is being updated by another run right now; try again when it finishes."
                    )
                ensure_schema(conn, self.dimension, self.location)
                previous = _first(conn.execute("SELECT generation FROM newsbot_live").fetchall())
                generation = int(conn.execute("SELECT nextval('newsbot_generation_ids')").fetchone()[0])  # type: ignore[index]
            writer = PostgresGenerationWriter(conn, self.location, generation, None if rebuild else previous, previous)
            if rebuild and previous is not None:
                writer.drop_everything()
            if bulk:
                writer.start_bulk_if_empty()
            yield writer
        finally:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()  # nothing when published; everything of the generation otherwise
            conn.close()

    def shared_state(self, key: str) -> Any:
        """The value stored under ``key`` for every process of this database (None if unset)."""
        rows = self._read("SELECT value FROM newsbot_state WHERE key = %s", (key,))
        return rows[0][0] if rows else None

    def set_shared_state(self, key: str, value: Any) -> None:
        """Store ``value`` (JSON) under ``key`` for every process of this database."""
        with self.connection() as conn:
            conn.execute(
                "INSERT INTO newsbot_state (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()",
                (key, json.dumps(value)),
            )

    def pool(self) -> psycopg_pool.ConnectionPool:
        return self._pooled.pool()

    @property
    def pooled(self) -> Pooled:
        """The readers' pool, which the feedback store of the same process borrows."""
        return self._pooled

    def connection(self) -> contextlib.AbstractContextManager[psycopg.Connection]:
        """A pooled connection (autocommit, with the read timeout); a fault drops the pool
        (``connection.Pooled``)."""
        return self._pooled.connection()

    def close(self) -> None:
        """Close the readers' pool (it is opened again on the next read)."""
        self._pooled.close()

    def _read(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of ``query``; [] when the tables do not exist yet (nothing was ever indexed)."""
        with self.connection() as conn:
            try:
                return conn.execute(query, params).fetchall()
            except psycopg.errors.UndefinedTable:
                if not conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone():
                    raise IndexUnavailableError(missing_vector(self.location)) from None
                return []


def _first(rows: list[tuple[Any, ...]]) -> int | None:
    return int(rows[0][0]) if rows else None


def _manifest(value: Any) -> dict[str, Any]:
    return dict(value if isinstance(value, dict) else json.loads(value))
