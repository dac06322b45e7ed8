"""Build or update the index from a corpus: embed only what is new or changed, write the next
version through a ``SearchBackend``'s writer, which makes it live at once and whole."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from embeddings.encoders import Encoder
from embeddings.index.backend import GenerationWriter, SearchBackend
from embeddings.index.generations import check_compatible, expected_manifest
from embeddings.index.sentence_vectors import SentenceVectorsKind, can_pool, embed_chunks
from embeddings.index.store import MetadataStore
from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.models import Article, Chunk, Corpus, IndexReport


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


@dataclass(frozen=True)
class _Job:
    """What one index update needs besides the backend and the corpus."""

    encoder: Encoder
    config: ChunkingConfig
    expected: dict[str, Any]
    batch_size: int
    progress: IndexProgress | None
    sentence_vectors: SentenceVectorsKind = "pooled"


def update_index(
    backend: SearchBackend,
    corpus: Corpus,
    encoder: Encoder,
    config: ChunkingConfig,
    *,
    rebuild: bool = False,
    batch_size: int = 32,
    progress: IndexProgress | None = None,
    sentence_vectors: SentenceVectorsKind = "pooled",
) -> IndexReport:
    """Make the live index of ``backend`` reflect ``corpus``.

    Only new or changed articles (by content hash) are chunked and embedded; removed ones are
    dropped; an unchanged corpus writes nothing. ``rebuild`` starts from scratch (needed after a
    model or chunking change, which otherwise raises IndexMismatchError). Raises IndexBusyError
    if another writer holds the backend, and IndexWriteError when the storage refuses the write
    (disk full, quota, read-only, no permission): then nothing of the new version is left
    behind and the previous one stays live. ``sentence_vectors`` says how the sentences'
    vectors are made for the answers' evidence (see ``sentence_vectors``).
    """
    started = time.perf_counter()
    expected = expected_manifest(encoder.name, encoder.dimension, config)
    job = _Job(encoder, config, expected, batch_size, progress, sentence_vectors)
    with backend.writer(rebuild=rebuild) as writer:
        live = None if rebuild else backend.live_manifest()
        if live is not None:
            check_compatible(live, job.expected, backend.location)
        report = _update(job, writer, live, corpus)
    return dataclasses.replace(report, seconds=time.perf_counter() - started, rebuilt=rebuild)


def _update(job: _Job, writer: GenerationWriter, live: dict[str, Any] | None, corpus: Corpus) -> IndexReport:
    plan = _plan(corpus.articles, writer.article_hashes())
    if live is not None and not (plan.added or plan.changed or plan.removed):
        return IndexReport(unchanged=plan.unchanged, skipped=corpus.skipped, chunks_total=int(live.get("chunks") or 0))
    writer.delete_articles([a.id for a in plan.changed] + plan.removed)
    embedded = _embed_articles(job, writer, plan.added + plan.changed)
    stored = writer.publish(
        {**job.expected, "encoder": getattr(job.encoder, "variant", "unknown"), "sentence_vectors": _made(job)}
    )
    return IndexReport(
        added=tuple(a.id for a in plan.added),
        changed=tuple(a.id for a in plan.changed),
        removed=tuple(plan.removed),
        unchanged=plan.unchanged,
        skipped=corpus.skipped,
        chunks_embedded=embedded,
        chunks_total=int(stored["chunks"]),
    )


def _plan(articles: tuple[Article, ...], old_hashes: dict[str, str]) -> _Plan:
    current = {a.id for a in articles}
    added = [a for a in articles if a.id not in old_hashes]
    changed = [a for a in articles if a.id in old_hashes and old_hashes[a.id] != a.content_hash]
    removed = sorted(set(old_hashes) - current)
    return _Plan(added, changed, removed, len(articles) - len(added) - len(changed))


def _embed_articles(job: _Job, writer: GenerationWriter, articles: list[Article]) -> int:
    chunked: list[tuple[Article, list[Chunk]]] = [(a, chunk_article(a, job.encoder, job.config)) for a in articles]
    total = sum(len(chunks) for _, chunks in chunked)
    if job.progress:
        job.progress.begin(total)
    matrix, sentences = embed_chunks(
        job.encoder,
        [c for _, chunks in chunked for c in chunks],
        job.sentence_vectors,
        batch_size=job.batch_size,
        progress=job.progress.advance if job.progress else None,
    )
    row = 0
    for article, chunks in chunked:
        end = row + len(chunks)
        writer.add_article(article, chunks, matrix[row:end], None if sentences is None else sentences[row:end])
        row = end
    return total


def _made(job: _Job) -> str:
    """How this run made sentence vectors (recorded in the manifest, for information)."""
    if job.sentence_vectors == "pooled" and not can_pool(job.encoder):
        return "none"
    return job.sentence_vectors


def probe_queries(store: MetadataStore, encoder: Encoder, count: int = 200, words: int = 8) -> np.ndarray:
    """Query-like vectors to tune an approximate index on: the first ``words`` words of
    ``count`` chunks sampled at random (seeded), embedded."""
    ids = store.chunk_ids()
    picks = np.random.default_rng(7).choice(len(ids), size=min(count, len(ids)), replace=False)
    rows = store.chunks(ids[i] for i in picks)
    texts = [" ".join(chunk.text.split()[:words]) or chunk.heading for chunk, _ in rows.values()]
    return encoder.encode(texts)
