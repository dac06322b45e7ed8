"""Index generations of a chosen size, built from real text and real embeddings.

Up to the size of the real corpus (about 23k chunks) a generation holds real articles only
(XQuAD first, then SQuAD dev, then Wikinews, so that the benchmark's questions find their
articles). Past it, articles are repeated as numbered copies: the copy's text is the original's,
word for word (so BM25 sees the same words more often), and each copy's vectors are the
original's plus Gaussian noise scaled to a cosine of about 0.78–0.93 to the original, like a
paraphrase. That is synthetic, and the benchmark report says so.

The generation is written with the engine's own store, vector index (IVF above
``ann_min_vectors``, nprobe tuned on the indexer's own probe queries) and BM25 classes and
published the same way the indexer does; only chunking and embedding of the chunks are skipped
(they were done once, for the real corpus).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from embeddings.ingest.chunking import ChunkingConfig
from embeddings.index.generations import (BM25_DIR, MANIFEST, STORE, VECTORS, expected_manifest, fsync_tree,
                              switch_current)
from embeddings.index.indexer import probe_queries
from embeddings.index.lexical import LexicalIndex
from embeddings.index.store import MetadataStore
from embeddings.index.vectors import ANN_MIN_VECTORS, VectorIndex

from .realdata import RealCorpus

COPY_MARK = "~"


def original_id(article_id: str) -> str:
    """The real article a (possibly copied) article id comes from."""
    return article_id.split(COPY_MARK, 1)[0]


def _order(real: RealCorpus) -> list[int]:
    rank = {"xquad": 0, "squad": 1}
    return sorted(range(len(real.articles)), key=lambda i: (rank.get(real.articles[i].id.split("-")[0], 2), i))


def build_scaled(real: RealCorpus, target: int, data_dir: Path, *, encoder, seed: int = 0,
                 ann_min_vectors: int = ANN_MIN_VECTORS, log=print) -> dict:
    """Write a generation of about ``target`` chunks into ``data_dir`` and make it live.
    Returns what was built (counts, copies, seconds per step)."""
    rng = np.random.default_rng(seed)
    offsets = np.cumsum([0] + [len(c) for c in real.chunks])
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / f".tmp-{secrets.token_hex(4)}"
    tmp.mkdir()
    store = MetadataStore(tmp / STORE)
    vectors = VectorIndex.empty(real.vectors.shape[1])
    timings, copies, total = {}, 0, 0
    started = time.perf_counter()
    order = _order(real)
    while total < target:
        for i in order:
            article, chunks = real.articles[i], real.chunks[i]
            if not chunks:
                continue
            if copies:
                article = dataclasses.replace(article, id=f"{article.id}{COPY_MARK}{copies}",
                                              title=f"{article.title} ({copies})")
                chunks = [dataclasses.replace(c, article_id=article.id) for c in chunks]
            ids = store.add_article(article, list(chunks))
            block = real.vectors[offsets[i] : offsets[i + 1]]
            vectors.add(ids, _perturb(block, rng) if copies else block)
            total += len(ids)
            if total >= target:
                break
        copies += 1
    timings["store_and_vectors_s"] = time.perf_counter() - started
    started = time.perf_counter()
    ids, texts = zip(*store.iter_chunk_texts())
    LexicalIndex.build(ids, texts).save(tmp / BM25_DIR)
    del texts
    timings["bm25_s"] = time.perf_counter() - started
    started = time.perf_counter()
    vectors = vectors.fitted(min_ann=ann_min_vectors, probes=lambda: probe_queries(store, encoder))
    vectors.save(tmp / VECTORS)
    timings["vector_index_s"] = time.perf_counter() - started
    manifest = {**expected_manifest(encoder.name, vectors.dimension, ChunkingConfig()),
                "articles": store.count("articles"), "chunks": len(vectors), "vector_index": vectors.describe(),
                "encoder": "benchmark (real embeddings, synthetic copies)",
                "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    store.set_meta(manifest)
    store.close()
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    fsync_tree(tmp)
    generation = data_dir / f"gen-{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
    tmp.rename(generation)
    switch_current(data_dir, generation)
    log(f"built {len(vectors):,} chunks ({copies} passes over the real corpus) in {data_dir}: {timings}")
    return {"chunks": len(vectors), "articles": manifest["articles"], "passes": copies,
            "vector_index": vectors.describe(), **{k: round(v, 1) for k, v in timings.items()}}


def _perturb(block: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    # Noise of norm s per vector gives a cosine of about 1/sqrt(1+s^2) to the original.
    scale = rng.uniform(0.4, 0.8)
    noise = rng.standard_normal(block.shape).astype(np.float32) * (scale / np.sqrt(block.shape[1]))
    out = block + noise
    return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)
