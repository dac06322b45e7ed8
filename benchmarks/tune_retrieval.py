"""Tune chunk size and fusion on SQuAD-format data: prints recall@k per setting.

.venv/bin/python benchmarks/tune_retrieval.py ../shared/eval/xquad-v1-en.json --chunk-tokens 64 96 128 192
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from embeddings import retrieval
from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder
from embeddings.evaluation import evaluate_retrieval, load_squad
from embeddings.index.indexer import update_index
from embeddings.index.local import LocalBackend
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.models import Corpus


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--chunk-tokens", type=int, nargs="+", default=[128])
    parser.add_argument("--limit", type=int)
    parser.add_argument("--rrf-k", type=int, nargs="+", default=[60])
    args = parser.parse_args()
    data = load_squad(args.file, limit=args.limit)
    encoder = SentenceTransformerEncoder()
    when = [q for q in data.questions if q.text.lower().startswith("when")]
    print(f"{len(data.articles)} articles, {len(data.questions)} questions")
    for tokens in args.chunk_tokens:
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            backend = LocalBackend(Path(tmp), probe_encoder=encoder)
            report = update_index(backend, Corpus(data.articles), encoder, ChunkingConfig(tokens, 1))
            took = time.perf_counter() - started
            r = retrieval.Retriever(backend.open_snapshot(), encoder)
            print(f"chunk_tokens={tokens}: {report.chunks_total} chunks in {took:.0f}s")
            for mode in ("bm25", "dense", "hybrid"):
                hybrid = mode == "hybrid"
                for rrf_k in args.rrf_k if hybrid else [retrieval.RRF_K]:
                    retrieval.RRF_K = rrf_k
                    extra = f" rrf_k={rrf_k}" if hybrid else ""
                    for label, subset in (("all", data.questions), ("when", when)):
                        s = evaluate_retrieval(lambda q, k, r=r, mode=mode: r.search(q, k, mode), subset)
                        print(
                            f"  {mode:6}{extra:22} {label:4} r@1 {s.recall[1]:.3f} r@5 {s.recall[5]:.3f} "
                            f"r@10 {s.recall[10]:.3f} mrr@10 {s.mrr_at_10:.3f} p50 {s.latency_ms_p50:.1f}ms"
                        )


if __name__ == "__main__":
    main()
