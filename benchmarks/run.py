"""All performance benchmarks in one run: ingest per backend, query latency per stage at each
corpus size, memory, disk, IVF recall against exact search, and start-up to first answer.

    make bench          # = python -m benchmarks.run
    python -m benchmarks.run --sizes 1000 10000 100000 1000000 --queries 300

Needs ``../shared`` (Wikinews, SQuAD dev, XQuAD). Writes ``data/bench/results.json`` and the
plot ``docs/benchmarks.png``, and prints every number with its target and ratio. It asserts
nothing: the numbers are for reading (see docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from embeddings.encoders import load_encoder
from embeddings.index.local import LocalBackend
from embeddings.settings import EngineSettings

from . import ingest
from .ingest import folder_mb
from .machine import machine
from .probe import EVIDENCE
from .realdata import load_real, load_sentence_vectors
from .scaled import build_scaled, original_id, sentence_kind

ROOT = Path("data/bench")
PLOT = Path("docs/benchmarks.png")


def questions_file(real, present: set[str], path: Path, limit: int) -> Path:
    rows = [
        {"id": q.id, "text": q.text, "answers": list(q.answers), "article_id": q.article_id}
        for q in real.questions
        if q.article_id in present
    ]
    # Spread over articles, not the first few: every 7th question, then wrap.
    rows = (rows[::7] + rows[3::7])[:limit]
    path.write_text(json.dumps(rows))
    return path


def scale_point(real, size: int, args, cache: Path, encoder, sentences) -> dict:
    data_dir = ROOT / f"scale-{size}"
    built = None
    live = LocalBackend(data_dir).live_manifest()
    wanted = sentence_kind(sentences)
    # A generation from before sentence vectors were stored is rebuilt: semantic evidence
    # would otherwise encode its sentences per question, which no real index makes it do.
    if live is None or args.rebuild or live.get("sentence_vectors", "none") != wanted:
        shutil.rmtree(data_dir, ignore_errors=True)
        built = build_scaled(real, size, data_dir, encoder=encoder, sentences=sentences)
    snapshot = LocalBackend(data_dir).open_snapshot()
    try:
        manifest, generation = snapshot.manifest, snapshot.path
        present = {original_id(article.id) for article in snapshot.articles}
    finally:
        snapshot.close()
    qfile = questions_file(real, present, ROOT / f"questions-{size}.json", args.queries + 40)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.probe",
            str(data_dir),
            str(qfile),
            "--queries",
            str(args.queries),
            "--exact-check",
            "--evidence",
            *args.evidence,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "NEWSBOT_MODEL_CACHE_DIR": str(cache)},
    )
    if out.returncode:
        raise SystemExit(f"probe at {size} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    files = {p.name: folder_mb(p) if p.is_dir() else round(p.stat().st_size / 2**20, 1) for p in generation.iterdir()}
    return {
        "target": size,
        "built": built,
        "disk_mb": round(sum(files.values()), 1),
        "disk_files_mb": files,
        "manifest_chunks": manifest["chunks"],
        **result,
    }


def startup(size: int, question: str, cache: Path, runs: int = 3) -> dict:
    """Wall time of ``newsbot ask`` (a new process: imports, model, index, one answer, exit)."""
    env = {
        **os.environ,
        "NEWSBOT_DATA_DIR": str(ROOT / f"scale-{size}"),
        "NEWSBOT_MODEL_CACHE_DIR": str(cache),
        "HF_HUB_OFFLINE": "1",
    }
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        out = subprocess.run(
            [str(Path(sys.executable).parent / "newsbot"), "ask", question], capture_output=True, text=True, env=env
        )
        times.append(time.perf_counter() - started)
        if out.returncode:
            raise SystemExit(f"newsbot ask failed at {size}:\n{out.stderr[-2000:]}")
    return {"size": size, "runs_s": [round(t, 2) for t in times], "median_s": round(statistics.median(times), 2)}


def plot(points: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [p["chunks"] for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for key, label in (("p50", "p50"), ("p95", "p95")):
        left.plot(
            sizes, [p["latency_ms"]["total"][key] for p in points], marker="o", label=f"answer, end to end, {label}"
        )
    left.plot(sizes, [p["latency_ms"]["dense"]["p50"] for p in points], marker=".", ls="--", label="dense search p50")
    left.plot(sizes, [p["latency_ms"]["bm25"]["p50"] for p in points], marker=".", ls="--", label="BM25 p50")
    left.set(xscale="log", xlabel="chunks in the index", ylabel="milliseconds", title="Query latency (2-core CPU)")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    right.plot(sizes, [p["memory_after_queries"]["rss_mb"] for p in points], marker="o", label="RSS")
    right.plot(
        sizes, [p["memory_after_queries"]["anon_mb"] for p in points], marker="o", label="anonymous (own) memory"
    )
    right.plot(sizes, [p["disk_mb"] for p in points], marker="s", ls=":", label="index on disk")
    right.axhline(2048, color="grey", lw=0.8, ls="--", label="2 GB target")
    right.set(xscale="log", xlabel="chunks in the index", ylabel="MiB", title="Memory after the queries, and disk")
    right.grid(alpha=0.3)
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)


def targets(results: dict) -> list[str]:
    lines = []
    rows = {r["backend"]: r for r in results.get("ingest", [])}
    for backend in ("onnx-int8", "auto"):
        if "torch" not in rows or backend not in rows:
            continue
        name = f"{backend} ({rows[backend]['variant']})"
        ratio = rows[backend]["embed_chunks_per_s"] / rows["torch"]["embed_chunks_per_s"]
        lines.append(f"ingest (embedding) {name} vs torch fp32: ×{ratio:.2f} (target ≥ 1.6)")
        ratio = rows[backend]["index_chunks_per_s"] / rows["torch"]["index_chunks_per_s"]
        lines.append(f"ingest (whole index build) {name} vs torch fp32: ×{ratio:.2f} (target ≥ 1.6)")
    for p in results.get("scale", []):
        total = p["latency_ms"]["total"]
        line = f"{p['chunks']:>9,} chunks: answer p50 {total['p50']} ms, p95 {total['p95']} ms"
        if p["target"] == 100_000:
            line += f" (targets 15 / 40: ×{total['p50'] / 15:.2f} / ×{total['p95'] / 40:.2f})"
        if p["target"] == 1_000_000:
            line += (
                f" (target p50 30: ×{total['p50'] / 30:.2f}); RSS {p['memory_after_queries']['rss_mb']} MB, "
                f"anonymous {p['memory_after_queries']['anon_mb']} MB (target 2048)"
            )
        for kind, stages in p.get("latency_ms_by_evidence", {}).items():
            line += f"; {kind} evidence p50 {stages['total']['p50']} / p95 {stages['total']['p95']} ms"
            if p["target"] == 100_000:
                line += f" (issue 11: p50 ≤ 30, ×{stages['total']['p50'] / 30:.2f})"
        if "ann_recall_at_10_vs_exact" in p:
            line += (
                f"; IVF recall@10 vs exact {p['ann_recall_at_10_vs_exact']}, task recall@10 "
                f"{p['recall_at_10_ivf']} vs {p['recall_at_10_exact']} exact"
            )
        lines.append(line)
    for s in results.get("startup", []):
        lines.append(
            f"start-up to first answer at {s['size']:,} chunks: {s['median_s']} s "
            f"(target 5 s: ×{s['median_s'] / 5:.2f})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000, 1_000_000])
    parser.add_argument("--startup-sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ingest-articles", type=int, default=400)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the scaled indexes even if present")
    parser.add_argument(
        "--evidence",
        nargs="+",
        choices=EVIDENCE,
        default=list(EVIDENCE),
        help="answer evidence kinds timed, interleaved in one process (the first fills the main tables)",
    )
    parser.add_argument(
        "--sentence-vectors",
        choices=("all", "questions"),
        default="all",
        help="real chunks whose pooled sentence vectors are stored (questions: SQuAD and XQuAD only, "
        "an eighth of the model pass; the probe reports the share of read passages that have them)",
    )
    args = parser.parse_args()
    ROOT.mkdir(parents=True, exist_ok=True)
    cache = (ROOT / "models").resolve()
    results_path = ROOT / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    results["machine"] = machine()
    if not args.skip_ingest:
        results["ingest"] = ingest.run(args.ingest_articles, ingest.BACKENDS, cache)
        results_path.write_text(json.dumps(results, indent=2) + "\n")
    encoder = load_encoder(EngineSettings(_env_file=None, model_cache_dir=cache))
    results["encoder"] = {"variant": getattr(encoder, "variant", "?"), "reason": getattr(encoder, "reason", "")}
    real = load_real(ROOT, encoder)
    sentences = load_sentence_vectors(ROOT, encoder, real, scope=args.sentence_vectors)
    results["real_corpus"] = {
        "articles": len(real.articles),
        "chunks": real.chunk_count,
        "questions": len(real.questions),
    }
    results["scale"] = []
    for size in args.sizes:
        results["scale"].append(scale_point(real, size, args, cache, encoder, sentences))
        print(json.dumps(results["scale"][-1]), flush=True)
        results_path.write_text(json.dumps(results, indent=2) + "\n")  # keep what is done
    question = next(q.text for q in real.questions if q.article_id.startswith("xquad"))
    results["startup"] = [startup(size, question, cache) for size in args.startup_sizes if size in args.sizes]
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    plot(results["scale"], PLOT)
    print("\n".join(targets(results)))


if __name__ == "__main__":
    main()
