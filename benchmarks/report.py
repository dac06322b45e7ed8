"""Markdown tables of a benchmark run, for docs/BENCHMARKS.md.

python -m benchmarks.report [data/bench/results.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def ingest(results: dict) -> str:
    rows = []
    for r in results["ingest"]:
        rows.append(
            [
                r["variant"],
                r["model_load_s"],
                r["embed_chunks_per_s"],
                f"{r['embed_tokens_per_s']:,}",
                f"×{r.get('embed_speedup', 1):.2f}",
                r["index_chunks_per_s"],
                f"×{r.get('index_speedup', 1):.2f}",
                r["peak_rss_mb"],
                r["index_mb"],
                r["reindex_unchanged_embedded"],
            ]
        )
    return table(
        [
            "encoder",
            "model load s",
            "embed chunks/s",
            "embed tokens/s",
            "vs torch",
            "index build chunks/s",
            "vs torch",
            "peak RSS MiB",
            "index MiB",
            "re-index unchanged: embedded",
        ],
        rows,
    )


def latency(results: dict) -> str:
    rows = []
    for p in results["scale"]:
        ms = p["latency_ms"]
        rows.append(
            [f"{p['chunks']:,}", _kind(p)]
            + [f"{ms[s]['p50']} / {ms[s]['p95']}" for s in ("encode", "dense", "bm25", "fusion", "answer")]
            + [f"**{ms['total']['p50']}** / {ms['total']['p95']} / {ms['total']['p99']}"]
        )
    return table(
        [
            "chunks",
            "dense index",
            "encode",
            "dense",
            "BM25",
            "fusion + passages",
            "answer composition",
            "end to end p50 / p95 / p99",
        ],
        rows,
    )


def _kind(p: dict) -> str:
    v = p["vector_index"]
    return "exact" if v["kind"] == "flat" else f"IVF {v['nlist']} cells, nprobe {v['nprobe']}"


def memory(results: dict) -> str:
    rows = []
    for p in results["scale"]:
        m, load = p["memory_after_queries"], p["memory_after_load"]
        files = p["disk_files_mb"]
        rows.append(
            [
                f"{p['chunks']:,}",
                load["rss_mb"],
                m["rss_mb"],
                m["anon_mb"],
                m["file_mb"],
                m["peak_mb"],
                p["disk_mb"],
                files.get("vectors.faiss"),
                files.get("bm25"),
                files.get("store.sqlite"),
            ]
        )
    return table(
        [
            "chunks",
            "RSS after load",
            "RSS after queries",
            "of it anonymous",
            "of it mapped files",
            "peak RSS",
            "disk MiB",
            "vectors.faiss",
            "bm25/",
            "store.sqlite",
        ],
        rows,
    )


def approximate(results: dict) -> str:
    rows = []
    for p in results["scale"]:
        if "ann_recall_at_10_vs_exact" in p:
            rows.append(
                [
                    f"{p['chunks']:,}",
                    _kind(p),
                    p["ann_recall_at_10_vs_exact"],
                    f"{p['dense_ms_ivf']['p50']} / {p['dense_ms_ivf']['p95']}",
                    f"{p['dense_ms_exact']['p50']} / {p['dense_ms_exact']['p95']}",
                    p["recall_at_10_ivf"],
                    p["recall_at_10_exact"],
                ]
            )
    return table(
        [
            "chunks",
            "index",
            "recall@10 of IVF vs exact (same vectors)",
            "IVF ms p50 / p95",
            "exact ms p50 / p95",
            "task recall@10, IVF",
            "task recall@10, exact",
        ],
        rows,
    )


def startup(results: dict) -> str:
    rows = [
        [f"{s['size']:,}", ", ".join(f"{t} s" for t in s["runs_s"]), f"**{s['median_s']} s**"]
        for s in results["startup"]
    ]
    return table(["chunks", "runs", "median"], rows)


def main() -> None:
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "data/bench/results.json")
    results = json.loads(path.read_text())
    m, encoder = results.get("machine", {}), results.get("encoder", {})
    print(
        f"Machine: {m.get('cpu')} ({m.get('cpu_kind')}; flags {', '.join(m.get('cpu_flags', []))}), "
        f"{m.get('cores')} cores, onnxruntime {m.get('onnxruntime')}; encoder {encoder.get('variant')} "
        f"({encoder.get('reason')}); {m.get('date')}\n"
    )
    for title, part in (
        ("Ingest", ingest),
        ("Query latency (ms)", latency),
        ("Memory (MiB) and disk", memory),
        ("Approximate search", approximate),
        ("Start-up", startup),
    ):
        print(f"### {title}\n\n{part(results)}\n")


if __name__ == "__main__":
    main()
