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


def load_sentence_vectors(cache_dir: Path, encoder, real: RealCorpus, *, log=print) -> list[np.ndarray] | None:
    """Every real chunk's pooled sentence vectors (one matrix per chunk, in ``real.vectors``'
    row order), made as the indexer makes them (``embed_chunks(..., "pooled")``: the chunk
    pass's token outputs averaged per sentence) and cached beside the real corpus, packed the
    way the store keeps them. None when the encoder cannot pool spans (torch)."""
    if not can_pool(encoder):
        return None
    variant = getattr(encoder, "variant", "unknown")
    cache = cache_dir / f"real-v{CACHE_VERSION}-{variant}-{real.chunk_count}-sentences.pkl"
    if not cache.is_file():
        chunks = [c for per in real.chunks for c in per]
        started = time.perf_counter()
        done = [0]

        def progress(n: int) -> None:
            done[0] += n
            if done[0] % 3200 < n:
                log(f"  {done[0]:,} / {len(chunks):,} chunks pooled")

        vectors, sentences = embed_chunks(encoder, chunks, "pooled", batch_size=32, progress=progress)
        log(f"pooled the sentence vectors of {len(chunks):,} chunks in {time.perf_counter() - started:.0f} s")
        # The same model pass as the cached chunk vectors: a mismatch means another encoder.
        agreement = float(np.min(np.sum(vectors * real.vectors, axis=1)))
        if agreement < 0.999:
            raise SystemExit(f"the chunk vectors of the sentence pass differ from the cache's (min cosine {agreement})")
        assert sentences is not None
        cache_dir.mkdir(parents=True, exist_ok=True)
        with open(cache.with_suffix(".tmp"), "wb") as fh:
            pickle.dump([pack(m) for m in sentences], fh, protocol=pickle.HIGHEST_PROTOCOL)
        cache.with_suffix(".tmp").rename(cache)
    with open(cache, "rb") as fh:
        packed = pickle.load(fh)
    return [unpack(blob, real.vectors.shape[1]) for blob in packed]
