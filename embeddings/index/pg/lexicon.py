"""BM25 in the database, scored exactly as bm25s scores it locally ("lucene" variant).

bm25s's score of a chunk ``d`` for a query is ``Σ_t idf(t) · tf / (tf + k1·(1 − b + b·|d|/avgdl))``
over the query's terms. The second factor depends on the chunk alone (and the corpus' average
length): it is the chunk's ``sparsevec`` of weights, one dimension per term, written on publish.
The first is the query's: its ``sparsevec`` holds each known query term's idf (times its count,
as bm25s counts a repeated query term twice). Their inner product (pgvector's ``<#>``, negated)
is the BM25 score. Terms come from the same ``TermSplitter`` as the local index's.

Term ids are rows of ``newsbot_terms`` (stable across generations); each generation stores its
document frequencies (``Lexicon``), from which readers take idf and ``knows``.
"""

from __future__ import annotations

import json
import math
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from embeddings.index.lexical import TermSplitter

K1 = 1.5  # bm25s's defaults
B = 0.75
DIMENSIONS = 100_000_000  # the sparsevec width: more term ids than any corpus needs (pgvector allows 1e9)


@dataclass(frozen=True)
class QueryTerm:
    """One known term of a question: its id, how often the question holds it, its document
    frequency and idf. ``bound`` is the most it can add to any chunk's score: a chunk's weight
    ``tf / (tf + k1·(…))`` is below 1, as k1 and the length norm are positive."""

    id: int
    count: int
    df: int
    idf: float

    @property
    def bound(self) -> float:
        return self.count * self.idf


@dataclass(frozen=True)
class TermCounts:
    """One chunk's terms as the database stores them: sorted term ids, their counts, its length."""

    ids: list[int]
    counts: list[int]
    length: int


class Lexicon:
    """One generation's vocabulary: term → (id, document frequency), and the chunk count.
    It is the generation's ``TermAnalyzer``; safe to share between threads."""

    def __init__(self, ids: dict[str, int], df: dict[str, int], chunks: int) -> None:
        self._ids = ids
        self._df = df
        self.chunks = chunks
        self._split = TermSplitter()

    @classmethod
    def decode(cls, blob: bytes, chunks: int) -> Lexicon:
        data = json.loads(zlib.decompress(blob))
        ids = dict(zip(data["terms"], data["ids"]))
        return cls(ids, dict(zip(data["terms"], data["df"])), chunks)

    @staticmethod
    def encode(terms: Sequence[str], ids: Sequence[int], df: Sequence[int]) -> bytes:
        return zlib.compress(json.dumps({"terms": list(terms), "ids": list(ids), "df": list(df)}).encode(), 6)

    def __len__(self) -> int:
        return len(self._df)

    def terms(self, text: str) -> list[str]:
        return self._split(text)

    def knows(self, term: str) -> bool:
        return self._df.get(term, 0) > 0

    def idf(self, term: str) -> float:
        """bm25s's idf (lucene): ``log(1 + (N − df + 0.5) / (df + 0.5))``; highest for unseen terms."""
        df = self._df.get(term, 0)
        return math.log(1 + (self.chunks - df + 0.5) / (df + 0.5))

    def query_terms(self, query: str) -> list[QueryTerm]:
        """The query's known terms, by id (an unknown term matches no chunk: bm25s drops it too)."""
        counts = Counter(t for t in self.terms(query) if self.knows(t))
        return sorted((QueryTerm(self._ids[t], n, self._df[t], self.idf(t)) for t, n in counts.items()), key=_by_id)


def _by_id(term: QueryTerm) -> int:
    return term.id


def query_literal(terms: Iterable[QueryTerm]) -> str:
    """The sparsevec of a query: each term's idf times its count (the BM25 score is its inner
    product with a chunk's weights)."""
    return sparse_literal(sorted((t.id, t.bound) for t in terms))


def sparse_literal(weights: Iterable[tuple[int, float]]) -> str:
    """pgvector's text form of a sparse vector (1-based indices, ascending)."""
    return "{" + ",".join(f"{i + 1}:{w:.9g}" for i, w in weights) + f"}}/{DIMENSIONS}"


def count_terms(terms: Sequence[str], ids: dict[str, int]) -> TermCounts:
    """A chunk's terms (from ``TermSplitter``) as ids and counts; every term must be in ``ids``."""
    counts = Counter(ids[t] for t in terms)
    ordered = sorted(counts.items())
    return TermCounts([i for i, _ in ordered], [n for _, n in ordered], len(terms))


# The weights of every chunk a writer added, computed in the database from its counts and length
# (so that the average length of the whole generation is known first). pgvector has no array →
# sparsevec constructor, hence the text form.
WEIGHTS_SQL = f"""
UPDATE newsbot_chunks c SET terms = coalesce((
    SELECT '{{' || string_agg((t.id + 1)::text || ':' ||
        (t.tf / (t.tf + {K1} * (1 - {B} + {B} * c.dl / %(avgdl)s::float8)))::real::text, ',' ORDER BY t.id)
        || '}}/{DIMENSIONS}'
    FROM unnest(c.term_ids, c.tfs) AS t(id, tf)), '{{}}/{DIMENSIONS}')::sparsevec
WHERE c.gen_from = %(g)s
"""
