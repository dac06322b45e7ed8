"""The search-backend seam: what retrieval, answering and the indexer need from wherever the
chunks are kept. Retrieval and answering talk to a ``SearchSnapshot`` only; the indexer talks to
a ``SearchBackend`` and the ``GenerationWriter`` it opens. Today's implementation is local
files (``embeddings.index.local``: FAISS + bm25s + SQLite generations); a database backend is
one more module implementing these three protocols, chosen in ``embeddings.index.factory``.

Every method here is what the engine already uses: nothing is speculative. The protocols are
``runtime_checkable``, so an implementation can be checked with ``isinstance`` (which sees the
names only, not the signatures).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, runtime_checkable

import numpy as np

from embeddings.models import Article, Chunk


@runtime_checkable
class TermAnalyzer(Protocol):
    """The lexical side's view of text, used by the answer layer to weigh a question's words:
    the same terms and idf the lexical search scores with."""

    def terms(self, text: str) -> list[str]:
        """``text`` as lexical search sees it (lower-cased, stop words dropped, stemmed)."""
        ...

    def idf(self, term: str) -> float:
        """How rare ``term`` is among the chunks (higher = rarer; unknown terms score high)."""
        ...

    def knows(self, term: str) -> bool:
        """Whether any chunk holds ``term``."""
        ...


@runtime_checkable
class SearchSnapshot(Protocol):
    """One read-only version of the corpus: every query of a request sees the same one, and
    it stays valid while a writer publishes the next. Safe to share between threads."""

    @property
    def name(self) -> str:
        """A short id of this version (a generation folder's name, a database generation id)."""
        ...

    @property
    def location(self) -> str:
        """Where it lives, for an admin (a folder, a database without its password)."""
        ...

    @property
    def manifest(self) -> dict[str, Any]:
        """What it was built with (model, dimension, chunking, counts, build time, ...)."""
        ...

    @property
    def analyzer(self) -> TermAnalyzer:
        """The lexical side's terms and idf (see ``TermAnalyzer``)."""
        ...

    @property
    def articles(self) -> tuple[Article, ...]:
        """Every article, newest first, without its text."""
        ...

    def chunk_count(self) -> int:
        """How many chunks are searchable."""
        ...

    def dense_candidates(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunk ids nearest ``vector`` (a unit vector) by cosine, best first."""
        ...

    def lexical_candidates(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` chunk ids with the highest BM25 score for ``query``, best first."""
        ...

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        """The chunks with these ids and their articles (article text included); unknown ids
        are left out."""
        ...

    def article(self, article_id: str) -> Article | None:
        """The whole article with this id, text included; None when it is not indexed."""
        ...

    def sentence_vectors(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        """Per chunk id, the unit vectors of the chunk's sentences (one row per sentence, in
        order) stored at index time; chunks without stored ones are left out (a backend that
        stores none returns an empty dict, and answers encode sentences per question)."""
        ...

    def close(self) -> None:
        """Release what this snapshot holds (files, connections)."""
        ...


@runtime_checkable
class GenerationWriter(Protocol):
    """The next version of the corpus, being written: it starts as a copy of the live one (or
    empty on a rebuild) and becomes live at once and whole on ``publish``, or never."""

    def article_hashes(self) -> dict[str, str]:
        """Article id → content hash of what this version holds now."""
        ...

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Drop these articles and their chunks."""
        ...

    def add_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Add ``article`` with its chunks and their unit vectors (one row per chunk), and
        optionally each chunk's sentence vectors (a backend may ignore them)."""
        ...

    def publish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Make this version the live one, atomically, with ``manifest`` (to which the writer
        adds its counts and index details). Returns the manifest as stored."""
        ...


@runtime_checkable
class SearchBackend(Protocol):
    """Where the corpus is kept: opens the live version for readers and writes the next one."""

    @property
    def location(self) -> str:
        """Where it lives, for an admin and for error messages (a folder, a database without
        its password)."""
        ...

    def live_manifest(self) -> dict[str, Any] | None:
        """The live version's manifest, or None when there is none yet."""
        ...

    def open_snapshot(self) -> SearchSnapshot:
        """The live version for reading; raises IndexMissingError when there is none and
        IndexCorruptError when it is damaged."""
        ...

    def writer(self, *, rebuild: bool = False) -> AbstractContextManager[GenerationWriter]:
        """Exclusive write access (IndexBusyError when another writer has it, on any
        machine the backend spans), yielding the next version. Leaving the block without
        ``publish`` (or by an exception) discards it and leaves the live version as it was."""
        ...
