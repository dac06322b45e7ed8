"""Real text for the benchmarks, chunked and embedded once, then cached.

Sources (read from ``../shared``, never copied into the repository): 5,726 English Wikinews
articles, the SQuAD v1.1 dev articles and XQuAD English. SQuAD and XQuAD bring questions with
gold answers, used as the benchmark's queries and for recall.
"""

from __future__ import annotations

import hashlib
import json
import pickle
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from embeddings.evaluation import Question, load_squad
from embeddings.index.sentence_vectors import can_pool, embed_chunks, pack, unpack
from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.models import Article, Chunk

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
WIKINEWS = SHARED / "corpus" / "wikinews-en.jsonl"
SQUAD = SHARED / "eval" / "squad-v1.1-dev.json.zip"
XQUAD = SHARED / "eval" / "xquad-v1-en.json"
CACHE_VERSION = 1


@dataclass(frozen=True)
class RealCorpus:
    articles: tuple[Article, ...]
    chunks: tuple[tuple[Chunk, ...], ...]  # per article, in article order
    vectors: np.ndarray  # one row per chunk, articles in order
    questions: tuple[Question, ...]

    @property
    def chunk_count(self) -> int:
        return len(self.vectors)


def read_wikinews(path: Path = WIKINEWS, limit: int | None = None) -> list[Article]:
    articles = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            text = row["text"].strip()
            digest = hashlib.sha256(f"{row['title']}\x1f{text}".encode()).hexdigest()
            articles.append(
                Article(
                    row["id"],
                    row["title"],
                    text,
                    path.name,
                    digest,
                    published=row.get("published"),
                    source=row.get("source"),
                    url=row.get("url"),
                )
            )
            if limit and len(articles) >= limit:
                break
    return articles


def read_qa(path: Path, prefix: str) -> tuple[list[Article], list[Question]]:
    """A SQuAD-format file's articles and questions, ids prefixed so that files do not collide."""
    data = load_squad(path)
    articles = [
        Article(f"{prefix}-{a.id}", a.title, a.text, a.path, a.content_hash, source=a.source) for a in data.articles
    ]
    questions = [Question(q.id, q.text, q.answers, f"{prefix}-{q.article_id}") for q in data.questions]
    return articles, questions


def load_real(cache_dir: Path, encoder, *, config: ChunkingConfig = ChunkingConfig(), log=print) -> RealCorpus:
    """Every real article chunked and embedded with ``encoder`` (cached per encoder variant)."""
    variant = getattr(encoder, "variant", "unknown")
    cache = cache_dir / f"real-v{CACHE_VERSION}-{variant}-{config.chunk_tokens}.pkl"
    if cache.is_file():
        with open(cache, "rb") as fh:
            return pickle.load(fh)
    squad_articles, squad_questions = read_qa(SQUAD, "squad")
    xquad_articles, xquad_questions = read_qa(XQUAD, "xquad")
    articles = read_wikinews() + squad_articles + xquad_articles
    started = time.perf_counter()
    chunks = tuple(tuple(chunk_article(a, encoder, config)) for a in articles)
    texts = [c.embed_text for per in chunks for c in per]
    log(
        f"chunked {len(articles):,} articles into {len(texts):,} chunks "
        f"in {time.perf_counter() - started:.0f} s; embedding"
    )
    started = time.perf_counter()
    vectors = encoder.encode(texts, batch_size=32)
    log(f"embedded {len(texts):,} chunks in {time.perf_counter() - started:.0f} s")
    corpus = RealCorpus(tuple(articles), chunks, vectors, tuple(squad_questions + xquad_questions))
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache.with_suffix(".tmp"), "wb") as fh:
        pickle.dump(corpus, fh, protocol=pickle.HIGHEST_PROTOCOL)
    cache.with_suffix(".tmp").rename(cache)
    return corpus


SentenceScope = Literal["all", "questions"]


def load_sentence_vectors(
    cache_dir: Path, encoder, real: RealCorpus, *, scope: SentenceScope = "all", log=print
) -> list[np.ndarray | None] | None:
    """The real chunks' pooled sentence vectors (one matrix per chunk, in ``real.vectors``'
    row order), made as the indexer makes them (``embed_chunks(..., "pooled")``: the chunk
    pass's token outputs averaged per sentence) and cached beside the real corpus, packed the
    way the store keeps them. ``scope="questions"`` pools only the SQuAD and XQuAD articles'
    chunks (the benchmark's questions are about them; about an eighth of the model work) and
    gives None for the others. None when the encoder cannot pool spans (torch)."""
    if not can_pool(encoder):
        return None
    wanted = [scope == "all" or a.id.split("-")[0] in ("squad", "xquad") for a in real.articles]
    rows = [w for w, per in zip(wanted, real.chunks) for _ in per]
    variant = getattr(encoder, "variant", "unknown")
    cache = cache_dir / f"real-v{CACHE_VERSION}-{variant}-{real.chunk_count}-sentences-{scope}.pkl"
    if not cache.is_file():
        _pool_sentences(cache, encoder, real, rows, log)
    with open(cache, "rb") as fh:
        packed = iter(pickle.load(fh))
    dimension = real.vectors.shape[1]
    return [unpack(next(packed), dimension) if row else None for row in rows]


def _pool_sentences(cache: Path, encoder, real: RealCorpus, rows: list[bool], log) -> None:
    chunks = [c for per in real.chunks for c in per]
    chosen = [c for c, row in zip(chunks, rows) if row]
    done = [0]

    def progress(n: int) -> None:
        done[0] += n
        if done[0] % 3200 < n:
            log(f"  {done[0]:,} / {len(chosen):,} chunks pooled")

    started = time.perf_counter()
    vectors, sentences = embed_chunks(encoder, chosen, "pooled", batch_size=32, progress=progress)
    log(f"pooled the sentence vectors of {len(chosen):,} chunks in {time.perf_counter() - started:.0f} s")
    # The same model as the cached chunk vectors (int8 activations are scaled per batch, so
    # other batch-mates move a vector a little: min 0.989 seen): a low mean means another encoder.
    cosines = np.sum(vectors * real.vectors[np.flatnonzero(rows)], axis=1)
    log(f"cosine to the cached chunk vectors: mean {np.mean(cosines):.4f}, min {np.min(cosines, initial=1.0):.4f}")
    if len(cosines) and float(np.mean(cosines)) < 0.99:
        raise SystemExit(f"the sentence pass's chunk vectors differ from the cache's (mean cosine {np.mean(cosines)})")
    assert sentences is not None
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.with_suffix(".tmp"), "wb") as fh:
        pickle.dump([pack(m) for m in sentences], fh, protocol=pickle.HIGHEST_PROTOCOL)
    cache.with_suffix(".tmp").rename(cache)
