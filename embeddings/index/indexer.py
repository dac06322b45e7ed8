"""Build or update the index from a corpus: embed only what is new or changed, write a new
generation beside the live one, then switch to it atomically."""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import gc
import json
import secrets
import shutil
import time
import traceback
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, NoReturn, Protocol

import numpy as np

from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.encoders import Encoder
from embeddings.errors import IndexBusyError, IndexWriteError, NewsbotError
from embeddings.index.generations import (BM25_DIR, MANIFEST, STORE, VECTORS, check_compatible, current_generation,
                    expected_manifest, fsync_tree, prune_generations, read_manifest, switch_current)
from embeddings.index.lexical import LexicalIndex
from embeddings.models import Article, Chunk, Corpus, IndexReport
from embeddings.index.store import MetadataStore
from embeddings.index.vectors import ANN_MIN_VECTORS, VectorIndex

_LOCK = ".lock"


class IndexProgress(Protocol):
    """Receives embedding progress: ``begin`` once with the number of chunks, then ``advance``."""

    def begin(self, total_chunks: int) -> None: ...

    def advance(self, chunks: int) -> None: ...


@dataclass(frozen=True)
class _Plan:
    added: list[Article]
    changed: list[Article]
    removed: list[str]
    unchanged: int


def update_index(
    data_dir: Path,
    corpus: Corpus,
    encoder: Encoder,
    config: ChunkingConfig,
    *,
    rebuild: bool = False,
    batch_size: int = 32,
    progress: IndexProgress | None = None,
    ann_min_vectors: int = ANN_MIN_VECTORS,
) -> IndexReport:
    """Make the live index in ``data_dir`` reflect ``corpus``.

    Only new or changed articles (by content hash) are chunked and embedded; removed ones are
    dropped; an unchanged corpus writes nothing. ``rebuild`` starts from scratch (needed after a
    model or chunking change, which otherwise raises IndexMismatchError). From
    ``ann_min_vectors`` chunks on, dense search is approximate (IVF, see ``vectors``). Raises
    IndexBusyError if another writer holds the data directory, and IndexWriteError when the
    storage refuses the write (disk full, quota, read-only, no permission): then nothing of the
    new generation is left behind and CURRENT still names the previous one.
    """
    started = time.perf_counter()
    job = _Job(data_dir, encoder, config, expected_manifest(encoder.name, encoder.dimension, config),
               batch_size, progress, ann_min_vectors)
    with _storage_faults(data_dir):
        data_dir.mkdir(parents=True, exist_ok=True)
        with _writer_lock(data_dir), _cleanup_on_failure(data_dir):
            previous = None if rebuild else current_generation(data_dir)
            if previous is not None:
                check_compatible(read_manifest(previous), job.expected, data_dir)
            report = _update(job, previous, corpus)
    return dataclasses.replace(report, seconds=time.perf_counter() - started, rebuilt=rebuild)


@dataclass(frozen=True)
class _Job:
    """What one index update needs besides the generations themselves."""

    data_dir: Path
    encoder: Encoder
    config: ChunkingConfig
    expected: dict
    batch_size: int
    progress: IndexProgress | None
    ann_min_vectors: int


def _update(job: _Job, previous: Path | None, corpus: Corpus) -> IndexReport:
    old_store = MetadataStore(previous / STORE, readonly=True) if previous else None
    try:
        plan = _plan(corpus.articles, old_store.article_hashes() if old_store else {})
        if previous is not None and not (plan.added or plan.changed or plan.removed):
            prune_generations(job.data_dir, keep=previous)
            return IndexReport(unchanged=plan.unchanged, skipped=corpus.skipped,
                               chunks_total=old_store.count("chunks"))
        embedded, total = _write_generation(job, previous, old_store, plan)
    finally:
        if old_store:
            old_store.close()
    return IndexReport(
        added=tuple(a.id for a in plan.added), changed=tuple(a.id for a in plan.changed),
        removed=tuple(plan.removed), unchanged=plan.unchanged, skipped=corpus.skipped,
        chunks_embedded=embedded, chunks_total=total,
    )


@contextlib.contextmanager
def _storage_faults(data_dir: Path) -> Iterator[None]:
    """Turn a refused write (disk full, read-only, ...) into IndexWriteError; other errors pass."""
    try:
        yield
    except NewsbotError:
        raise
    except Exception as exc:
        _raise_as(IndexWriteError.from_exception(exc, data_dir), exc)


@contextlib.contextmanager
def _cleanup_on_failure(data_dir: Path) -> Iterator[None]:
    """On a failed write, remove this run's unfinished folders (the caller holds the writer
    lock, so they are ours) and leave CURRENT naming the previous generation."""
    generations = set(data_dir.glob("gen-*"))
    try:
        yield
    except NewsbotError:
        raise
    except Exception as exc:
        # Read the fault before cleaning up: a full disk is only full until the cleanup.
        fault = IndexWriteError.from_exception(exc, data_dir)
        # Drop what the failed write's frames still hold (e.g. an SQLite connection to a file
        # in the folder below): else its space stays taken and the mount stays busy.
        traceback.clear_frames(exc.__traceback__)
        gc.collect()
        _remove_unfinished(data_dir, generations)
        _raise_as(fault, exc)


