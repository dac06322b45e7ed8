"""Hybrid retrieval: BM25 and dense candidates fused by reciprocal rank, near-duplicates
collapsed. News questions reuse the article's words, so the lexical side matters as much as
the semantic one (see docs/EVALUATION.md for the measurements behind the defaults)."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, cast, get_args

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

    def __init__(self, snapshot: SearchSnapshot, encoder: Encoder, *, depth: int = 50, cache_size: int = 1024) -> None:
        self.snapshot = snapshot
        self.encoder = encoder
        self.depth = depth
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
            return self._hits(_fuse(dense, lexical), k)

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


def _fuse(dense: list[tuple[int, float]], lexical: list[tuple[int, float]]) -> list[_Candidate]:
    """Reciprocal rank fusion of the two ranked lists (a single list keeps its own order)."""
    fields: dict[int, dict[str, Any]] = {}  # _Candidate fields: float scores, int ranks
    for name, ranked in (("dense", dense), ("bm25", lexical)):
        for rank, (chunk_id, score) in enumerate(ranked, start=1):
            entry = fields.setdefault(chunk_id, {"score": 0.0})
            entry["score"] += 1.0 / (RRF_K + rank)
            entry[f"{name}_score"] = score
            entry[f"{name}_rank"] = rank
    if not (dense and lexical):  # one list alone keeps its own, more telling, scores
        for entry in fields.values():
            entry["score"] = entry.get("dense_score", entry.get("bm25_score", 0.0))
    ordered = sorted(fields.items(), key=lambda item: -item[1]["score"])
    return [_Candidate(chunk_id, **entry) for chunk_id, entry in ordered]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0
