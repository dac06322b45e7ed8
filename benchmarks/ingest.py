"""Ingest throughput per encoder backend, on the same real articles, in the same run.

    python -m benchmarks.ingest [--articles 400] [--backends torch onnx onnx-int8 auto]

Each backend runs in its own process (for a clean peak memory): load the model, index the first
N Wikinews articles through the engine (chunk, embed, write), embed the same chunks once more
for the encoder's own throughput, then index the unchanged corpus again (which must embed
nothing). torch fp32 is the baseline; ratios are against it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .machine import machine
from .probe import memory
from .realdata import read_wikinews

BACKENDS = ("torch", "onnx", "onnx-int8", "auto")


def folder_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 2)


def child(backend: str, articles: int, cache: Path) -> dict:
    from embeddings.encoders import load_encoder
    from embeddings.engine import Engine
    from embeddings.ingest.chunking import chunk_article
    from embeddings.models import Corpus
    from embeddings.settings import EngineSettings

    corpus = Corpus(tuple(read_wikinews(limit=articles)))
    with tempfile.TemporaryDirectory() as tmp:
        settings = EngineSettings(_env_file=None, data_dir=Path(tmp), encoder_backend=backend, model_cache_dir=cache)
        started = time.perf_counter()
        encoder = load_encoder(settings)
        load_s = time.perf_counter() - started
        engine = Engine(settings, encoder)
        started = time.perf_counter()
        report = engine.index_corpus(corpus)
        index_s = time.perf_counter() - started
        chunks = [c for a in corpus.articles for c in chunk_article(a, encoder, engine.config)]
        started = time.perf_counter()
        encoder.encode([c.embed_text for c in chunks], batch_size=settings.encode_batch_size)
        embed_s = time.perf_counter() - started
        again = engine.index_corpus(corpus)
        return {
            "backend": backend,
            "variant": getattr(encoder, "variant", backend),
            "reason": getattr(encoder, "reason", ""),
            "model_load_s": round(load_s, 2),
            "articles": len(corpus.articles),
            "chunks": report.chunks_embedded,
            "tokens": sum(c.tokens for c in chunks),
            "index_s": round(index_s, 2),
            "index_chunks_per_s": round(report.chunks_embedded / index_s, 1),
            "embed_s": round(embed_s, 2),
            "embed_chunks_per_s": round(len(chunks) / embed_s, 1),
            "embed_tokens_per_s": round(sum(c.tokens for c in chunks) / embed_s),
            "reindex_unchanged_embedded": again.chunks_embedded,
            "reindex_unchanged_s": round(again.seconds, 2),
            "index_mb": folder_mb(Path(engine.status().path)),
            "peak_rss_mb": memory()["peak_mb"],
        }


def run(articles: int, backends: tuple[str, ...], cache: Path, log=print) -> list[dict]:
    rows = []
    for backend in backends:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.ingest",
                "--child",
                backend,
                "--articles",
                str(articles),
                "--cache",
                str(cache),
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        if out.returncode:
            raise SystemExit(f"{backend} failed:\n{out.stderr[-3000:]}")
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        log(json.dumps(rows[-1]))
    base = next((r for r in rows if r["backend"] == "torch"), None)
    for r in rows:
        if base:
            r["embed_speedup"] = round(r["embed_chunks_per_s"] / base["embed_chunks_per_s"], 2)
            r["index_speedup"] = round(r["index_chunks_per_s"] / base["index_chunks_per_s"], 2)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=400)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS))
    parser.add_argument("--cache", type=Path, default=Path("data/models"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.articles, args.cache)))
        return
    print(json.dumps(machine()))
    for row in run(args.articles, tuple(args.backends), args.cache):
        print(
            f"{row['backend']:>10} ({row['variant']}): embed {row['embed_chunks_per_s']:6.1f} chunks/s "
            f"({row['embed_tokens_per_s']:,} tokens/s, ×{row.get('embed_speedup', 1):.2f}), "
            f"index {row['index_chunks_per_s']:6.1f} chunks/s (×{row.get('index_speedup', 1):.2f}), "
            f"peak RSS {row['peak_rss_mb']} MB, index {row['index_mb']} MB"
        )


if __name__ == "__main__":
    main()
