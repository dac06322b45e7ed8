"""Hybrid retrieval: BM25 and dense candidates fused, near-duplicates collapsed. News questions
reuse the article's words, so the lexical side matters as much as the semantic one. The fusion
keeps each list's margins (a convex combination of normalised scores) rather than only ranks:
on a small corpus BM25 may separate the right passage by 20x while the dense scores are near
ties, and rank fusion would weigh both lists alike (see docs/EVALUATION.md for the measurements
behind the defaults)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args

import numpy as np

from embeddings.encoders import Encoder
from embeddings.errors import QueryError
from embeddings.index.backend import SearchSnapshot
from embeddings.models import Hit
from embeddings.settings import RetrievalMode
from embeddings.text import MAX_QUESTION_CHARS
from embeddings.timing import stage

RRF_K = 60  # the constant of Cormack et al. (2009); flat enough that both lists count
_WORDS = re.compile(r"\w+")
FusionMethod = Literal["rrf", "convex", "dbsf"]


@dataclass(frozen=True, slots=True)
class Fusion:
    """How the dense and the BM25 lists are merged. ``convex``: ``dense_weight`` x the cosine
    (rescaled from [floor, best] to [0, 1]) plus the rest x BM25 over the best BM25 score;
    ``dbsf``: the same with each list standardised by its own mean and 3 deviations (Qdrant's
    distribution-based score fusion); ``rrf``: reciprocal ranks with ``rrf_k``. A chunk one list
    did not return gets that list's lowest returned score (it scored no better)."""

    method: FusionMethod = "convex"
    dense_weight: float = 0.5
    rrf_k: int = RRF_K
    dense_floor: float = 0.0  # cosines at or below this count as no evidence


@dataclass(frozen=True, slots=True)
class _Candidate:
    chunk_id: int
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


def clean_query(query: str) -> str:
    """The query with surrounding space and control characters gone; raises QueryError when
    nothing usable is left or it is too long to be a question."""
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in query or "").strip()
    if not _WORDS.search(text):
        raise QueryError("Please ask a question: the message has no words in it.")
    if len(text) > MAX_QUESTION_CHARS:
        raise QueryError(f"That question is too long ({len(text):,} characters); keep it under {MAX_QUESTION_CHARS:,}.")
    return text


