"""The local index on disk, at the lowest level: generations, the CURRENT pointer, the manifest,
fsync, the writer lock and the clean-up of failed writes (``local`` builds on these; it alone
writes and loads generations).

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

import contextlib
import fcntl
import gc
import json
import logging
import os
import shutil
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

from embeddings.errors import IndexBusyError, IndexCorruptError, IndexMismatchError, IndexWriteError, NewsbotError
from embeddings.ingest.chunking import ChunkingConfig

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CHUNKER_VERSION = 1  # bump when chunking logic changes, so old indexes ask for a rebuild
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
STORE = "store.sqlite"
VECTORS = "vectors.faiss"
BM25_DIR = "bm25"
REBUILD_HINT = "Rebuild it with `newsbot index --rebuild`."
_LOCK = ".lock"


def expected_manifest(model: str, dimension: int, config: ChunkingConfig) -> dict[str, Any]:
    """The manifest fields that must match for an index to be usable with this model/config."""
    return {
        "format_version": FORMAT_VERSION,
        "model": model,
        "dimension": dimension,
        "chunk_tokens": config.chunk_tokens,
        "overlap_sentences": config.overlap_sentences,
        "chunker_version": CHUNKER_VERSION,
    }


def check_compatible(manifest: dict[str, Any], expected: dict[str, Any], where: Path | str) -> None:
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


def read_manifest(generation: Path) -> dict[str, Any]:
    path = generation / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"The index file {path} is damaged ({exc}). {REBUILD_HINT}") from exc
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"The index file {path} is damaged (not an object). {REBUILD_HINT}")
    return manifest


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


def prune_generations(data_dir: Path, keep: Path | None) -> None:
    """Remove unfinished writes and every generation but ``keep`` and the one before it
    (kept so that a process still reading it is not cut off mid-query)."""
    for tmp in data_dir.glob(".tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)
    older = sorted(p for p in data_dir.glob("gen-*") if p.is_dir() and p != keep)
    for old in older[:-1]:
        # The manifest goes first: a half-deleted folder must never look complete.
        (old / MANIFEST).unlink(missing_ok=True)
        shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(data_dir: Path) -> Iterator[None]:
    """Hold the one writer's lock of ``data_dir``; IndexBusyError when another run has it."""
    with open(data_dir / _LOCK, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusyError(
                "The index is being updated by another run right now; try again when it finishes."
            ) from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@contextlib.contextmanager
def storage_faults(data_dir: Path) -> Iterator[None]:
    """Turn a refused write (disk full, read-only, ...) into IndexWriteError; other errors pass."""
    try:
        yield
    except NewsbotError:
        raise
    except Exception as exc:
        _raise_as(IndexWriteError.from_exception(exc, data_dir), exc)


@contextlib.contextmanager
def cleanup_on_failure(data_dir: Path) -> Iterator[None]:
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
        (data_dir / f".{CURRENT}.tmp").unlink(missing_ok=True)
