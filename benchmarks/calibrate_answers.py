"""Calibrate answering on SQuAD-format data: index all but every 5th article once, then, for
each answer policy asked for, print the answer metrics and how often held-out questions are
refused (they must be) and present ones are (they must not be) at each refusal threshold.

    .venv/bin/python benchmarks/calibrate_answers.py ../shared/eval/xquad-v1-en.json
    .venv/bin/python benchmarks/calibrate_answers.py FILE --sweep dense_weight=0,0.5 headline_credit=0.5,1
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import tempfile
from pathlib import Path

from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder
from embeddings.engine import Engine
from embeddings.evaluation import evaluate_answers, load_squad, split_holdout
from embeddings.models import Corpus
from embeddings.settings import EngineSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--holdout", type=int, default=5)
    parser.add_argument("--sweep", nargs="*", default=[], help="policy fields and values, e.g. type_weight=0.2,0.3")
    parser.add_argument("--thresholds", action="store_true", help="also print the refusal table")
    args = parser.parse_args()
    indexed, heldout = split_holdout(load_squad(args.file, limit=args.limit), args.holdout)
    grid = {k: [float(x) for x in v.split(",")] for k, v in (item.split("=") for item in args.sweep)}
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(EngineSettings(_env_file=None, data_dir=Path(tmp)), SentenceTransformerEncoder())
        engine.index_corpus(Corpus(indexed.articles))
        default = engine.answer_policy
        print(f"{len(indexed.questions)} present, {len(heldout)} held-out questions")
        for values in itertools.product(*grid.values()):
            engine.answer_policy = dataclasses.replace(default, **dict(zip(grid, values)))
            scores = evaluate_answers(engine.answer, indexed.questions, heldout)
            shown = {k: round(v, 3) for k, v in scores.as_dict().items() if k not in ("questions", "heldout_questions")}
            print(dict(zip(grid, values)), shown, flush=True)
            if args.thresholds:
                _threshold_table(engine, indexed.questions, heldout, default.min_confidence)


def _threshold_table(engine, present, heldout, default_threshold) -> None:
    engine.answer_policy = dataclasses.replace(engine.answer_policy, min_confidence=0.0)
    kept = [engine.answer(q.text).confidence for q in present]
    held = [engine.answer(q.text).confidence for q in heldout]
    for t in [x / 100 for x in range(20, 75, 5)]:
        wrong = sum(c < t for c in kept) / len(kept)
        right = sum(c < t for c in held) / max(1, len(held))
        mark = "  <- default" if abs(t - default_threshold) < 1e-9 else ""
        print(
            f"  threshold {t:.2f}: held-out refused {right:.3f}, present refused {wrong:.3f}, "
            f"balanced accuracy {(right + 1 - wrong) / 2:.3f}{mark}"
        )


if __name__ == "__main__":
    main()