def _raise_as(fault: IndexWriteError | None, exc: Exception) -> NoReturn:
    """Raise ``fault`` (from ``exc``), or ``exc`` itself when it was not a refused write."""
    if fault is None:
        raise exc
    raise fault from exc


def _remove_unfinished(data_dir: Path, before: set[Path]) -> None:
    try:
        live = current_generation(data_dir)
    except NewsbotError:
        live = None
    for leftover in data_dir.glob(".tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for new in set(data_dir.glob("gen-*")) - before - {live}:
        with contextlib.suppress(OSError):  # never leave a half-deleted one complete
            (new / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(new, ignore_errors=True)
    with contextlib.suppress(OSError):
        (data_dir / ".CURRENT.tmp").unlink(missing_ok=True)


@contextlib.contextmanager
def _writer_lock(data_dir: Path) -> Iterator[None]:
    with open(data_dir / _LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError("The index is being updated by another run right now; try again when it finishes.") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _plan(articles: tuple[Article, ...], old_hashes: dict[str, str]) -> _Plan:
    current = {a.id for a in articles}
    added = [a for a in articles if a.id not in old_hashes]
    changed = [a for a in articles if a.id in old_hashes and old_hashes[a.id] != a.content_hash]
    removed = sorted(set(old_hashes) - current)
    return _Plan(added, changed, removed, len(articles) - len(added) - len(changed))


def _write_generation(job: _Job, previous: Path | None, old_store: MetadataStore | None, plan: _Plan) -> tuple[int, int]:
    prune_generations(job.data_dir, keep=previous)  # clears half-written folders of killed runs
    tmp = job.data_dir / f".tmp-{secrets.token_hex(4)}"
    tmp.mkdir()
    if old_store is not None:
        old_store.copy_to(tmp / STORE)
    store = MetadataStore(tmp / STORE)
    try:
        vectors = _previous_vectors(previous) if previous else VectorIndex.empty(job.encoder.dimension)
        stale = store.delete_articles([a.id for a in plan.changed] + plan.removed)
        vectors.remove(stale)
        embedded = _embed_articles(job, plan.added + plan.changed, store, vectors)
        ids, texts = zip(*store.iter_chunk_texts()) if len(vectors) else ((), ())
        LexicalIndex.build(ids, texts).save(tmp / BM25_DIR)
        # Exact while small, IVF once large (nprobe tuned on query-like probes).
        vectors = vectors.fitted(min_ann=job.ann_min_vectors, probes=lambda: probe_queries(store, job.encoder))
        vectors.save(tmp / VECTORS)
        manifest = {**job.expected, "articles": store.count("articles"), "chunks": len(vectors),
                    "vector_index": vectors.describe(), "encoder": getattr(job.encoder, "variant", "unknown"),
                    "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        store.set_meta(manifest)
    finally:
        store.close()
    (tmp / MANIFEST).write_text(_json(manifest), encoding="utf-8")
    _publish(job.data_dir, tmp)
    return embedded, len(vectors)


def probe_queries(store: MetadataStore, encoder: Encoder, count: int = 200, words: int = 8) -> np.ndarray:
    """Query-like vectors to tune an approximate index on: the first ``words`` words of
    ``count`` chunks sampled at random (seeded), embedded."""
    ids = store.chunk_ids()
    picks = np.random.default_rng(7).choice(len(ids), size=min(count, len(ids)), replace=False)
    rows = store.chunks(ids[i] for i in picks)
    texts = [" ".join(chunk.text.split()[:words]) or chunk.heading for chunk, _ in rows.values()]
    return encoder.encode(texts)


def _previous_vectors(previous: Path) -> VectorIndex:
    trained_on = read_manifest(previous).get("vector_index", {}).get("trained_on", 0)
    return VectorIndex.load(previous / VECTORS, trained_on=int(trained_on))


def _embed_articles(job: _Job, articles: list[Article], store: MetadataStore, vectors: VectorIndex) -> int:
    chunked: list[tuple[Article, list[Chunk]]] = [(a, chunk_article(a, job.encoder, job.config)) for a in articles]
    total = sum(len(chunks) for _, chunks in chunked)
    if job.progress:
        job.progress.begin(total)
    texts = [c.embed_text for _, chunks in chunked for c in chunks]
    matrix = job.encoder.encode(texts, batch_size=job.batch_size,
                                progress=job.progress.advance if job.progress else None)
    row = 0
    for article, chunks in chunked:
        ids = store.add_article(article, chunks)
        vectors.add(ids, matrix[row : row + len(chunks)])
        row += len(chunks)
    return total


def _publish(data_dir: Path, tmp: Path) -> None:
    fsync_tree(tmp)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%f")
    generation = data_dir / f"gen-{stamp}-{secrets.token_hex(3)}"
    tmp.rename(generation)
    switch_current(data_dir, generation)
    prune_generations(data_dir, keep=generation)


def _json(value: dict) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"
