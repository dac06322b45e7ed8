"""Measure one index in a fresh process (so memory is this index's alone): answer latency per
stage after a warm-up, memory, and for an IVF index its recall@10 against exact search.

    python -m benchmarks.probe DATA_DIR QUESTIONS.json [--queries 300] [--exact-check]
                               [--evidence lexical semantic]

Prints one JSON object. Run by ``benchmarks.run``; usable on its own.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import time
from pathlib import Path

import faiss
import numpy as np

from embeddings.encoders import load_encoder
from embeddings.engine import Engine
from embeddings.evaluation import Question, normalize_answer
from embeddings.index.local import LocalSnapshot
from embeddings.index.vectors import VectorIndex
from embeddings.retrieval import Retriever
from embeddings.settings import EngineSettings
from embeddings.timing import recording

from .scaled import original_id

# Retrieval (encode, dense, bm25, fusion), then the answer's own stages: reading the question,
# the lexical scoring of every candidate sentence (less the short-answer spans found in them),
# the spans, the semantic rescoring (cosines to the stored sentence vectors, including reading
# them: "sentence_vectors"), and writing the answer (confidence, recency, citation). "answer" is
# everything after retrieval, as in earlier runs.
STAGES = (
    "encode",
    "dense",
    "bm25",
    "fusion",
    "question",
    "sentences",
    "span",
    "semantic",
    "sentence_vectors",
    "write",
    "answer",
    "total",
)
EVIDENCE = ("lexical", "semantic")


def percentiles(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)

    def pick(p: float) -> float:
        return ms[min(len(ms) - 1, round(p / 100 * (len(ms) - 1)))]

    return {"p50": round(statistics.median(ms), 2), "p95": round(pick(95), 2), "p99": round(pick(99), 2)}


def memory() -> dict[str, int]:
    """Resident memory in MiB: total, anonymous (the process's own) and file-backed (mapped
    index files, shared and reclaimable), and the peak."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
            fields[key] = int(value.split()[0]) // 1024
    return {
        "rss_mb": fields["VmRSS"],
        "anon_mb": fields["RssAnon"],
        "file_mb": fields["RssFile"],
        "peak_mb": fields["VmHWM"],
    }


def hit(hit, question: Question) -> bool:
    if original_id(hit.article.id) != question.article_id:
        return False
    text = normalize_answer(hit.chunk.text)
    return any(normalize_answer(a) in text for a in question.answers)


def split_stages(stages: dict[str, float], total: float) -> dict[str, float]:
    """One answer's recorded stages (``embeddings.timing``) as the disjoint parts of ``STAGES``."""
    parts = {k: stages.get(k, 0.0) for k in ("encode", "dense", "bm25", "fusion", "question", "span", "write")}
    evidence = stages.get("evidence", 0.0)
    lexical = stages.get("lexical", evidence)  # recorded apart only by the semantic scorer
    parts["sentences"] = lexical - parts["span"]
    parts["semantic"] = evidence - lexical
    parts["sentence_vectors"] = stages.get("sentence_vectors", 0.0)
    parts["answer"] = total - sum(parts[k] for k in ("encode", "dense", "bm25", "fusion"))
    parts["total"] = total
    return parts


def time_answers(engine: Engine, questions: list[Question], evidence: list[str]) -> dict[str, dict]:
    """Per evidence kind, each stage's percentiles over ``questions``: every question is asked
    once per kind, the kinds interleaved (their order alternating) so that the machine's noise
    falls on all of them alike, the query-vector cache cleared before each answer."""
    settings = {kind: engine.settings.model_copy(update={"answer_evidence": kind}) for kind in evidence}
    samples: dict[str, dict[str, list[float]]] = {kind: {name: [] for name in STAGES} for kind in evidence}
    for i, q in enumerate(questions):
        for kind in evidence if i % 2 == 0 else evidence[::-1]:
            engine.settings = settings[kind]
            engine._current().clear_cache()
            with recording() as stages:
                started = time.perf_counter()
                engine.answer(q.text)
                total = time.perf_counter() - started
            for name, value in split_stages(stages, total).items():
                samples[kind][name].append(value)
    return {kind: {name: percentiles(values) for name, values in per.items()} for kind, per in samples.items()}


