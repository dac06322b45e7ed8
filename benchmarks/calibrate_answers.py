"""Calibrate answering on SQuAD-format data: index all but every 5th article, then print, for
each candidate refusal threshold, how many held-out questions are refused and how many present
ones are wrongly refused; and the answer metrics at the current policy.

    .venv/bin/python benchmarks/calibrate_answers.py ../shared/eval/xquad-v1-en.json
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path

from embeddings import answers
from embeddings.encoder import SentenceTransformerEncoder
from embeddings.engine import Engine
from embeddings.evaluation import evaluate_answers, load_squad, split_holdout
from embeddings.models import Corpus
from embeddings.settings import EngineSettings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("file", type=Path)
    parser.add_argument("--limit", type=int)
    parser.add_argument("--holdout", type=int, default=5)
    parser.add_argument("--set", nargs="*", default=[], help="policy overrides, e.g. type_weight=0.3")
    args = parser.parse_args()
    indexed, heldout = split_holdout(load_squad(args.file, limit=args.limit), args.holdout)
    with tempfile.TemporaryDirectory() as tmp:
        engine = Engine(EngineSettings(_env_file=None, data_dir=Path(tmp)), SentenceTransformerEncoder())
        engine.index_corpus(Corpus(indexed.articles))
        overrides = {k: float(v) for k, v in (item.split("=") for item in args.set)}
        engine.answer_policy = dataclasses.replace(engine.answer_policy, min_confidence=0.0, **overrides)
        present = [engine.answer(q.text).confidence for q in indexed.questions]
        absent = [engine.answer(q.text).confidence for q in heldout]
        print(f"{len(present)} present, {len(absent)} held-out questions")
        for t in [x / 100 for x in range(20, 75, 5)]:
            wrong = sum(c < t for c in present) / len(present)
            right = sum(c < t for c in absent) / max(1, len(absent))
            print(f"threshold {t:.2f}: held-out refused {right:.3f}, present refused {wrong:.3f}, "
                  f"balanced accuracy {(right + 1 - wrong) / 2:.3f}")
        engine.answer_policy = dataclasses.replace(engine.answer_policy, min_confidence=answers.AnswerPolicy().min_confidence)
        scores = evaluate_answers(lambda q: engine.answer(q), indexed.questions, heldout)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in scores.as_dict().items()})


if __name__ == "__main__":
    main()
