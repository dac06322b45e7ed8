"""Build or update the index from a corpus: embed only what is new or changed, write a new
generation beside the live one, then switch to it atomically."""

from __future__ import annotations

import contextlib
import fcntl
import json
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Protocol

from .chunking import ChunkingConfig, chunk_article
from .encoder import Encoder
from .errors import IndexBusyError
from .index import (BM25_DIR, MANIFEST, STORE, VECTORS, check_compatible, current_generation,
                    expected_manifest, fsync_tree, prune_generations, read_manifest, switch_current)
from .lexical import LexicalIndex
from .models import Article, Chunk, Corpus, IndexReport
from .store import MetadataStore
from .vectors import ANN_MIN_VECTORS, VectorIndex

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
    ``ann_min_vectors`` chunks on, dense search is approximate (IVF, see ``vectors``). Raises IndexBusyError
    if another writer holds the data directory, and IndexWriteError when the storage refuses the
    write (disk full, quota, read-only, no permission): then nothing of the new generation is
    left behind and CURRENT still names the previous one.
    """
    import gc  # (local imports: this change is confined to update_index)
    import shutil
    import traceback

    from .errors import IndexWriteError, NewsbotError

    started = time.perf_counter()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with _writer_lock(data_dir):
            generations = set(data_dir.glob("gen-*"))
            try:
                expected = expected_manifest(encoder.name, encoder.dimension, config)
                previous = None if rebuild else current_generation(data_dir)
                if previous is not None:
                    check_compatible(read_manifest(previous), expected, data_dir)
                old_store = MetadataStore(previous / STORE, readonly=True) if previous else None
                try:
                    plan = _plan(corpus.articles, old_store.article_hashes() if old_store else {})
                    if previous is not None and not (plan.added or plan.changed or plan.removed):
                        prune_generations(data_dir, keep=previous)
                        return IndexReport(unchanged=plan.unchanged, skipped=corpus.skipped,
                                           chunks_total=old_store.count("chunks"),
                                           seconds=time.perf_counter() - started)
                    embedded, total = _write_generation(
                        data_dir, previous, old_store, plan, encoder, config, expected, batch_size, progress,
                        ann_min_vectors,
                    )
                finally:
                    if old_store:
                        old_store.close()
            except NewsbotError:
                raise
            except Exception as exc:
                # A failed write (disk full, read-only, ...) must leave nothing behind: the
                # fault is read first (a full disk is only full until the cleanup), then this
                # run's unfinished folders go (we hold the writer lock, so they are ours) and
                # CURRENT keeps naming the previous generation.
                fault = IndexWriteError.from_exception(exc, data_dir)
                # Drop what the failed write's frames still hold (e.g. an SQLite connection to a
                # file in the folder below): else its space stays taken and the mount stays busy.
                traceback.clear_frames(exc.__traceback__)
                gc.collect()
                try:
                    live = current_generation(data_dir)
                except NewsbotError:
                    live = None
                for leftover in data_dir.glob(".tmp-*"):
                    shutil.rmtree(leftover, ignore_errors=True)
                for new in set(data_dir.glob("gen-*")) - generations - {live}:
                    with contextlib.suppress(OSError):  # never leave a half-deleted one complete
                        (new / MANIFEST).unlink(missing_ok=True)
                    shutil.rmtree(new, ignore_errors=True)
                with contextlib.suppress(OSError):
                    (data_dir / ".CURRENT.tmp").unlink(missing_ok=True)
                if fault is None:
                    raise
                raise fault from exc
    except NewsbotError:
        raise
    except Exception as exc:  # the data folder or its lock cannot even be opened for writing
        fault = IndexWriteError.from_exception(exc, data_dir)
        if fault is None:
            raise
        raise fault from exc
    return IndexReport(
        added=tuple(a.id for a in plan.added), changed=tuple(a.id for a in plan.changed),
        removed=tuple(plan.removed), unchanged=plan.unchanged, skipped=corpus.skipped,
        chunks_embedded=embedded, chunks_total=total,
        seconds=time.perf_counter() - started, rebuilt=rebuild,
    )


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


def _write_generation(data_dir, previous, old_store, plan, encoder, config, expected, batch_size, progress,
                      ann_min_vectors):
    prune_generations(data_dir, keep=previous)  # clears half-written folders of killed runs
    tmp = data_dir / f".tmp-{secrets.token_hex(4)}"
    tmp.mkdir()
    if old_store is not None:
        old_store.copy_to(tmp / STORE)
    store = MetadataStore(tmp / STORE)
    try:
        vectors = _previous_vectors(previous) if previous else VectorIndex.empty(encoder.dimension)
        stale = store.delete_articles([a.id for a in plan.changed] + plan.removed)
        vectors.remove(stale)
        todo = plan.added + plan.changed
        embedded = _embed_articles(todo, store, vectors, encoder, config, batch_size, progress)
        ids, texts = zip(*store.iter_chunk_texts()) if len(vectors) else ((), ())
        LexicalIndex.build(ids, texts).save(tmp / BM25_DIR)
        vectors = vectors.fitted(min_ann=ann_min_vectors)  # exact while small, IVF once large
        vectors.save(tmp / VECTORS)
        total = len(vectors)
        manifest = {**expected, "articles": store.count("articles"), "chunks": total,
                    "vector_index": vectors.describe(), "encoder": getattr(encoder, "variant", "unknown"),
                    "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        store.set_meta(manifest)
    finally:
        store.close()
    (tmp / MANIFEST).write_text(_json(manifest), encoding="utf-8")
    _publish(data_dir, tmp)
    return embedded, total


def _previous_vectors(previous: Path) -> VectorIndex:
    trained_on = read_manifest(previous).get("vector_index", {}).get("trained_on", 0)
    return VectorIndex.load(previous / VECTORS, trained_on=int(trained_on))


def _embed_articles(articles, store, vectors, encoder, config, batch_size, progress) -> int:
    chunked: list[tuple[Article, list[Chunk]]] = [(a, chunk_article(a, encoder, config)) for a in articles]
    total = sum(len(chunks) for _, chunks in chunked)
    if progress:
        progress.begin(total)
    texts = [c.embed_text for _, chunks in chunked for c in chunks]
    matrix = encoder.encode(texts, batch_size=batch_size, progress=progress.advance if progress else None)
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
