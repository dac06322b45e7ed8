"""A quick tuning loop for the answer layer on natural news questions (benchmarks/questions/*.jsonl)
over a mid-size corpus: every article the questions name (minus every 3rd, held out: its
questions must be refused), plus ``--others`` random Wikinews articles. The index is built once
into ``--cache`` and reused. Prints short-answer and quoted-sentence accuracy per kind and the
refusal rates; ``--dump`` writes confidence features for ``benchmarks.fit_confidence``.

    .venv/bin/python -m benchmarks.natural_lab --cache /tmp/lab/natural --split dev
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tempfile
from collections import defaultdict
from pathlib import Path

from benchmarks.answer_lab import parse_policy
from embeddings.answer.answering import answer_components, answer_question
from embeddings.answer.evidence import read_question
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.support import support_signals
from embeddings.answer.writer import CONFIDENCE_SIGNALS, confidence_signals
from embeddings.encoders import load_encoder
from embeddings.index.indexer import update_index
from embeddings.index.local import LocalBackend
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.ingest.corpus import read_corpus
from embeddings.retrieval import Fusion, Retriever, clean_query
from embeddings.settings import EngineSettings

CORPUS = Path("/work/shared/corpus/wikinews-en.jsonl")


def load_questions(folder: Path) -> list[dict]:
    return [json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.open() if line.strip()]


def build(
    cache: Path, questions: list[dict], others: int, encoder, settings, sentence_vectors: str = "pooled"
) -> tuple[LocalBackend, set[str]]:
    """The index over the named articles but the held-out third, plus random others (sentence
    vectors made the ``sentence_vectors`` way when it is built)."""
    named = sorted(
        {q["article_id"] for q in questions if q["article_id"]}
        | {a for q in questions for a in q.get("near_article_ids", [])}
    )
    held = {a for i, a in enumerate(sorted({q["article_id"] for q in questions if q["article_id"]})) if i % 3 == 2}
    backend = LocalBackend(cache, probe_encoder=encoder)
    if not (cache / "CURRENT").exists():
        records = {json.loads(line)["id"]: line for line in CORPUS.open()}
        rest = sorted(set(records) - set(named))
        chosen = [a for a in named if a not in held] + random.Random(11).sample(rest, others)
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "corpus.jsonl").write_text("".join(records[a] for a in chosen if a in records))
            corpus = read_corpus(Path(tmp))
            config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences)
            update_index(backend, corpus, encoder, config, sentence_vectors=sentence_vectors)  # type: ignore[arg-type]
    return backend, held


def matches(patterns: list[str], text: str | None) -> bool:
    return bool(text) and any(re.search(p, text, re.I) for p in patterns)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=Path, default=Path("benchmarks/questions"))
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--others", type=int, default=300)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--fusion", default="convex:0.5")
    parser.add_argument("--policy", nargs="*", default=[])
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--evidence", default="semantic", choices=("lexical", "semantic"))
    args = parser.parse_args()
    settings = EngineSettings(_env_file=None)
    encoder = load_encoder(settings)
    questions = load_questions(args.questions)
    backend, held = build(args.cache, questions, args.others, encoder, settings)
    method, weight = (args.fusion.split(":") + ["0.5"])[:2]
    retriever = Retriever(backend.open_snapshot(), encoder, fusion=Fusion(method, float(weight)))  # type: ignore[arg-type]
    policy = parse_policy(args.policy)
    embedder = retriever if args.evidence == "semantic" else None
    components = answer_components(policy, embedder=embedder)
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])  # n, answered, article, sentence, short
    dump = args.dump.open("w") if args.dump else None
    for q in questions:
        if q["split"] != args.split:
            continue
        group = "near-miss" if q["article_id"] is None else "held-out" if q["article_id"] in held else q["kind"]
        answer = answer_question(retriever, q["question"], policy=policy, components=components)
        row = tally[group]
        row[0] += 1
        row[1] += answer.answered
        if answer.answered and q["article_id"]:
            row[2] += any(s.article_id == q["article_id"] for s in answer.sources[:1])
            row[3] += any(matches(q["answers"], s) for s in answer.sentences)
            row[4] += matches(q["answers"], answer.short_answer)
        if dump:
            dump.write(
                json.dumps(
                    {
                        "set": f"natural-{args.split}",
                        "present": group not in ("near-miss", "held-out"),
                        **features(retriever, q["question"], policy),
                    }
                )
                + "\n"
            )
    for group, (n, answered, article, sentence, short) in sorted(tally.items()):
        shares = f"answered {answered / n:.2f}  article {article / n:.2f}  sentence {sentence / n:.2f}"
        print(f"{group:10} n={n:3}  {shares}  short {short / n:.2f}")
    present = [v for g, v in tally.items() if g not in ("near-miss", "held-out")]
    typed = [v for g, v in tally.items() if g in ("when", "who", "where", "number")]
    n, n_typed = sum(v[0] for v in present), max(1, sum(v[0] for v in typed))
    answered, sentence = sum(v[1] for v in present) / n, sum(v[3] for v in present) / n
    short = sum(v[4] for v in typed) / n_typed
    print(
        f"ALL present n={n}: answered {answered:.3f} sentence {sentence:.3f} short(when/who/where/number) {short:.3f}"
    )


def features(retriever: Retriever, text: str, policy: AnswerPolicy) -> dict[str, float]:
    components = answer_components(policy, embedder=retriever)
    feats = read_question(clean_query(text), (), retriever.snapshot.analyzer, policy)
    hits = retriever.search(feats.standalone, policy.passages)
    candidates = components.selector.select(feats, retriever.snapshot.analyzer, hits)
    if not candidates:
        return dict.fromkeys(CONFIDENCE_SIGNALS, 0.0)
    return confidence_signals(candidates[0], hits, support_signals(feats, candidates[0], candidates))


if __name__ == "__main__":
    main()
