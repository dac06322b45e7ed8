"""Long articles and chunk size (issue 11): passage-level retrieval over long documents, per way
of chunking, on three stand-in measures, with a naive baseline built the same way.

    .venv/bin/python -m benchmarks.long_articles --cache /tmp/s7-chunks/long \\
        --sets squad natural xquad --chunkings naive200 128/1 160/1 200/1 256/1 [--article-weight 0 0.2]

- ``squad``: SQuAD v1.1 dev with each Wikipedia article's paragraphs joined into one document
  (``evaluation.load_squad``: 48 documents of tens of paragraphs), all 10,570 questions; split
  by ``split_of`` of the article id (dev / test).
- ``natural``: the natural questions (``benchmarks/questions``) whose article has at least
  ``--min-chars`` characters, over their articles plus ``--others`` random Wikinews articles
  that long (issue 11's news quiz was all long articles); their own split.
- ``xquad``: XQuAD English indexed as ``newsbot eval`` does (every 5th article held out), its
  present questions (the gate: recall@5 ≥ 0.975).

A chunking is ``TOKENS/OVERLAP`` (``ChunkingConfig``, through ``update_index``) or ``naiveN``:
plain windows of N words with the headline prepended (the encoder truncates them at its window),
searched by the same hybrid. A hit is a retrieved chunk of the question's own article holding
the answer (SQuAD normalisation; the natural questions' regexes). ``--article-weight`` w adds an
article-level signal: a chunk's fused score becomes (1 - w) x its own + w x the best other
chunk of its article among the candidates. Indexes and question vectors are cached in
``--cache``; prints one line per set, split, chunking and weight, and appends them as JSON to
``--cache``/results.jsonl. ``--cost`` instead times chunking and embedding the set's articles
for each ``TOKENS/OVERLAP`` chunking, interleaved over two rounds (nothing is cached).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from embeddings.encoders import Encoder, load_encoder
from embeddings.encoders.base import Progress
from embeddings.evaluation import load_squad, normalize_answer, split_holdout
from embeddings.index.generations import expected_manifest
from embeddings.index.indexer import update_index
from embeddings.index.local import LocalBackend
from embeddings.index.sentence_vectors import embed_chunks
from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.models import Article, Chunk, Corpus, Hit, Sentence
from embeddings.natural.corpora import read_corpus_file
from embeddings.natural.questions import load_questions, split_of
from embeddings.retrieval import Retriever, fuse
from embeddings.settings import EngineSettings

SQUAD = Path("/work/shared/eval/squad-v1.1-dev.json.zip")
XQUAD = Path("/work/shared/eval/xquad-v1-en.json")
CORPUS = Path("/work/shared/corpus/wikinews-en.jsonl")
KS = (1, 5, 10)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Probe:
    """One question: its text, its article and the test a chunk's text must pass."""

    text: str
    article_id: str
    split: str
    holds: Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class Bench:
    """One measure: the articles to index and the questions to ask."""

    name: str
    articles: tuple[Article, ...]
    probes: tuple[Probe, ...]


def _squad_holds(answers: Sequence[str]) -> Callable[[str], bool]:
    golds = [f" {n} " for n in (normalize_answer(a) for a in answers) if n]
    return lambda text: any(g in f" {normalize_answer(text)} " for g in golds)


def squad_bench(every: int) -> Bench:
    data = load_squad(SQUAD)
    probes = tuple(
        Probe(q.text, q.article_id, split_of(q.article_id), _squad_holds(q.answers)) for q in data.questions[::every]
    )
    return Bench("squad", data.articles, probes)


def xquad_bench() -> Bench:
    indexed, _ = split_holdout(load_squad(XQUAD), 5)  # as ``newsbot eval`` (holdout 5)
    probes = tuple(Probe(q.text, q.article_id, "all", _squad_holds(q.answers)) for q in indexed.questions)
    return Bench("xquad", indexed.articles, probes)


def natural_bench(questions: Path, min_chars: int, others: int) -> Bench:
    corpus, _ = read_corpus_file(CORPUS)
    by_id = {a.id: a for a in corpus.articles}
    asked = [q for q in load_questions(questions) if q.article_id and len(by_id[q.article_id].text) >= min_chars]
    own = sorted({q.article_id for q in asked if q.article_id})
    named = {a for q in load_questions(questions) for a in q.anchors}
    pool = sorted(a.id for a in corpus.articles if len(a.text) >= min_chars and a.id not in named)
    chosen = own + random.Random(11).sample(pool, min(others, len(pool)))
    probes = tuple(Probe(q.question, q.article_id or "", q.split, q.holds_answer) for q in asked)
    return Bench("natural", tuple(by_id[a] for a in chosen), probes)