class Retriever:
    """Searches one index snapshot (any ``SearchSnapshot``) with one encoder; safe to share
    between threads."""

    def __init__(
        self,
        snapshot: SearchSnapshot,
        encoder: Encoder,
        *,
        depth: int = 50,
        cache_size: int = 8192,
        fusion: Fusion = Fusion(),
    ) -> None:
        self.snapshot = snapshot
        self.encoder = encoder
        self.depth = depth
        self.fusion = fusion
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._cache_lock = threading.Lock()

    def search(self, query: str, k: int = 5, mode: RetrievalMode = "hybrid") -> list[Hit]:
        """The ``k`` best chunks for ``query``, best first, near-duplicates collapsed."""
        if mode not in get_args(RetrievalMode):
            raise QueryError(f"Unknown search mode {mode!r}; use one of {', '.join(get_args(RetrievalMode))}.")
        query = clean_query(query)
        depth = max(self.depth, 4 * k)
        dense = self._dense(query, depth) if mode != "bm25" else []
        with stage("bm25"):
            lexical = self.snapshot.lexical_candidates(query, depth) if mode != "dense" else []
        with stage("fusion"):  # including fetching the passages and collapsing duplicates
            return self._hits(fuse(dense, lexical, self.fusion), k)

    def embed_query(self, query: str) -> np.ndarray:
        """The query's unit vector, from a small LRU cache when asked before."""
        with self._cache_lock:
            vector = self._cache.get(query)
            if vector is not None:
                self._cache.move_to_end(query)
                return vector
        with stage("encode"):
            vector = cast(np.ndarray, self.encoder.encode([query])[0])  # numpy types a row as Any
        with self._cache_lock:
            self._cache[query] = vector
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return vector

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` (one row each), the uncached ones encoded in one batch and
        kept in the same LRU cache as queries."""
        rows: dict[str, np.ndarray] = {}
        with self._cache_lock:
            for text in texts:
                if (vector := self._cache.get(text)) is not None:
                    self._cache.move_to_end(text)
                    rows[text] = vector
        missing = list(dict.fromkeys(t for t in texts if t not in rows))
        if missing:
            with stage("encode"):
                encoded = self.encoder.encode(missing)
            with self._cache_lock:
                for text, vector in zip(missing, encoded):
                    rows[text] = self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return np.stack([rows[t] for t in texts])

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """The sentence vectors the snapshot stored for these chunks (see ``SearchSnapshot``)."""
        with stage("sentence_vectors"):
            return self.snapshot.sentence_vectors(chunk_ids)

    def clear_cache(self) -> None:
        """Forget cached query vectors (so a measurement sees cold queries)."""
        with self._cache_lock:
            self._cache.clear()

    def _dense(self, query: str, depth: int) -> list[tuple[int, float]]:
        vector = self.embed_query(query)
        with stage("dense"):
            return self.snapshot.dense_candidates(vector, depth)

    def _hits(self, candidates: list[_Candidate], k: int) -> list[Hit]:
        hits: list[Hit] = []
        seen: list[set[str]] = []
        pool = candidates[: max(3 * k, k + 10)]
        rows = self.snapshot.chunks(c.chunk_id for c in pool)
        for cand in pool:
            if cand.chunk_id not in rows:
                continue
            chunk, article = rows[cand.chunk_id]
            words = set(_WORDS.findall(chunk.text.lower()))
            if any(_jaccard(words, other) >= 0.9 for other in seen):
                continue  # the same passage again (a syndicated copy, a re-post)
            seen.append(words)
            hits.append(
                Hit(
                    cand.chunk_id,
                    chunk,
                    article,
                    cand.score,
                    cand.dense_score,
                    cand.bm25_score,
                    cand.dense_rank,
                    cand.bm25_rank,
                )
            )
            if len(hits) == k:
                break
        return hits


def fuse(
    dense: list[tuple[int, float]], lexical: list[tuple[int, float]], fusion: Fusion = Fusion()
) -> list[_Candidate]:
    """The two ranked lists merged by ``fusion``, best first; a single list keeps its own
    order and scores."""
    fields: dict[int, dict[str, Any]] = {}  # _Candidate fields: float scores, int ranks
    for name, ranked in (("dense", dense), ("bm25", lexical)):
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            entry = fields.setdefault(chunk_id, {"score": 0.0})
            entry[f"{name}_score"] = score
            entry[f"{name}_rank"] = rank
    if not (dense and lexical):  # one list alone keeps its own, more telling, scores
        for entry in fields.values():
            entry["score"] = entry.get("dense_score", entry.get("bm25_score", 0.0))
    elif fusion.method == "rrf":
        for entry in fields.values():
            ranks = (entry.get("dense_rank"), entry.get("bm25_rank"))
            entry["score"] = sum(1.0 / (fusion.rrf_k + r) for r in ranks if r is not None)
    else:
        dense_norm = _normaliser(fusion, [s for _, s in dense], dense=True)
        bm25_norm = _normaliser(fusion, [s for _, s in lexical], dense=False)
        floor_d, floor_b = dense[-1][1], lexical[-1][1]
        for entry in fields.values():
            d = dense_norm(entry.get("dense_score", floor_d))
            b = bm25_norm(entry.get("bm25_score", floor_b))
            entry["score"] = fusion.dense_weight * d + (1 - fusion.dense_weight) * b
    ordered = sorted(fields.items(), key=lambda item: -item[1]["score"])
    return [_Candidate(chunk_id, **entry) for chunk_id, entry in ordered]


def _normaliser(fusion: Fusion, scores: list[float], *, dense: bool) -> Any:
    """A score → [0, 1]-ish map for one list: ``convex`` keeps ratios (BM25 over its best; a
    cosine above ``dense_floor`` over the best's), ``dbsf`` standardises by mean ± 3 deviations."""
    if fusion.method == "dbsf":
        mean = float(np.mean(scores))
        spread = 6 * float(np.std(scores)) or 1.0
        low = mean - spread / 2
        return lambda s: min(1.0, max(0.0, (s - low) / spread))
    top = max(scores)
    floor = fusion.dense_floor if dense else 0.0
    span = (top - floor) if top > floor else 1.0
    return lambda s: max(0.0, s - floor) / span


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
