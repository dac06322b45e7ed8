"""Compare fusions and answer settings on SQuAD-format data without re-indexing: the index of
all but every 5th article (as ``newsbot eval``) is built once into ``--cache`` and reused.

    .venv/bin/python -m benchmarks.answer_lab ../shared/eval/xquad-v1-en.json --cache /tmp/lab/xquad \\
        --fusion rrf convex:0.5 convex:0.3 dbsf:0.5
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path

from embeddings.answer.answering import answer_components, answer_question
from embeddings.answer.evidence import read_question
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.support import support_signals
from embeddings.answer.writer import CONFIDENCE_SIGNALS, confidence_signals
from embeddings.encoders import load_encoder
from embeddings.evaluation import (
    Question,
    evaluate_answers,
    evaluate_retrieval,
    load_squad,
    sentence_hit,
    split_holdout,
)
from embeddings.index.indexer import update_index
from embeddings.index.local import LocalBackend
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.models import Answer, Corpus
from embeddings.retrieval import Fusion, Retriever, clean_query
from embeddings.settings import EngineSettings


def parse_fusion(text: str) -> Fusion:
    """ "rrf", "convex:0.4", "convex:0.4:0.2" (method, dense weight, dense floor)."""
    method, *rest = text.split(":")
    weight = float(rest[0]) if rest else 0.5
    floor = float(rest[1]) if len(rest) > 1 else 0.0
    return Fusion(method=method, dense_weight=weight, dense_floor=floor)  # type: ignore[arg-type]


def features(retriever: Retriever, question: Question, policy: AnswerPolicy) -> dict[str, object]:
    """The confidence signals of the best candidate sentence, and whether it holds the answer."""
    components = answer_components(policy, embedder=retriever)
    feats = read_question(clean_query(question.text), (), retriever.snapshot.analyzer, policy)
    hits = retriever.search(feats.standalone, policy.passages)
    candidates = components.selector.select(feats, retriever.snapshot.analyzer, hits)
    if not candidates:
        return {**dict.fromkeys(CONFIDENCE_SIGNALS, 0.0), "hit": False}
    best = candidates[0]
    answer = Answer(question.text, True, None, (best.text,), (), 0.0, question.text)
    support = support_signals(feats, best, candidates)
    return {**confidence_signals(best, hits, support), "hit": sentence_hit(answer, question)}


def compare_evidence(retriever: Retriever, present: Sequence[Question], held: Sequence[Question], policy) -> None:
    """Both scorers on every question, alternating which goes first; the query-vector cache is
    cleared before each answer, so both pay for encoding the question (as a new question does)."""
    asks = {
        "lexical": answer_components(dataclasses.replace(policy, min_confidence=0.40)),  # its own threshold
        "semantic": answer_components(policy, embedder=retriever),
    }
    results: dict[str, list[tuple[float, Answer]]] = {name: [] for name in asks}
    for i, question in enumerate([*present, *held]):
        for name in sorted(asks, reverse=bool(i % 2)):
            retriever.clear_cache()
            started = time.perf_counter()
            answer = answer_question(retriever, question.text, policy=policy, components=asks[name])
            results[name].append(((time.perf_counter() - started) * 1000, answer))
    for name, rows in results.items():
        kept, gone = rows[: len(present)], rows[len(present) :]
        times = sorted(ms for ms, _ in rows)
        summary = {
            "evidence": name,
            "sentence_hit": round(sum(sentence_hit(a, q) for (_, a), q in zip(kept, present)) / len(present), 4),
            "answered": round(sum(a.answered for _, a in kept) / len(present), 4),
            "heldout_refused": round(sum(not a.answered for _, a in gone) / max(1, len(gone)), 4),
            "latency_ms_p50": round(times[len(times) // 2], 1),
            "latency_ms_p95": round(times[int(len(times) * 0.95)], 1),
        }
        print(json.dumps(summary), flush=True)


def parse_policy(items: Sequence[str]) -> AnswerPolicy:
    """AnswerPolicy fields as ``name=value`` (a tuple as comma-separated numbers)."""
    fields = {}
    for item in items:
        name, value = item.split("=")
        default = getattr(AnswerPolicy(), name)
        fields[name] = tuple(float(v) for v in value.split(",")) if isinstance(default, tuple) else type(default)(value)
    return AnswerPolicy(**fields)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--cache", type=Path, required=True, help="folder for the index (reused when present)")
    parser.add_argument("--fusion", nargs="+", default=["rrf", "convex:0.5"])
    parser.add_argument("--answers", action="store_true", help="also measure answers")
    parser.add_argument(
        "--compare-evidence",
        action="store_true",
        help="answer latency and quality of lexical and semantic evidence, interleaved question by question",
    )
    parser.add_argument("--limit", type=int, help="questions asked (first N)")
    parser.add_argument("--dump", type=Path, help="write each question's confidence features here (JSON lines)")
    parser.add_argument("--policy", nargs="*", default=[], help="AnswerPolicy fields, e.g. semantic_weight=0")
    parser.add_argument(
        "--sentence-vectors",
        default="pooled",
        help="how the index (when built) makes sentence vectors: pooled, encoded, none",
    )
    args = parser.parse_args()
    settings = EngineSettings(_env_file=None)
    encoder = load_encoder(settings)
    indexed, heldout = split_holdout(load_squad(args.file), 5)
    backend = LocalBackend(args.cache, probe_encoder=encoder)
    if not (args.cache / "CURRENT").exists():
        config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences)
        report = update_index(
            backend, Corpus(indexed.articles), encoder, config, sentence_vectors=args.sentence_vectors
        )
        print(json.dumps({"indexed_s": round(report.seconds, 1), "chunks": report.chunks_total}), flush=True)
    snapshot = backend.open_snapshot()
    present = indexed.questions[: args.limit] if args.limit else indexed.questions
    held = heldout[: args.limit // 4] if args.limit else heldout
    policy = parse_policy(args.policy)
    if args.compare_evidence:
        retriever = Retriever(snapshot, encoder, fusion=parse_fusion(args.fusion[0]), cache_size=100_000)
        compare_evidence(retriever, present, held, policy)
        return
    for text in args.fusion:
        retriever = Retriever(snapshot, encoder, fusion=parse_fusion(text), cache_size=100_000)
        scores = evaluate_retrieval(lambda q, k, r=retriever: r.search(q, k), present).as_dict()
        row: dict[str, object] = {"fusion": text, "policy": args.policy, **{k: round(v, 4) for k, v in scores.items()}}
        if args.answers:
            answers = evaluate_answers(lambda q, r=retriever: answer_question(r, q, policy=policy), present, held)
            row.update({f"a_{k}": round(v, 4) for k, v in answers.as_dict().items()})
        print(json.dumps(row), flush=True)
        if args.dump:
            with args.dump.open("a") as out:
                for question, present_ in [(q, True) for q in present] + [(q, False) for q in held]:
                    out.write(
                        json.dumps(
                            {"set": args.file.stem, "present": present_, **features(retriever, question, policy)}
                        )
                        + "\n"
                    )


if __name__ == "__main__":
    main()
