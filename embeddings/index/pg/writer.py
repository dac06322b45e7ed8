"""The next generation of the database (``backend.GenerationWriter``): one transaction on one
dedicated connection, holding the advisory lock that makes it the only writer on any machine.

Deleted articles and chunks get ``gen_to`` = the new generation; added ones are copied in
with ``gen_from`` = it (``COPY``, in batches). ``publish`` computes the BM25 weights of the new
chunks and the generation's document frequencies in the database, stores the manifest, points
``newsbot_live`` at the new generation (one statement), removes what neither it nor the previous
generation sees, and commits. Until that commit nobody sees anything of it; if the process dies
first (even by kill -9), the server rolls it all back and releases the lock.

Into an empty chunk table (a fresh database, the first migration) the writer loads in bulk:
it drops the HNSW and GIN indexes in its transaction, copies every row in, weighs them, and
builds both indexes again before the switch, with enough ``maintenance_work_mem`` for the HNSW
graph (pgvector builds it in memory, in parallel). Keeping an HNSW index up row by row costs
far more than building it once. The drop is part of the transaction, so a killed bulk load
leaves the indexes as they were; readers cannot see an empty table's missing rows anyway.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import psycopg

from embeddings.index.lexical import TermSplitter
from embeddings.index.pg.connection import faults
from embeddings.index.pg.lexicon import K1, WEIGHTS_SQL, B, Lexicon, TermCounts, count_terms
from embeddings.index.pg.schema import SEARCH_INDEXES, VISIBLE
from embeddings.index.pg.snapshot import vector_literal
from embeddings.index.sentence_vectors import check_rows, pack
from embeddings.models import Article, Chunk

_BATCH = 2_000  # chunks per COPY
_ARTICLE_COLUMNS = "id, gen_from, title, text, path, content_hash, published, source, url, place"
_CHUNK_COLUMNS = (
    'article_id, gen_from, ordinal, start, "end", sentences, heading, tokens, embedding, term_ids, tfs, dl, '
    "sentence_vectors"
)
# The HNSW build's memory per chunk: pgvector's rule of thumb is 1.3 x the vector's size; 1.5 x
# leaves room for the upper layers. Capped so that a huge load spills to disk rather than
# asking the server for more than it may have.
_BUILD_BYTES_PER_DIMENSION = 4 * 1.5
_BUILD_MEMORY_MIN = 64 * 2**20
_BUILD_MEMORY_MAX = 8 * 2**30


class PostgresGenerationWriter:
    """Generation ``generation``, built on ``base`` (None: from nothing, as on a rebuild) in
    ``conn``'s open transaction; ``previous`` is the live generation it replaces (None: there is
    none yet). Opened by ``PostgresBackend.writer``, which holds the lock and rolls back."""

    def __init__(
        self, conn: psycopg.Connection, where: str, generation: int, base: int | None, previous: int | None
    ) -> None:
        self.conn = conn
        self.where = where
        self.generation = generation
        self.base = base
        self.previous = previous
        self.published = False
        self._hashes: dict[str, str] | None = None
        self._articles: list[tuple[Any, ...]] = []
        self._chunks: list[tuple[Any, ...]] = []
        self._term_ids: dict[str, int] | None = None
        self._split = TermSplitter()
        self.bulk = False

    def start_bulk_if_empty(self) -> bool:
        """Drop the search indexes for a bulk load when the chunk table holds no row at all (they
        are built again by ``publish``); returns whether it did."""
        if self._execute("SELECT EXISTS (SELECT 1 FROM newsbot_chunks)", {})[0][0]:
            return False
        for name in SEARCH_INDEXES:
            self._execute(f"DROP INDEX IF EXISTS {name}", {})
        self.bulk = True
        return True

    def article_hashes(self) -> dict[str, str]:
        if self._hashes is None:
            self._hashes = {}
            if self.base is not None:
                rows = self._execute(f"SELECT id, content_hash FROM newsbot_articles WHERE {VISIBLE}", {"g": self.base})
                self._hashes = {str(i): str(h) for i, h in rows}
        return dict(self._hashes)

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        ids = list(article_ids)
        self.article_hashes()
        self._flush()  # an article added and then deleted again must go too
        for table in ("newsbot_articles", "newsbot_chunks"):
            column = "id" if table == "newsbot_articles" else "article_id"
            self._execute(
                f"UPDATE {table} SET gen_to = %(new)s WHERE {column} = ANY(%(ids)s) AND gen_to IS NULL",
                {"new": self.generation, "ids": ids},
            )
        for article_id in ids:
            assert self._hashes is not None
            self._hashes.pop(article_id, None)

    def add_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray] | None = None,
    ) -> None:
        check_rows(article, chunks, vectors, sentence_vectors)
        packed = [pack(m) for m in sentence_vectors] if sentence_vectors is not None else [None] * len(chunks)
        self.article_hashes()
        assert self._hashes is not None
        self._hashes[article.id] = article.content_hash
        self._articles.append(
            (article.id, self.generation, article.title, article.text, article.path, article.content_hash)
            + (article.published, article.source, article.url, article.place)
        )
        for chunk, vector, sentences in zip(chunks, vectors, packed):
            terms = self._terms(chunk.embed_text)
            self._chunks.append(
                (chunk.article_id, self.generation, chunk.ordinal, chunk.start, chunk.end)
                + (json.dumps([[s.start, s.end] for s in chunk.sentences]), chunk.heading, chunk.tokens)
                + (vector_literal(vector), terms.ids, terms.counts, terms.length, sentences)
            )
        if len(self._chunks) >= _BATCH:
            self._flush()

    def publish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Weigh the new chunks, count the terms, store the manifest, switch, prune, commit."""
        if self.published:
            raise RuntimeError("this generation is already published")
        self._flush()
        g = {"g": self.generation}
        avgdl = self._avgdl()
        self._execute(WEIGHTS_SQL, {**g, "avgdl": avgdl})
        articles = self._count("newsbot_articles")
        chunks = self._count("newsbot_chunks")
        if self.bulk:
            self._build_indexes(chunks)
        stored = {
            **manifest,
            "articles": articles,
            "chunks": chunks,
            "generation": self.generation,
            "vector_index": {"kind": "hnsw", "metric": "inner_product", "m": 16, "ef_construction": 64},
            "lexical": {"kind": "bm25-sparsevec", "k1": K1, "b": B, "avgdl": avgdl},
            "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        lexicon = self._lexicon()
        self._execute(
            "INSERT INTO newsbot_generations (id, manifest, lexicon) VALUES (%(g)s, %(m)s, %(l)s)",
            {**g, "m": json.dumps(stored), "l": lexicon},
        )
        self._execute(
            "INSERT INTO newsbot_live (one, generation) VALUES (true, %(g)s) "
            "ON CONFLICT (one) DO UPDATE SET generation = excluded.generation",
            g,
        )
        self._prune()
        with faults(self.where):
            self.conn.commit()
        self.published = True
        return stored

    def drop_everything(self) -> None:
        """Start from nothing (a rebuild): every row live now is dropped by this generation."""
        for table in ("newsbot_articles", "newsbot_chunks"):
            self._execute(f"UPDATE {table} SET gen_to = %(g)s WHERE gen_to IS NULL", {"g": self.generation})
        self._hashes = {}

    # -- inside --

    def _terms(self, text: str) -> TermCounts:
        terms = self._split(text)
        known = self._known_terms()
        fresh = sorted({t for t in terms if t not in known})
        if fresh:
            start = max(known.values(), default=-1) + 1
            rows = [(t, start + n) for n, t in enumerate(fresh)]
            with faults(self.where), self.conn.cursor() as cur:
                cur.executemany("INSERT INTO newsbot_terms (term, id) VALUES (%s, %s)", rows)
            known.update(rows)
        return count_terms(terms, known)

    def _known_terms(self) -> dict[str, int]:
        if self._term_ids is None:
            self._term_ids = {str(t): int(i) for t, i in self._execute("SELECT term, id FROM newsbot_terms", {})}
        return self._term_ids

    def _flush(self) -> None:
        with faults(self.where), self.conn.cursor() as cur:
            if self._articles:
                with cur.copy(f"COPY newsbot_articles ({_ARTICLE_COLUMNS}) FROM STDIN") as copy:
                    for row in self._articles:
                        copy.write_row(row)
            if self._chunks:
                with cur.copy(f"COPY newsbot_chunks ({_CHUNK_COLUMNS}) FROM STDIN") as copy:
                    for row in self._chunks:
                        copy.write_row(row)
        self._articles.clear()
        self._chunks.clear()

    def _build_indexes(self, chunks: int) -> None:
        dimension = self._execute(
            "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'newsbot_chunks'::regclass AND attname = 'embedding'",
            {},
        )[0][0]
        memory = chunks * (int(dimension) * _BUILD_BYTES_PER_DIMENSION + 8)
        memory = int(min(max(memory, _BUILD_MEMORY_MIN), _BUILD_MEMORY_MAX)) // 2**20
        self._execute(f"SET LOCAL maintenance_work_mem = '{memory}MB'", {})
        for statement in SEARCH_INDEXES.values():
            self._execute(statement, {})

    def _avgdl(self) -> float:
        """The base generation's average chunk length when building on one (so that its chunks'
        weights stay valid), else the new generation's own."""
        if self.base is not None:
            row = self._execute("SELECT manifest FROM newsbot_generations WHERE id = %(g)s", {"g": self.base})
            avgdl = row[0][0].get("lexical", {}).get("avgdl") if row else None
            if avgdl:
                return float(avgdl)
        row = self._execute(f"SELECT avg(dl) FROM newsbot_chunks WHERE {VISIBLE}", {"g": self.generation})
        return float(row[0][0] or 1.0) or 1.0

    def _count(self, table: str) -> int:
        return int(self._execute(f"SELECT count(*) FROM {table} WHERE {VISIBLE}", {"g": self.generation})[0][0])

    def _lexicon(self) -> bytes:
        rows = self._execute(
            f"SELECT t.term, t.id, d.df FROM (SELECT u AS id, count(*) AS df FROM newsbot_chunks, "
            f"unnest(term_ids) AS u WHERE {VISIBLE} GROUP BY u) d JOIN newsbot_terms t ON t.id = d.id",
            {"g": self.generation},
        )
        return Lexicon.encode([r[0] for r in rows], [int(r[1]) for r in rows], [int(r[2]) for r in rows])

    def _prune(self) -> None:
        # Keep what the new generation and the one before it see (a reader may still be on it).
        keep = self.previous if self.previous is not None else self.generation
        for table in ("newsbot_chunks", "newsbot_articles"):
            self._execute(f"DELETE FROM {table} WHERE gen_to IS NOT NULL AND gen_to <= %(k)s", {"k": keep})
        self._execute(
            "DELETE FROM newsbot_generations WHERE id < %(k)s AND id <> %(g)s", {"k": keep, "g": self.generation}
        )

    def _execute(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with faults(self.where), self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []
