"""The index on disk: generations, the CURRENT pointer, the manifest, and loading a snapshot.

Layout under the data directory::

    CURRENT                 name of the live generation (replaced atomically)
    gen-<time>-<rand>/      one complete, immutable index
        manifest.json       model, dimension, chunking settings, counts, build time
        store.sqlite        articles and chunks
        vectors.faiss       dense vectors keyed by chunk id
        bm25/               the BM25 index and its chunk ids
    .tmp-<rand>/            a generation being written (never loaded; removed on the next run)

A writer builds a complete generation in a temporary folder, fsyncs it, renames it into place
and only then swaps CURRENT, so a reader (or a process killed at any moment) always finds a
whole index.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from embeddings.ingest.chunking import ChunkingConfig
from embeddings.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from embeddings.index.lexical import LexicalIndex
from embeddings.models import Article
from embeddings.index.store import MetadataStore
from embeddings.index.vectors import VectorIndex

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CHUNKER_VERSION = 1  # bump when chunking logic changes, so old indexes ask for a rebuild
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"
REBUILD_HINT = "Rebuild it with `newsbot index --rebuild`."


def expected_manifest(model: str, dimension: int, config: ChunkingConfig) -> dict:
    """The manifest fields that must match for an index to be usable with this model/config."""
    return {
        "format_version": FORMAT_VERSION,
        "model": model,
        "dimension": dimension,
        "chunk_tokens": config.chunk_tokens,
        "overlap_sentences": config.overlap_sentences,
        "chunker_version": CHUNKER_VERSION,
    }


def check_compatible(manifest: dict, expected: dict, where: Path) -> None:
    """Raise IndexMismatchError, saying what differs and how to rebuild, unless they match."""
    diffs = [f"{k} {manifest.get(k)!r} (this run: {v!r})" for k, v in expected.items() if manifest.get(k) != v]
    if diffs:
        raise IndexMismatchError(
            f"The index in {where} was built with different settings: {'; '.join(diffs)}. "
            f"Its vectors cannot be compared with this run's. {REBUILD_HINT}"
        )


def current_generation(data_dir: Path) -> Path | None:
    """The live generation folder, or None when no index was ever completed."""
    pointer = data_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        name = ""
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"The index pointer {pointer} cannot be read ({exc}). {REBUILD_HINT}") from exc
    if name and "/" not in name and (data_dir / name / MANIFEST).is_file():
        return data_dir / name
    if name:
        log.warning("%s names %r, which is not a complete index; using the newest one", pointer, name)
    complete = sorted(p.parent for p in data_dir.glob(f"gen-*/{MANIFEST}"))
    return complete[-1] if complete else None


def read_manifest(generation: Path) -> dict:
    path = generation / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"The index file {path} is damaged ({exc}). {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"The index file {path} is damaged (not an object). {REBUILD_HINT}")
    return manifest


@dataclass(frozen=True)
class IndexSnapshot:
    """One loaded, read-only generation: shared by every query until a reload swaps it."""

    path: Path
    manifest: dict
    store: MetadataStore
    vectors: VectorIndex
    lexical: LexicalIndex

    @cached_property
    def articles(self) -> tuple[Article, ...]:
        """Every article of this generation, newest first, without their text (read once,
        then shared; ``store.article(id)`` has the whole article)."""
        return tuple(self.store.articles(with_text=False))

    @property
    def analyzer(self) -> LexicalIndex:
        """The lexical side's terms and idf (``backend.TermAnalyzer``)."""
        return self.lexical

    def close(self) -> None:
        self.store.close()


def open_index(data_dir: Path) -> IndexSnapshot:
    """Load the live generation of ``data_dir``; raise a user-fit error when there is none,
    or when a file of it is damaged (naming the file and the rebuild command)."""
    generation = current_generation(data_dir) if data_dir.is_dir() else None
    if generation is None:
        raise IndexMissingError(f"There is no index in {data_dir} yet. Build it with `newsbot index`.")
    manifest = read_manifest(generation)
    store = _load_part(generation / STORE, lambda p: _open_store(p))
    vectors = _load_part(generation / VECTORS, lambda p: VectorIndex.load(p, mmap=True))
    lexical = _load_part(generation / BM25_DIR, LexicalIndex.load)
    _check_counts(generation, manifest, store, vectors, lexical)
    return IndexSnapshot(generation, manifest, store, vectors, lexical)


def _open_store(path: Path) -> MetadataStore:
    if not path.is_file():
        raise FileNotFoundError(f"missing file {path.name}")
    store = MetadataStore(path, readonly=True)
    store.count("chunks")  # touch the file now, so damage shows at load time
    return store


def _load_part(path: Path, loader):
    try:
        return loader(path)
    # EOFError: a truncated .npy; TypeError/AttributeError: JSON of the wrong shape under bm25/.
    except (OSError, RuntimeError, ValueError, KeyError, EOFError, TypeError, AttributeError,
            sqlite3.DatabaseError) as exc:
        raise IndexCorruptError(f"The index file {path} is damaged or missing ({exc}). {REBUILD_HINT}") from exc


def _check_counts(generation: Path, manifest: dict, store, vectors, lexical) -> None:
    counts = {"manifest": manifest.get("chunks"), STORE: store.count("chunks"),
              VECTORS: len(vectors), BM25_DIR: len(lexical)}
    if len(set(counts.values())) != 1:
        raise IndexCorruptError(
            f"The index in {generation} is inconsistent (chunk counts {counts}). {REBUILD_HINT}"
        )


def fsync_tree(root: Path) -> None:
    """Flush every file and folder under ``root`` (and root itself) to disk."""
    for folder, _, files in os.walk(root):
        for name in files:
            _fsync_path(Path(folder) / name, os.O_RDONLY)
        _fsync_path(Path(folder), os.O_RDONLY | os.O_DIRECTORY)


def _fsync_path(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def switch_current(data_dir: Path, generation: Path) -> None:
    """Atomically make ``generation`` the live index."""
    tmp = data_dir / f".{CURRENT}.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(generation.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, data_dir / CURRENT)
    _fsync_path(data_dir, os.O_RDONLY | os.O_DIRECTORY)


def prune_generations(data_dir: Path, keep: Path) -> None:
    """Remove unfinished writes and every generation but ``keep`` and the one before it
    (kept so that a process still reading it is not cut off mid-query)."""
    for tmp in data_dir.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    older = sorted(p for p in data_dir.glob("gen-*") if p.is_dir() and p != keep)
    for old in older[:-1]:
        # The manifest goes first: a half-deleted folder must never look complete.
        (old / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(old, ignore_errors=True)
