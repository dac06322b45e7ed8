"""The local search backend: index generations of FAISS, bm25s and SQLite files in a folder.

``LocalGenerationWriter`` is the one owner of the generation format on disk (see
``generations`` for the layout): the indexer and the scaled benchmarks both write through it.
``LocalSnapshot`` loads one generation for reading; ``LocalBackend`` ties the two to a data
directory and implements ``backend.SearchBackend``.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from embeddings.encoders import Encoder
from embeddings.errors import IndexCorruptError, IndexMissingError, NewsbotError
from embeddings.index.generations import (
    BM25_DIR,
    MANIFEST,
    REBUILD_HINT,
    STORE,
    VECTORS,
    cleanup_on_failure,
    current_generation,
    fsync_tree,
    prune_generations,
    read_manifest,
    storage_faults,
    switch_current,
    writer_lock,
)
from embeddings.index.indexer import probe_queries
from embeddings.index.lexical import LexicalIndex
from embeddings.index.sentence_vectors import check_rows, pack, unpack
from embeddings.index.store import MetadataStore
from embeddings.index.vectors import ANN_MIN_VECTORS, VectorIndex
from embeddings.models import Article, Chunk
from embeddings.timing import stage

_Part = TypeVar("_Part")


@dataclass(frozen=True)
class LocalSnapshot:
    """One loaded, read-only generation (``backend.SearchSnapshot``): shared by every query
    until a reload swaps it. ``store``, ``vectors`` and ``lexical`` are its three parts."""

    path: Path
    manifest: dict[str, Any]
    store: MetadataStore
    vectors: VectorIndex
    lexical: LexicalIndex

    @classmethod
    def load(cls, generation: Path) -> LocalSnapshot:
        """Load ``generation``; IndexCorruptError, naming the file and the rebuild command,
        when a file of it is damaged or missing or the parts disagree on the chunk count."""
        manifest = read_manifest(generation)
        store = _load_part(generation / STORE, _open_store)
        vectors = _load_part(generation / VECTORS, lambda p: VectorIndex.load(p, mmap=True))
        lexical = _load_part(generation / BM25_DIR, LexicalIndex.load)
        _check_counts(generation, manifest, store, vectors, lexical)
        return cls(generation, manifest, store, vectors, lexical)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def location(self) -> str:
        return str(self.path)

    @property
    def analyzer(self) -> LexicalIndex:
        """The lexical side's terms and idf (``backend.TermAnalyzer``)."""
        return self.lexical

    @cached_property
    def articles(self) -> tuple[Article, ...]:
        """Every article of this generation, newest first, without their text (read once,
        then shared; ``article(id)`` has the whole article)."""
        return tuple(self.store.articles(with_text=False))

    def chunk_count(self) -> int:
        return len(self.vectors)

    def dense_candidates(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        return self.vectors.search(vector, k)

    def lexical_candidates(self, query: str, k: int) -> list[tuple[int, float]]:
        return self.lexical.search(query, k)

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        return self.store.chunks(chunk_ids)

    def article(self, article_id: str) -> Article | None:
        return self.store.article(article_id)

    def sentence_vectors(self, chunk_ids: Iterable[int]) -> dict[int, np.ndarray]:
        dimension = self.vectors.dimension
        return {i: unpack(blob, dimension) for i, blob in self.store.sentence_vectors(chunk_ids).items()}

    def close(self) -> None:
        self.store.close()


def _open_store(path: Path) -> MetadataStore:
    if not path.is_file():
        raise FileNotFoundError(f"missing file {path.name}")
    store = MetadataStore(path, readonly=True)
    store.count("chunks")  # touch the file now, so damage shows at load time
    return store


def _load_part(path: Path, loader: Callable[[Path], _Part]) -> _Part:
    try:
        return loader(path)
    # EOFError: a truncated .npy; TypeError/AttributeError: JSON of the wrong shape under bm25/.
    except (
        OSError,
        RuntimeError,
        ValueError,
        KeyError,
        EOFError,
        TypeError,
        AttributeError,
        sqlite3.DatabaseError,
    ) as exc:
        raise IndexCorruptError(f"The index file {path} is damaged or missing ({exc}). {REBUILD_HINT}") from exc


def _check_counts(
    generation: Path, manifest: dict[str, Any], store: MetadataStore, vectors: VectorIndex, lexical: LexicalIndex
) -> None:
    counts = {
        "manifest": manifest.get("chunks"),
        STORE: store.count("chunks"),
        VECTORS: len(vectors),
        BM25_DIR: len(lexical),
    }
    if len(set(counts.values())) != 1:
        raise IndexCorruptError(f"The index in {generation} is inconsistent (chunk counts {counts}). {REBUILD_HINT}")


class LocalGenerationWriter:
    """The next generation of a data directory (``backend.GenerationWriter``), built in a
    ``.tmp-*`` folder beside the live one and published by fsync, rename and a CURRENT switch.

    Lazy: nothing is written until the first ``delete_articles``, ``add_article`` or
    ``publish``, which first tidies what killed runs left, then starts from a copy of the
    ``base`` generation's store and vectors (or from nothing). From ``ann_min_vectors`` chunks
    on, dense search is approximate (IVF, with nprobe tuned on probe queries embedded by
    ``encoder``, see ``vectors``). Opened by ``LocalBackend.writer``, which holds the lock and
    cleans up after a failure.
    """

    def __init__(
        self, data_dir: Path, base: Path | None, encoder: Encoder, *, ann_min_vectors: int = ANN_MIN_VECTORS
    ) -> None:
        self.data_dir = data_dir
        self.base = base
        self.encoder = encoder
        self.ann_min_vectors = ann_min_vectors
        self.published = False
        self._base_store: MetadataStore | None = None
        self._tmp: Path | None = None
        self._store: MetadataStore | None = None
        self._vectors: VectorIndex | None = None

    def article_hashes(self) -> dict[str, str]:
        if self._store is not None:
            return self._store.article_hashes()
        if self.base is None:
            return {}
        if self._base_store is None:
            self._base_store = MetadataStore(self.base / STORE, readonly=True)
        return self._base_store.article_hashes()

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        store, vectors = self._begin()
        vectors.remove(store.delete_articles(article_ids))

    def add_article(
        self,
        article: Article,
        chunks: Sequence[Chunk],
        vectors: np.ndarray,
        sentence_vectors: Sequence[np.ndarray] | None = None,
    ) -> None:
        check_rows(article, chunks, vectors, sentence_vectors)
        store, index = self._begin()
        ids = store.add_article(article, list(chunks))
        index.add(ids, vectors)
        if sentence_vectors is not None:
            store.add_sentence_vectors(ids, [pack(m) for m in sentence_vectors])

    def publish(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Write the BM25 index, fit and write the vectors, then the manifest (with the counts,
        the vector index's details and the build time added), and make this generation live."""
        if self.published:
            raise RuntimeError("this generation is already published")
        store, vectors = self._begin()
        assert self._tmp is not None
        try:
            with stage("bm25_index"):
                _write_bm25(store, len(vectors), self._tmp / BM25_DIR)
            with stage("vector_index"):
                vectors = self._fitted(store, vectors)
                vectors.save(self._tmp / VECTORS)
            stored = {
                **manifest,
                "articles": store.count("articles"),
                "chunks": len(vectors),
                "vector_index": vectors.describe(),
                "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            store.set_meta(stored)
        finally:
            self._close_store()
        (self._tmp / MANIFEST).write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        self._switch_to(self._tmp)
        return stored

    def close(self) -> None:
        """Release the open stores (the folders stay; see ``discard``)."""
        self._close_store()
        if self._base_store is not None:
            self._base_store.close()
            self._base_store = None

    def discard(self) -> None:
        """Close, and remove this writer's unfinished folder unless it was published."""
        self.close()
        if self._tmp is not None and not self.published:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _begin(self) -> tuple[MetadataStore, VectorIndex]:
        if self._store is None or self._vectors is None:
            prune_generations(self.data_dir, keep=self.base)  # clears half-written folders of killed runs
            self._tmp = self.data_dir / f".tmp-{secrets.token_hex(4)}"
            self._tmp.mkdir()
            if self.base is not None:
                self._copy_base_store(self._tmp / STORE)
            self._store = MetadataStore(self._tmp / STORE)
            self._vectors = _base_vectors(self.base) if self.base else VectorIndex.empty(self.encoder.dimension)
        return self._store, self._vectors

    def _copy_base_store(self, target: Path) -> None:
        assert self.base is not None
        if self._base_store is None:
            self._base_store = MetadataStore(self.base / STORE, readonly=True)
        self._base_store.copy_to(target)

    def _fitted(self, store: MetadataStore, vectors: VectorIndex) -> VectorIndex:
        # Exact while small, IVF once large (nprobe tuned on query-like probes).
        return vectors.fitted(min_ann=self.ann_min_vectors, probes=lambda: probe_queries(store, self.encoder))

    def _switch_to(self, tmp: Path) -> None:
        fsync_tree(tmp)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        generation = self.data_dir / f"gen-{stamp}-{secrets.token_hex(3)}"
        tmp.rename(generation)
        self._tmp = generation
        switch_current(self.data_dir, generation)
        self.published = True
        prune_generations(self.data_dir, keep=generation)

    def _close_store(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def _write_bm25(store: MetadataStore, chunk_count: int, folder: Path) -> None:
    # A function of its own, so that the texts and the index are freed as soon as it is saved.
    ids, texts = zip(*store.iter_chunk_texts()) if chunk_count else ((), ())
    LexicalIndex.build(ids, texts).save(folder)


def _base_vectors(base: Path) -> VectorIndex:
    trained_on = read_manifest(base).get("vector_index", {}).get("trained_on", 0)
    return VectorIndex.load(base / VECTORS, trained_on=int(trained_on))


class LocalBackend:
    """Index generations under ``data_dir`` (``backend.SearchBackend``). ``probe_encoder`` is
    the encoder of the vectors written: it sizes an empty index and embeds the probe queries
    that tune an IVF one (from ``ann_min_vectors`` chunks on); it is needed to write only."""

    def __init__(
        self, data_dir: Path, *, ann_min_vectors: int = ANN_MIN_VECTORS, probe_encoder: Encoder | None = None
    ) -> None:
        self.data_dir = Path(data_dir)
        self.ann_min_vectors = ann_min_vectors
        self.probe_encoder = probe_encoder

    @property
    def location(self) -> str:
        return str(self.data_dir)

    def live_manifest(self) -> dict[str, Any] | None:
        generation = self._live()
        return read_manifest(generation) if generation is not None else None

    def open_snapshot(self) -> LocalSnapshot:
        generation = self._live()
        if generation is None:
            raise IndexMissingError(f"There is no index in {self.data_dir} yet. Build it with `newsbot index`.")
        return LocalSnapshot.load(generation)

    @contextlib.contextmanager
    def writer(self, *, rebuild: bool = False) -> Iterator[LocalGenerationWriter]:
        """The writer lock, and the next generation (``LocalGenerationWriter``) based on the
        live one unless ``rebuild``. A refused write (disk full, quota, read-only, no
        permission) raises IndexWriteError; then, as after any failure or a block left without
        ``publish``, nothing of the new generation is left and CURRENT names the previous one."""
        if self.probe_encoder is None:
            raise ValueError("a LocalBackend without a probe_encoder can only read")
        with storage_faults(self.data_dir):
            self.data_dir.mkdir(parents=True, exist_ok=True)
            with writer_lock(self.data_dir), cleanup_on_failure(self.data_dir):
                base = None if rebuild else current_generation(self.data_dir)
                writer = LocalGenerationWriter(
                    self.data_dir, base, self.probe_encoder, ann_min_vectors=self.ann_min_vectors
                )
                yield from _written(writer)

    def _live(self) -> Path | None:
        return current_generation(self.data_dir) if self.data_dir.is_dir() else None


def _written(writer: LocalGenerationWriter) -> Iterator[LocalGenerationWriter]:
    """Yield ``writer``, then settle it: published, or discarded (on a failure other than a
    NewsbotError, ``cleanup_on_failure`` removes the folder once it has read the fault)."""
    try:
        yield writer
    except NewsbotError:
        writer.discard()
        raise
    finally:
        writer.close()
    if not writer.published:
        writer.discard()
        # As an update that found nothing to do always has: clear what killed runs left.
        prune_generations(writer.data_dir, keep=writer.base or _live_or_none(writer.data_dir))


def _live_or_none(data_dir: Path) -> Path | None:
    try:
        return current_generation(data_dir)
    except NewsbotError:
        return None
