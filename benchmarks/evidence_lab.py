"""Sentence choice on XQuAD and the natural questions, re-ranked offline: every question is
retrieved and its candidate sentences scored once (lexical features, the stored sentence
cosine, whether it is its article's first sentence, whether it holds a span of the asked-for
kind), then each combination of ``--grid`` values of ``semantic_weight``, ``lead_weight`` (the
news lead; measured, not in the engine), ``untyped_penalty`` and ``untyped_where_penalty``
re-ranks them without searching again (``--save``/``--load`` keep the scored candidates).
Prints, per combination and set, how often the best sentence holds the answer (before any
refusal); ``--dump PREFIX`` writes the confidence signals of the best sentence under
``--choose`` for ``benchmarks.fit_confidence`` (``PREFIX-xquad.jsonl``,
``PREFIX-natural-SPLIT.jsonl``). docs/EVALUATION.md, "Sentence choice by meaning and by the
asked-for kind", has the runs.

    .venv/bin/python -m benchmarks.evidence_lab --xquad ../shared/eval/xquad-v1-en.json --xquad-cache /tmp/ans/xq \\
        --natural-cache /tmp/ans/nat --others 20 --split dev --save /tmp/ans/dev.pkl \\
        --grid semantic_weight=0,0.5,3 untyped_penalty=0,0.7 untyped_where_penalty=0,0.3 \\
        --choose semantic_weight=3 untyped_penalty=0.7 untyped_where_penalty=0.3 --dump /tmp/ans/feat
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import pickle
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from benchmarks.answer_lab import parse_policy
from benchmarks.natural_lab import build, load_questions, matches
from embeddings.answer.answering import answer_components
from embeddings.answer.evidence import Candidate, QuestionFeatures, read_question
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.answer.support import support_signals
from embeddings.answer.writer import CONFIDENCE_SIGNALS, confidence_signals, is_unfilled
from embeddings.encoders import load_encoder
from embeddings.evaluation import Dataset, load_squad, normalize_answer, split_holdout
from embeddings.index.indexer import update_index
from embeddings.index.local import LocalBackend
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.models import Corpus, Hit
from embeddings.retrieval import Retriever, clean_query
from embeddings.settings import EngineSettings

KNOBS = ("semantic_weight", "lead_weight", "untyped_penalty", "untyped_where_penalty")


@dataclass(frozen=True)
class Scored:
    """One question's candidates with what the knobs re-rank them by."""

    set: str
    present: bool
    kind: AnswerType
    hits: list[Hit]
    candidates: list[Candidate]  # scored with every knob at 0
    lead: list[bool]
    hit: list[bool]  # the sentence holds the answer
    question: QuestionFeatures | None = None  # as the writer sees it (weights as a plain dict: picklable)


def score_all(
    retriever: Retriever, asks: list[tuple[str, bool, Callable[[str], bool]]], name: str, policy: AnswerPolicy
) -> Iterator[Scored]:
    base = dataclasses.replace(policy, semantic_weight=0.0, untyped_penalty=0.0, untyped_where_penalty=0.0)
    selector = answer_components(base, embedder=retriever).selector
    analyzer = retriever.snapshot.analyzer
    for text, present, holds in asks:
        features = read_question(clean_query(text), (), analyzer, base)
        hits = retriever.search(features.standalone, base.passages)
        candidates = selector.select(features, analyzer, hits)
        lead = [is_lead(c.hit, c.text) for c in candidates]
        holding = [holds(c.text) for c in candidates]
        kept = dataclasses.replace(features, weights=dict(features.weights))
        yield Scored(name, present, features.kind, hits, candidates, lead, holding, kept)


def is_lead(hit: Hit, text: str) -> bool:
    """Whether ``text`` is the first sentence of ``hit``'s article (the news lead)."""
    first = hit.chunk.sentences[0] if hit.chunk.ordinal == 0 and hit.chunk.sentences else None
    return first is not None and hit.article.text[first.start : first.end] == text


def best(scored: Scored, knobs: dict[str, float]) -> int | None:
    """Index of the best candidate under ``knobs`` (the penalties as ``SemanticEvidenceScorer``
    takes them: none for other questions, ``untyped_where_penalty`` for where)."""
    penalty = 0.0 if scored.kind is AnswerType.OTHER else knobs["untyped_penalty"]
    if scored.kind is AnswerType.WHERE:
        penalty = knobs["untyped_where_penalty"]

    def total(i: int) -> float:
        c = scored.candidates[i]
        return (
            c.score
            + knobs["semantic_weight"] * (c.cosine or 0.0)
            + knobs["lead_weight"] * scored.lead[i]
            - (penalty if c.span is None else 0.0)
        )

    return max(range(len(scored.candidates)), key=total, default=None)


