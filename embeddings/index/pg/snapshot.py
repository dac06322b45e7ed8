"""One generation of the database for reading (``backend.SearchSnapshot``): every query names
its generation, so a snapshot keeps answering from exactly the corpus it opened while a writer
publishes the next (until the publish after that removes its dropped rows)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import psycopg

from embeddings.index.pg.lexicon import Lexicon, query_literal
from embeddings.index.pg.pruning import candidate_cap, covering_sets, split_rare
from embeddings.index.pg.schema import VISIBLE
from embeddings.index.sentence_vectors import unpack
from embeddings.index.store import chunk_with_article
from embeddings.models import Article, Chunk

_ARTICLE = "a.id, a.title, a.text, a.path, a.content_hash, a.published, a.source, a.url, a.place"
_CHUNK = 'c.id, c.ordinal, c.start, c."end", c.sentences, c.heading, c.tokens'
_V = VISIBLE.replace("gen_", "c.gen_")
_A = VISIBLE.replace("gen_", "a.gen_")


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form of a dense vector (float32 round-trips through 9 digits)."""
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(vector, dtype=np.float32).ravel().tolist()) + "]"


@dataclass(frozen=True)
class PostgresSnapshot:
    """Generation ``generation`` of the database that ``connect`` lends connections to
    (``PostgresBackend.connection``), read-only; ``ef_search`` is the HNSW candidate list
    length (at least the ``k`` asked for)."""

    connect: Callable[[], AbstractContextManager[psycopg.Connection]] = field(repr=False)
    where: str
    generation: int
    manifest: dict[str, Any]
    lexicon: Lexicon = field(repr=False)
    ef_search: int = 100
    candidate_cap: int | None = None  # the rows BM25's first step may select; None: ``pruning.candidate_cap``

    @property
    def name(self) -> str:
        return f"generation-{self.generation}"

    @property
    def location(self) -> str:
        return f"{self.where} ({self.name})"

    @property
    def analyzer(self) -> Lexicon:
        return self.lexicon

    @cached_property
    def articles(self) -> tuple[Article, ...]:
        rows = self._rows(
            f"SELECT {_ARTICLE.replace('a.text', chr(39) * 2)} FROM newsbot_articles a WHERE {_A} "
            'ORDER BY a.published IS NULL, a.published DESC, a.title COLLATE "C"',
            {},
        )
        return tuple(Article(*row) for row in rows)

    def chunk_count(self) -> int:
        return int(self.manifest["chunks"])

    def dense_candidates(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        literal = vector_literal(vector)
        with self.connect() as conn, conn.transaction():
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(self.ef_search, int(k))}")
            rows = conn.execute(
                f"SELECT c.id, -(c.embedding <#> %(q)s::vector) FROM newsbot_chunks c WHERE {_V} "
                "ORDER BY c.embedding <#> %(q)s::vector LIMIT %(k)s",
                {"q": literal, "k": int(k), "g": self.generation},
            ).fetchall()
        return _ranked(rows)

    def lexical_candidates(self, query: str, k: int) -> list[tuple[int, float]]:
        """bm25s's top ``k``, reading far fewer rows than every chunk holding a query term
        (``pruning``): the chunks of the rare terms, then those of the common terms' covering
        sets. When there are too many sets, the rarest common term joins the rare ones (its
        chunks are scored, which raises the bar) and the sets are made again."""
        terms = self.lexicon.query_terms(query)
        if not terms:
            return []
        literal = query_literal(terms)
        rare, common = split_rare(terms, self.candidate_cap or candidate_cap(self.chunk_count()))
        seen = [t.id for t in rare]
        found = self._scored(literal, "c.term_ids && %(seen)s::int[]", {"seen": seen}, k)
        while common:
            sets = covering_sets(common, found[k - 1][1] if len(found) >= k else 0.0)
            if sets == []:
                break
            if sets is None:  # too many: the rarest common term's chunks next, then sets again
                match, params, joining = "c.term_ids && %(next)s::int[]", {"next": [common[0].id]}, [common[0].id]
                common = common[1:]
            else:
                (match, params), joining, common = _holding(sets), [], []
            unseen = f"({match}) AND NOT c.term_ids && %(seen)s::int[]"
            more = self._scored(literal, unseen, {**params, "seen": seen}, k)
            found, seen = sorted(found + more, key=lambda pair: (-pair[1], pair[0]))[:k], seen + joining
        return found

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not ids:
            return {}
        rows = self._rows(
            f"SELECT {_CHUNK}, {_ARTICLE} FROM newsbot_chunks c JOIN newsbot_articles a "
            f"ON a.id = c.article_id AND a.gen_from = c.gen_from WHERE c.id = ANY(%(ids)s) AND {_V}",
            {"ids": ids},
        )
        return {int(row[0]): chunk_with_article(row) for row in rows}

    def article(self, article_id: str) -> Article | None:
        rows = self._rows(f"SELECT {_ARTICLE} FROM newsbot_articles a WHERE a.id = %(id)s AND {_A}", {"id": article_id})
        return Article(*rows[0]) if rows else None

    def sentence_vectors(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """The pooled sentence vectors stored with these chunks (chunks stored without them are
        left out: the semantic evidence encodes those sentences per question)."""
        ids = [int(i) for i in chunk_ids]
        if not ids:
            return {}
        rows = self._rows(
            "SELECT id, sentence_vectors FROM newsbot_chunks WHERE id = ANY(%(ids)s) AND sentence_vectors IS NOT NULL",
            {"ids": ids},
        )
        dimension = int(self.manifest["dimension"])
        return {int(i): unpack(bytes(blob), dimension) for i, blob in rows}

    def close(self) -> None:
        """Nothing to release: the pool belongs to the backend."""

    def _rows(self, query: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        with self.connect() as conn:
            return conn.execute(query, {**params, "g": self.generation}).fetchall()

    def _scored(self, literal: str, match: str, params: dict[str, Any], k: int) -> list[tuple[int, float]]:
        """The best ``k`` (id, BM25 score) of the visible chunks that ``match`` selects."""
        rows = self._rows(
            f"SELECT c.id, -(c.terms <#> %(q)s::sparsevec) AS score FROM newsbot_chunks c "
            f"WHERE {match} AND {_V} ORDER BY score DESC, c.id LIMIT %(k)s",
            {**params, "q": literal, "k": int(k)},
        )
        return [(int(i), float(s)) for i, s in rows if s > 0]


def _holding(sets: list[list[int]]) -> tuple[str, dict[str, Any]]:
    """A condition selecting the chunks that hold every term of at least one of ``sets``: the
    one-term sets as one overlap test, each larger set as a containment test (both answered by
    the GIN index on ``term_ids``)."""
    single = [s[0] for s in sets if len(s) == 1]
    tests = ["c.term_ids && %(single)s::int[]"] if single else []
    params: dict[str, Any] = {"single": single} if single else {}
    for n, terms in enumerate(s for s in sets if len(s) > 1):
        tests.append(f"c.term_ids @> %(set{n})s::int[]")
        params[f"set{n}"] = terms
    return " OR ".join(tests), params


def _ranked(rows: list[tuple[Any, ...]]) -> list[tuple[int, float]]:
    # An iterative HNSW scan (relaxed order) may return neighbours slightly out of order.
    return sorted(((int(i), float(s)) for i, s in rows), key=lambda pair: (-pair[1], pair[0]))
