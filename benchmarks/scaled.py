"""Index generations of a chosen size, built from real text and real embeddings.

Up to the size of the real corpus (about 23k chunks) a generation holds real articles only
(XQuAD first, then SQuAD dev, then Wikinews, so that the benchmark's questions find their
articles). Past it, articles are repeated as numbered copies: the copy's text is the original's,
word for word (so BM25 sees the same words more often), and each copy's vectors are the
original's plus Gaussian noise scaled to a cosine of about 0.78–0.93 to the original, like a
paraphrase. That is synthetic, and the benchmark report says so. Given the real chunks' pooled
sentence vectors (``realdata.load_sentence_vectors``), every chunk stores them as an index
built with ``NEWSBOT_SENTENCE_VECTORS=pooled`` does, a copy its original's (its text is the
original's), so semantic evidence reads them at every size as it does in a real index.

The generation is written by the engine's own ``LocalGenerationWriter``, as the indexer writes
one (store, BM25, vector index with IVF above ``ann_min_vectors`` and nprobe tuned on the
indexer's own probe queries, manifest, publishing); only chunking and embedding of the chunks
are skipped (they were done once, for the real corpus).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from embeddings.index.generations import expected_manifest
from embeddings.index.local import LocalBackend, LocalGenerationWriter
from embeddings.index.vectors import ANN_MIN_VECTORS
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.timing import recording

from .realdata import RealCorpus

COPY_MARK = "~"


def original_id(article_id: str) -> str:
    """The real article a (possibly copied) article id comes from."""
    return article_id.split(COPY_MARK, 1)[0]


def _order(real: RealCorpus) -> list[int]:
    rank = {"xquad": 0, "squad": 1}
    return sorted(range(len(real.articles)), key=lambda i: (rank.get(real.articles[i].id.split("-")[0], 2), i))


def build_scaled(
    real: RealCorpus,
    target: int,
    data_dir: Path,
    *,
    encoder,
    seed: int = 0,
    ann_min_vectors: int = ANN_MIN_VECTORS,
    sentences: Sequence[np.ndarray | None] | None = None,
    log=print,
) -> dict:
    """Write a generation of about ``target`` chunks into ``data_dir`` and make it live, with
    ``sentences`` (one matrix per real chunk, in ``real.vectors``' row order, None for a chunk
    without) stored as the chunks' sentence vectors when given (an article's only when every
    chunk of it has them). Returns what was built (counts, copies, seconds per
    step, whether sentence vectors were stored)."""
    backend = LocalBackend(data_dir, ann_min_vectors=ann_min_vectors, probe_encoder=encoder)
    timings: dict[str, float] = {}
    with backend.writer(rebuild=True) as writer:
        started = time.perf_counter()
        copies = _add_articles(writer, real, target, np.random.default_rng(seed), sentences)
        timings["store_and_vectors_s"] = time.perf_counter() - started
        manifest = {
            **expected_manifest(encoder.name, real.vectors.shape[1], ChunkingConfig()),
            "encoder": "benchmark (real embeddings, synthetic copies)",
            "sentence_vectors": sentence_kind(sentences),
        }
        with recording() as stages:
            manifest = writer.publish(manifest)
    timings["bm25_s"], timings["vector_index_s"] = stages["bm25_index"], stages["vector_index"]
    log(f"built {manifest['chunks']:,} chunks ({copies} passes over the real corpus) in {data_dir}: {timings}")
    return {
        "chunks": manifest["chunks"],
        "articles": manifest["articles"],
        "passes": copies,
        "sentence_vectors": "pooled" if sentences is not None else "none",
        "vector_index": manifest["vector_index"],
        **{k: round(v, 1) for k, v in timings.items()},
    }


def _add_articles(
    writer: LocalGenerationWriter,
    real: RealCorpus,
    target: int,
    rng: np.random.Generator,
    sentences: Sequence[np.ndarray | None] | None,
) -> int:
    """Add real articles, then numbered copies with perturbed vectors (and their original's
    sentence vectors), until about ``target`` chunks; returns the number of passes over the
    real corpus."""
    if sentences is not None and len(sentences) != real.chunk_count:
        raise ValueError(f"{len(sentences)} sentence matrices for {real.chunk_count} chunks")
    offsets = np.cumsum([0] + [len(c) for c in real.chunks])
    copies, total, order = 0, 0, _order(real)
    while total < target:
        for i in order:
            article, chunks = real.articles[i], real.chunks[i]
            if not chunks:
                continue
            if copies:
                article = dataclasses.replace(
                    article, id=f"{article.id}{COPY_MARK}{copies}", title=f"{article.title} ({copies})"
                )
                chunks = tuple(dataclasses.replace(c, article_id=article.id) for c in chunks)
            block = real.vectors[offsets[i] : offsets[i + 1]]
            rows = list(sentences[offsets[i] : offsets[i + 1]]) if sentences is not None else []
            stored = [m for m in rows if m is not None] if all(m is not None for m in rows) else None
            writer.add_article(article, chunks, _perturb(block, rng) if copies else block, stored or None)
            total += len(chunks)
            if total >= target:
                break
        copies += 1
    return copies


def sentence_kind(sentences: Sequence[np.ndarray | None] | None) -> str:
    """What the manifest says of the stored sentence vectors: every chunk's, some or none."""
    present = sum(m is not None for m in sentences or ())
    return "none" if not present else "pooled" if present == len(sentences or ()) else "pooled-partial"


def _perturb(block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Noise of norm s per vector gives a cosine of about 1/sqrt(1+s^2) to the original.
    scale = rng.uniform(0.4, 0.8)
    noise = rng.standard_normal(block.shape).astype(np.float32) * (scale / np.sqrt(block.shape[1]))
    out = block + noise
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
