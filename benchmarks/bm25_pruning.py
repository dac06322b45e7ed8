"""How many chunk rows the PostgreSQL backend's pruned BM25 reads (``embeddings.index.pg.pruning``)
against the unpruned search (every chunk holding a query term), per candidate cap, without a
database: the plan runs on a local generation's bm25s matrix, whose posting lists and scores
are the database's (docs/BENCHMARKS.md, "PostgreSQL backend"). It also checks that the pruned
top k is bm25s's, in order.

    python -m benchmarks.bm25_pruning data/bench/scale-100000 [--caps 3000 10000] [--questions 150]

Needs ../shared (the SQuAD and XQuAD questions). Reads the generation only. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.index.generations import BM25_DIR, current_generation
from embeddings.index.lexical import LexicalIndex
from embeddings.index.pg.lexicon import QueryTerm
from embeddings.index.pg.pruning import candidate_cap, covering_sets, split_rare

from .probe import percentiles
from .realdata import SQUAD, XQUAD, read_qa

DEPTH = 50  # what fusion asks each side for


class Postings:
    """The bm25s matrix of one generation, as the database holds it: per term, the chunks."""

    def __init__(self, index: LexicalIndex) -> None:
        self.index = index
        matrix = index._bm25.scores  # type: ignore[union-attr]
        self.indptr, self.indices = matrix["indptr"], matrix["indices"]

    def chunks(self, term: int) -> np.ndarray:
        return self.indices[self.indptr[term] : self.indptr[term + 1]]

    def terms(self, question: str) -> list[QueryTerm]:
        vocab = self.index._bm25.vocab_dict  # type: ignore[union-attr]
        counts = Counter(vocab[t] for t in self.index.terms(question) if t in vocab)
        n = len(self.index)
        return [QueryTerm(t, c, len(self.chunks(t)), _idf(n, len(self.chunks(t)))) for t, c in counts.items()]


def _idf(n: int, df: int) -> float:
    return float(np.log(1 + (n - df + 0.5) / (df + 0.5)))


def read_rows(postings: Postings, terms: list[QueryTerm], scores: np.ndarray, cap: int) -> tuple[set[int], int]:
    """The chunks the snapshot's ``lexical_candidates`` reads for ``terms`` (the same steps),
    and its number of queries."""
    rare, common = split_rare(terms, cap)
    read = set(np.concatenate([postings.chunks(t.id) for t in rare]).tolist())
    queries = 1
    while common:
        best = sorted(read, key=lambda d: (-scores[d], d))[:DEPTH]
        sets = covering_sets(common, float(scores[best[-1]]) if len(best) >= DEPTH else 0.0)
        if sets == []:
            break
        queries += 1
        if sets is None:
            read |= set(postings.chunks(common[0].id).tolist())
            common = common[1:]
            continue
        for terms_set in sets:
            holding = set(postings.chunks(terms_set[0]).tolist())
            for t in terms_set[1:]:
                holding &= set(postings.chunks(t).tolist())
            read |= holding
        common = []
    return read, queries


def measure(postings: Postings, questions: list[str], cap: int) -> dict[str, Any]:
    rows, unpruned, queries, exact = [], [], [], 0
    for question in questions:
        terms = postings.terms(question)
        if not terms:
            continue
        scores = postings.index._scores([t.id for t in terms for _ in range(t.count)])
        touched = np.flatnonzero(scores)
        read, asked = read_rows(postings, terms, scores, cap)
        rows.append(len(read))
        unpruned.append(len(touched))
        queries.append(asked)
        top = touched[np.lexsort((touched, -scores[touched]))][:DEPTH]
        exact += sorted(read, key=lambda d: (-scores[d], d))[:DEPTH] == top.tolist()
    count = len(rows)
    return {
        "cap": cap,
        "rows_read": _spread(rows),
        "rows_unpruned": _spread(unpruned),
        "queries_max": max(queries),
        "top50_as_bm25s": round(exact / count, 4),
    }


def _spread(values: list[int]) -> dict[str, float]:
    # percentiles() is for seconds (it reports milliseconds): scale back to plain counts.
    return {k: round(v / 1000) for k, v in percentiles([float(x) for x in values]).items()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, help="a local data folder (its live generation is read)")
    parser.add_argument("--caps", type=int, nargs="*", default=[])
    parser.add_argument("--questions", type=int, default=150)
    args = parser.parse_args()
    generation = current_generation(args.folder)
    if generation is None:
        raise SystemExit(f"no index in {args.folder}")
    postings = Postings(LexicalIndex.load(generation / BM25_DIR))
    asked = [q.text for path, prefix in ((XQUAD, "x"), (SQUAD, "s")) for q in read_qa(path, prefix)[1]]
    random.Random(7).shuffle(asked)
    caps = args.caps or [candidate_cap(len(postings.index))]
    result = {"chunks": len(postings.index), "questions": min(args.questions, len(asked))}
    print(json.dumps({**result, "by_cap": [measure(postings, asked[: args.questions], c) for c in caps]}))


if __name__ == "__main__":
    main()