def support(scored: Scored, i: int) -> dict[str, float] | None:
    """``support.support_signals`` of candidate ``i`` (None for a save made before questions were kept)."""
    if scored.question is None:
        return None
    return support_signals(scored.question, scored.candidates[i], scored.candidates)


def xquad_asks(path: Path) -> tuple[Dataset, list[tuple[str, bool, Callable[[str], bool]]]]:
    indexed, held = split_holdout(load_squad(path), 5)

    def holds(answers: tuple[str, ...]) -> Callable[[str], bool]:
        gold = [f" {normalize_answer(a)} " for a in answers if normalize_answer(a)]
        return lambda s: any(g in f" {normalize_answer(s)} " for g in gold)

    asks = [(q.text, True, holds(q.answers)) for q in indexed.questions]
    return indexed, asks + [(q.text, False, holds(q.answers)) for q in held]


def parse_grid(items: list[str]) -> list[dict[str, float]]:
    values = {k: [0.0] for k in KNOBS}
    for item in items:
        name, text = item.split("=")
        values[name] = [float(v) for v in text.split(",")]
    return [dict(zip(KNOBS, combo, strict=True)) for combo in itertools.product(*(values[k] for k in KNOBS))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--xquad", type=Path)
    parser.add_argument("--xquad-cache", type=Path)
    parser.add_argument("--natural-cache", type=Path)
    parser.add_argument("--questions", type=Path, default=Path("benchmarks/questions"))
    parser.add_argument("--others", type=int, default=20)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--grid", nargs="*", default=[])
    parser.add_argument("--choose", nargs="*", default=[])
    parser.add_argument("--dump", type=str)
    parser.add_argument("--sentence-vectors", default="pooled", help="how indexes built here make sentence vectors")
    parser.add_argument("--policy", nargs="*", default=[], help="AnswerPolicy fields the candidates are scored with")
    parser.add_argument("--save", type=Path, help="keep the scored candidates here (pickle) for --load")
    parser.add_argument("--load", type=Path, help="re-rank candidates kept by --save instead of searching")
    args = parser.parse_args()
    settings = EngineSettings(_env_file=None)
    encoder = load_encoder(settings)
    policy = parse_policy(args.policy)
    results: list[Scored] = []
    if args.load:
        results = pickle.loads(args.load.read_bytes())
    if args.xquad and not args.load:
        indexed, asks = xquad_asks(args.xquad)
        backend = LocalBackend(args.xquad_cache, probe_encoder=encoder)
        if not (args.xquad_cache / "CURRENT").exists():
            config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences)
            update_index(backend, Corpus(indexed.articles), encoder, config, sentence_vectors=args.sentence_vectors)
        snapshot = backend.open_snapshot()
        results += score_all(Retriever(snapshot, encoder), asks, "xquad", policy)
    if args.natural_cache and not args.load:
        questions = [q for q in load_questions(args.questions) if q["split"] == args.split]
        backend, held = build(
            args.natural_cache, load_questions(args.questions), args.others, encoder, settings, args.sentence_vectors
        )
        asks = [
            (
                q["question"],
                bool(q["article_id"]) and q["article_id"] not in held,
                lambda s, a=q["answers"]: matches(a, s),
            )
            for q in questions
        ]
        results += score_all(Retriever(backend.open_snapshot(), encoder), asks, f"natural-{args.split}", policy)
    if args.save:
        args.save.write_bytes(pickle.dumps(results))
    sets = sorted({r.set for r in results})
    for knobs in parse_grid(args.grid):
        row: dict[str, float] = dict(knobs)
        for name in sets:
            present = [r for r in results if r.set == name and r.present]
            row[name] = round(
                sum(i is not None and r.hit[i] for r in present if (i := best(r, knobs)) is not None) / len(present), 4
            )
        print(json.dumps(row), flush=True)
    if args.dump:
        knobs = {**dict.fromkeys(KNOBS, 0.0), **parse_grid(args.choose)[0]}
        for name in sets:
            with open(f"{args.dump}-{name}.jsonl", "w") as out:
                for r in (r for r in results if r.set == name):
                    i = best(r, knobs)
                    signals = (
                        confidence_signals(r.candidates[i], r.hits, support(r, i))
                        if i is not None
                        else dict.fromkeys(CONFIDENCE_SIGNALS, 0.0)
                    )
                    row = {"set": name, "present": r.present, "hit": i is not None and r.hit[i], **signals}
                    row["unfilled"] = i is not None and is_unfilled(r.candidates[i], r.kind)
                    out.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
