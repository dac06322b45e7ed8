"""``newsbot migrate``: copy a local index generation into the database as it is, with its
vectors (nothing is embedded again): the chunks, their vectors and the articles go through the
database writer, which weighs BM25 afresh from the same texts."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np

from embeddings.index.generations import expected_manifest
from embeddings.index.local import LocalBackend
from embeddings.index.pg.backend import PostgresBackend
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.models import Article, Chunk

_BATCH = 5_000  # chunk ids read from the local store at a time
_KEPT = {*expected_manifest("", 0, ChunkingConfig()), "encoder"}  # what describes the vectors, not the files


def migrate(
    source: LocalBackend,
    target: PostgresBackend,
    progress: Callable[[int], None] | None = None,
    *,
    bulk: bool = True,
) -> dict[str, Any]:
    """Copy the live generation of ``source`` into ``target`` as its new live generation
    (replacing whatever it held); returns the stored manifest. Into an empty database the rows
    go in first and the search indexes are built afterwards (``bulk=False``: row by row into
    the indexes, as an update does). IndexMissingError when ``source`` has no index,
    IndexBusyError when the database is being written."""
    snapshot = source.open_snapshot()
    try:
        ids, vectors = snapshot.vectors.contents()
        row_of = {int(i): n for n, i in enumerate(ids)}
        chunks: dict[str, list[tuple[Chunk, int, int]]] = defaultdict(list)  # chunk, vector row, chunk id
        for start in range(0, len(ids), _BATCH):
            for chunk_id, (chunk, _) in snapshot.store.chunks(ids[start : start + _BATCH]).items():
                chunks[chunk.article_id].append((chunk, row_of[chunk_id], chunk_id))
        manifest = {k: v for k, v in snapshot.manifest.items() if k in _KEPT}
        with target.writer(rebuild=True, bulk=bulk) as writer:
            for article in snapshot.store.articles(with_text=True):
                rows = sorted(chunks.get(article.id, []), key=lambda p: p[0].ordinal)
                _add(writer, article, rows, vectors, snapshot.sentence_vectors(i for _, _, i in rows))
                if progress:
                    progress(len(chunks.get(article.id, [])))
            return writer.publish(manifest)
    finally:
        snapshot.close()


def _add(
    writer: Any,
    article: Article,
    rows: list[tuple[Chunk, int, int]],
    vectors: np.ndarray,
    sentences: dict[int, np.ndarray],
) -> None:
    """One article's chunks with their vectors, and their sentence vectors when every chunk has them."""
    matrix = vectors[[row for _, row, _ in rows]] if rows else np.zeros((0, vectors.shape[1]), np.float32)
    complete = bool(rows) and all(i in sentences for _, _, i in rows)
    stored = [sentences[i] for _, _, i in rows] if complete else None
    writer.add_article(article, [chunk for chunk, _, _ in rows], matrix, stored)
