"""BM25 over chunk texts with bm25s (English stop words, Snowball stemming)."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_IDS_FILE = "chunk_ids.npy"


_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token pattern
_STOPWORDS = frozenset(STOPWORDS_EN)  # what bm25s.tokenize uses for stopwords="en"


def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


class _PerThreadStemmer(threading.local):
    # A PyStemmer object keeps per-call state: one per thread, as searches run in many.
    def __init__(self) -> None:
        self.stemmer = _stemmer()


class TermSplitter:
    """Text → BM25 terms exactly as ``bm25s.tokenize(..., stopwords="en")`` with the Snowball
    English stemmer makes them (lower-cased, stop words dropped, stemmed); safe to call from
    many threads. Every lexical side (bm25s here, the database's in ``pg``) uses it."""

    def __init__(self) -> None:
        self._stemmers = _PerThreadStemmer()

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
        return self._stemmers.stemmer.stemWords(words) if words else []


class LexicalIndex:
    """A BM25 index whose documents are chunks, addressed by chunk id."""

    def __init__(self, bm25: bm25s.BM25 | None, chunk_ids: np.ndarray) -> None:
        self._bm25 = bm25
        self._ids = chunk_ids
        self._split = TermSplitter()
        self._stemmers = self._split._stemmers  # this thread's stemmer, the one terms() uses

    @classmethod
    def build(cls, chunk_ids: Sequence[int], texts: Sequence[str]) -> LexicalIndex:
        ids = np.asarray(chunk_ids, dtype=np.int64)
        if not len(ids):
            return cls(None, ids)
        tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), show_progress=False)
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        return cls(bm25, ids)

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = True) -> LexicalIndex:
        ids = np.load(directory / _IDS_FILE)
        if not len(ids):
            return cls(None, ids)
        return cls(bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False, verbosity=0), ids)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        if self._bm25 is not None:
            self._bm25.save(str(directory), show_progress=False)
        np.save(directory / _IDS_FILE, self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def terms(self, text: str) -> list[str]:
        """``text`` as this index sees it: lower-cased, stop words dropped, stemmed. The same
        terms as ``bm25s.tokenize(..., stopwords="en")`` (tested), without its per-call
        progress-bar and vocabulary set-up: answers call this for every candidate sentence."""
        return self._split(text)

    def knows(self, term: str) -> bool:
        """Whether any chunk contains the (stemmed) term."""
        return self._bm25 is not None and term in self._bm25.vocab_dict

    def idf(self, term: str) -> float:
        """How rare a (stemmed) term is across chunks: BM25's idf, highest for unseen terms."""
        n = len(self._ids)
        bm25 = self._bm25
        token = bm25.vocab_dict.get(term) if bm25 is not None else None
        df = 0
        if bm25 is not None and token is not None:
            indptr = bm25.scores["indptr"]
            df = int(indptr[token + 1] - indptr[token])
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` chunk ids matching ``query``'s terms, best first (ties by index order),
        with BM25 scores. A query with no known terms matches nothing."""
        if self._bm25 is None:
            return []
        vocab = self._bm25.vocab_dict
        tokens = [vocab[t] for t in self.terms(query) if t in vocab]
        if not tokens:
            return []
        scores = self._scores(tokens)
        touched = np.flatnonzero(scores)
        if len(touched) > k:
            touched = touched[np.argpartition(-scores[touched], k - 1)[:k]]
        best = touched[np.lexsort((touched, -scores[touched]))]
        return [(int(self._ids[d]), float(scores[d])) for d in best]

    def _scores(self, tokens: list[int]) -> np.ndarray:
        """Every chunk's BM25 score for these term ids, summed straight from bm25s's
        precomputed score matrix (the default "lucene" variant, where a chunk without any of
        the terms scores 0). (bm25s's own ``retrieve`` gives the same scores, but spent
        14 ms per question at 100k chunks here, against under 2 ms for this, mostly in thread
        pool and progress-bar machinery.)"""
        assert self._bm25 is not None  # search() answers [] before asking without an index
        matrix = self._bm25.scores
        indptr = matrix["indptr"]
        spans = [(int(indptr[t]), int(indptr[t + 1])) for t in tokens]
        docs = np.concatenate([matrix["indices"][a:b] for a, b in spans])
        values = np.concatenate([matrix["data"][a:b] for a, b in spans])
        return np.bincount(docs, weights=values, minlength=len(self._ids))