def naive_chunks(article: Article, words: int) -> list[Chunk]:
    """Plain windows of ``words`` words, no sentence boundaries, headline prepended."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(article.text)]
    chunks = []
    for ordinal, i in enumerate(range(0, len(spans), words)):
        start, end = spans[i][0], spans[min(i + words, len(spans)) - 1][1]
        text = article.text[start:end]
        chunks.append(Chunk(article.id, ordinal, start, end, text, (Sentence(start, end),), article.title, 0))
    return chunks


def build(folder: Path, bench: Bench, chunking: str, encoder: Encoder) -> dict[str, float]:
    """The index of ``bench`` cut by ``chunking`` in ``folder`` (built once); its size and cost."""
    backend = LocalBackend(folder, probe_encoder=encoder)
    stats = folder / "stats.json"
    if (folder / "CURRENT").exists() and stats.exists():
        return dict(json.loads(stats.read_text()))
    started = time.perf_counter()
    if chunking.startswith("naive"):
        chunks = _build_naive(backend, bench.articles, int(chunking[5:]), encoder)
    else:
        tokens, overlap = (int(x) for x in chunking.split("/"))
        config = ChunkingConfig(tokens, overlap)
        chunks = update_index(backend, Corpus(bench.articles), encoder, config, rebuild=True).chunks_total
    seconds = time.perf_counter() - started
    out = {"chunks": chunks, "per_article": chunks / len(bench.articles), "build_s_per_1k": 1000 * seconds / chunks}
    stats.write_text(json.dumps(out) + "\n")
    return out


def _build_naive(backend: LocalBackend, articles: Sequence[Article], words: int, encoder: Encoder) -> int:
    cut = [(a, naive_chunks(a, words)) for a in articles]
    matrix, _ = embed_chunks(encoder, [c for _, cs in cut for c in cs], "none")
    with backend.writer(rebuild=True) as writer:
        row = 0
        for article, chunks in cut:
            writer.add_article(article, chunks, matrix[row : row + len(chunks)])
            row += len(chunks)
        writer.publish(expected_manifest(encoder.name, encoder.dimension, ChunkingConfig(words, 1)))
    return row


class QueryVectors:
    """An ``Encoder`` for questions that keeps every vector it made in a file, so each chunking
    is searched with the same vectors and questions are encoded once over all runs."""

    def __init__(self, encoder: Encoder, path: Path) -> None:
        self.encoder, self.path = encoder, path
        self.name, self.dimension, self.max_tokens = encoder.name, encoder.dimension, encoder.max_tokens
        self.vectors: dict[bytes, np.ndarray] = {}
        if path.exists():
            data = np.load(path)
            self.vectors = dict(zip((bytes(k) for k in data["keys"]), data["vectors"], strict=True))

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).digest() for t in texts]
        missing = [t for t, k in zip(texts, keys, strict=True) if k not in self.vectors]
        if missing:
            encoded = self.encoder.encode(missing, batch_size=batch_size)
            self.vectors.update((hashlib.sha1(t.encode()).digest(), v) for t, v in zip(missing, encoded, strict=True))
        return np.stack([self.vectors[k] for k in keys])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.encoder.count_tokens(texts)

    def save(self) -> None:
        keys = np.array(list(self.vectors), dtype="S20")
        np.savez(self.path, keys=keys, vectors=np.stack(list(self.vectors.values())))


def search(retriever: Retriever, query: str, k: int, article_weight: float) -> list[Hit]:
    """The hybrid search; with ``article_weight``, each candidate's fused score is mixed with the
    best score among the other candidates of its article."""
    if not article_weight:
        return retriever.search(query, k)
    depth = max(retriever.depth, 4 * k)
    dense = retriever.snapshot.dense_candidates(retriever.embed_query(query), depth)
    candidates = fuse(dense, retriever.snapshot.lexical_candidates(query, depth), retriever.fusion)
    rows = retriever.snapshot.chunks(c.chunk_id for c in candidates)
    article = {c.chunk_id: rows[c.chunk_id][1].id if c.chunk_id in rows else "" for c in candidates}
    firsts: dict[str, list[float]] = {}  # the best two scores of each article, best first
    for c in candidates:  # best first
        group = firsts.setdefault(article[c.chunk_id], [])
        if len(group) < 2:
            group.append(c.score)
    mixed, seen = [], set()
    for c in candidates:
        own, group = article[c.chunk_id], firsts[article[c.chunk_id]]
        other = group[0] if own in seen else group[1] if len(group) > 1 else 0.0  # its article's best other chunk
        seen.add(own)
        mixed.append(replace(c, score=(1 - article_weight) * c.score + article_weight * other))
    mixed.sort(key=lambda c: -c.score)
    return retriever._hits(mixed, k)  # a benchmark may reach in: the same collapsing of duplicates


def score(retriever: Retriever, probes: Sequence[Probe], article_weight: float) -> dict[str, float]:
    """Recall@1/5/10, MRR@10 and the share whose article is in the first 5, passage level."""
    ranks: list[int | None] = []
    article_hits = 0
    for probe in probes:
        hits = search(retriever, probe.text, max(KS), article_weight)
        own = [h.article.id == probe.article_id for h in hits]
        ranks.append(next((r for r, h in enumerate(hits, 1) if own[r - 1] and probe.holds(h.chunk.text)), None))
        article_hits += any(own[:5])
    n = max(1, len(probes))
    out = {f"recall@{k}": sum(1 for r in ranks if r and r <= k) / n for k in KS}
    out["mrr@10"] = sum(1 / r for r in ranks if r) / n
    out["article@5"] = article_hits / n
    return {"questions": len(probes), **{k: round(v, 4) for k, v in out.items()}}


def cost(bench: Bench, chunkings: Sequence[str], encoder: Encoder, rounds: int = 2) -> None:
    """Chunking and embedding (pooled sentence vectors, as an index build) of ``bench``'s
    articles, each ``TOKENS/OVERLAP`` chunking in turn, interleaved over ``rounds``."""
    configs = [ChunkingConfig(*(int(x) for x in c.split("/"))) for c in chunkings if not c.startswith("naive")]
    for r in range(rounds):
        for config in configs if r % 2 == 0 else configs[::-1]:
            started = time.perf_counter()
            chunks = [c for a in bench.articles for c in chunk_article(a, encoder, config)]
            embed_chunks(encoder, chunks, "pooled")
            seconds = time.perf_counter() - started
            row = {"set": bench.name, "round": r, "chunk_tokens": config.chunk_tokens, "chunks": len(chunks)}
            print(json.dumps({**row, "seconds": round(seconds, 1), "s_per_1k": round(1000 * seconds / len(chunks), 1)}))


def benches(names: Sequence[str], args: argparse.Namespace) -> list[Bench]:
    made = {"squad": lambda: squad_bench(args.squad_every), "xquad": xquad_bench}
    return [made[n]() if n in made else natural_bench(args.questions, args.min_chars, args.others) for n in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--sets", nargs="+", default=["squad", "natural", "xquad"])
    parser.add_argument("--chunkings", nargs="+", default=["naive200", "160/1"])
    parser.add_argument("--article-weight", nargs="+", type=float, default=[0.0])
    parser.add_argument("--questions", type=Path, default=Path("benchmarks/questions"))
    parser.add_argument("--min-chars", type=int, default=3000)
    parser.add_argument("--others", type=int, default=200)
    parser.add_argument("--squad-every", type=int, default=1, help="ask every Nth SQuAD question only")
    parser.add_argument("--cost", action="store_true", help="time chunking and embedding instead, interleaved")
    args = parser.parse_args()
    encoder = load_encoder(EngineSettings(_env_file=None))
    args.cache.mkdir(parents=True, exist_ok=True)
    if args.cost:
        for bench in benches(args.sets, args):
            cost(bench, args.chunkings, encoder)
        return
    queries = QueryVectors(encoder, args.cache / "questions.npz")
    with (args.cache / "results.jsonl").open("a") as results:
        for bench in benches(args.sets, args):
            for chunking in args.chunkings:
                run(bench, chunking, encoder, queries, args, results)
                queries.save()


def run(bench: Bench, chunking: str, encoder: Encoder, queries: QueryVectors, args: argparse.Namespace, out) -> None:
    folder = args.cache / f"{bench.name}-{args.others if bench.name == 'natural' else ''}-{chunking.replace('/', '-')}"
    size = build(folder, bench, chunking, encoder)
    retriever = Retriever(LocalBackend(folder).open_snapshot(), queries)  # type: ignore[arg-type]
    for weight in args.article_weight:
        for split in sorted({p.split for p in bench.probes}):
            scores = score(retriever, [p for p in bench.probes if p.split == split], weight)
            row = {"set": bench.name, "split": split, "chunking": chunking, "article_weight": weight, **scores, **size}
            print(json.dumps(row), flush=True)
            out.write(json.dumps(row) + "\n")
            out.flush()  # a stopped run keeps its finished rows


if __name__ == "__main__":
    main()