def stored_share(engine: Engine, questions: list[Question]) -> float:
    """Share of the passages answers read (5 per question) that have stored sentence vectors."""
    retriever = engine._current()
    ids = [h.chunk_id for q in questions for h in engine.search(q.text, 5)]
    stored = retriever.snapshot.sentence_vectors(ids)
    return round(sum(i in stored for i in ids) / max(1, len(ids)), 4)


def recall_at_10(engine: Engine, questions: list[Question]) -> float:
    found = sum(any(hit(h, q) for h in engine.search(q.text, 10)) for q in questions)
    return round(found / len(questions), 4)


def exact_check(engine: Engine, questions: list[Question]) -> dict:
    """IVF against exact search on the same vectors: neighbour overlap and task recall@10."""
    retriever = engine._current()
    snapshot = retriever.snapshot
    assert isinstance(snapshot, LocalSnapshot), "the check compares the local backend's IVF with exact search"
    ivf = snapshot.vectors
    ids, vectors = ivf.contents()
    exact = VectorIndex.empty(vectors.shape[1])
    exact.add(ids, vectors)
    del vectors
    overlap, exact_ms, ivf_ms = [], [], []
    for q in questions:
        v = retriever.embed_query(q.text)
        t = time.perf_counter()
        a = {i for i, _ in ivf.search(v, 10)}
        ivf_ms.append(time.perf_counter() - t)
        t = time.perf_counter()
        b = {i for i, _ in exact.search(v, 10)}
        exact_ms.append(time.perf_counter() - t)
        overlap.append(len(a & b) / 10)
    result = {
        "ann_recall_at_10_vs_exact": round(float(np.mean(overlap)), 4),
        "dense_ms_ivf": percentiles(ivf_ms),
        "dense_ms_exact": percentiles(exact_ms),
        "recall_at_10_ivf": recall_at_10(engine, questions),
    }
    # The same snapshot with exact dense search, served the way Engine.load serves one.
    engine._retriever = Retriever(dataclasses.replace(snapshot, vectors=exact), engine.encoder)
    result["recall_at_10_exact"] = recall_at_10(engine, questions)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("questions", type=Path)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--exact-check", action="store_true")
    parser.add_argument(
        "--evidence",
        nargs="+",
        choices=EVIDENCE,
        help="answer evidence kinds to time, interleaved (default: NEWSBOT_ANSWER_EVIDENCE's)",
    )
    args = parser.parse_args()
    started = time.perf_counter()
    rows = json.loads(args.questions.read_text())
    questions = [Question(r["id"], r["text"], tuple(r["answers"]), r["article_id"]) for r in rows]
    settings = EngineSettings(
        _env_file=None,
        data_dir=args.data_dir,
        model_cache_dir=Path(os.environ.get("NEWSBOT_MODEL_CACHE_DIR", "data/models")),
    )
    engine = Engine(settings, load_encoder(settings))
    engine.answer(questions[0].text)
    first_answer_s = time.perf_counter() - started
    after_load = memory()
    evidence = args.evidence or [settings.answer_evidence]
    time_answers(engine, questions[1 : 1 + args.warmup], evidence)  # warm-up, every kind
    measured = questions[1 + args.warmup : 1 + args.warmup + args.queries]
    by_evidence = time_answers(engine, measured, evidence)
    result = {
        "chunks": engine.status().chunks,
        "vector_index": engine._current().snapshot.manifest.get("vector_index"),
        "in_process_first_answer_s": round(first_answer_s, 2),
        "memory_after_load": after_load,
        "latency_ms": by_evidence[evidence[0]],
        "evidence": evidence,
        "latency_ms_by_evidence": by_evidence,
        "sentence_vectors_stored": stored_share(engine, measured[:50]),
        "memory_after_queries": memory(),
        "faiss_threads": faiss.omp_get_max_threads(),
        "queries": len(measured),
    }
    if args.exact_check and result["vector_index"] and result["vector_index"]["kind"] == "ivf":
        result.update(exact_check(engine, measured))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
