"""Which chunks the database must score for a question's exact BM25 top k, without reading
every chunk that holds one of its terms.

A question's common terms ("year", "said", "first") are in a large share of the chunks, and
scoring a chunk means reading its row. So the search runs in two steps (MaxScore-style
pruning, made exact):

1. ``split_rare``: the rarest terms, as many as fit under a cap on the rows they select (by
   their document frequencies, known without asking the database; ``candidate_cap``). The chunks holding any of
   them are scored exactly, with every term of the question; the k-th best score is the bar.
2. A chunk holding none of the rare terms scores at most the sum of the ``bound``s of the
   common terms it holds (a chunk's weight for a term is below 1). So it can reach the bar only
   if it holds every term of one of the ``covering_sets``: the smallest sets of common terms
   whose bounds add up to the bar. The database finds those chunks through the same GIN index
   (``term_ids @> set``, an intersection of posting lists) and scores them too.

The top k of both steps is exactly bm25s's (ties included: a set whose bound reaches the bar
counts). When the bar is high, few sets qualify and they are rare together; when the first step
found fewer than k chunks the bar is 0 and every common term alone is a set (the full search).
When the bar is low and the common terms many, there are too many sets (``MAX_SETS``): the
snapshot then scores the rarest common term's chunks as well, which raises the bar, and makes
the sets again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from embeddings.index.pg.lexicon import QueryTerm

# More covering sets than this: too many containment tests for one query (each intersects
# posting lists of common terms); the rarest common term is scored instead and the bar rises.
MAX_SETS = 64
# Scores are float32 sums in pgvector; a bound reaching within this share of the bar counts.
_SLACK = 1e-4


def candidate_cap(chunks: int) -> int:
    """The rows the first step may select in a generation of ``chunks`` chunks: 10·√chunks.
    A larger cap reads more rows first but raises the bar, so the second step reads fewer.
    About 3,000 at 100k chunks, where 3,000 gave the lowest latency of 500 to 8,000, and 10,000
    at 1M, where 10,000 read fewer rows at p95 than 3,000 (docs/BENCHMARKS.md, "PostgreSQL
    backend")."""
    return max(1, round(10 * math.sqrt(chunks)))


def split_rare(terms: Sequence[QueryTerm], cap: int) -> tuple[list[QueryTerm], list[QueryTerm]]:
    """(rare, common): the rarest terms (ascending document frequency, then id) while their
    frequencies add up to at most ``cap`` rows, always at least one; the rest."""
    ordered = sorted(terms, key=lambda t: (t.df, t.id))
    taken, rows = 0, 0
    for term in ordered:
        if taken and rows + term.df > cap:
            break
        taken, rows = taken + 1, rows + term.df
    return ordered[:taken], ordered[taken:]


def covering_sets(common: Sequence[QueryTerm], bar: float, limit: int = MAX_SETS) -> list[list[int]] | None:
    """The minimal sets of ``common`` term ids whose bounds add up to ``bar`` (within float
    slack): a chunk holding no rare term can reach the bar only by holding one of these sets.
    [] when even all of them fall short; None when there are more than ``limit``."""
    ordered = sorted(common, key=lambda t: (-t.bound, t.id))
    need = bar * (1 - _SLACK)
    suffix = [0.0] * (len(ordered) + 1)
    for n in range(len(ordered) - 1, -1, -1):
        suffix[n] = suffix[n + 1] + ordered[n].bound
    found: list[list[int]] = []
    stack: list[tuple[int, list[int], float]] = [(0, [], 0.0)]
    while stack:
        start, chosen, total = stack.pop()
        for n in range(start, len(ordered)):
            if total + suffix[n] < need:
                break  # even every term from here on would not reach the bar
            if total + ordered[n].bound >= need:
                found.append(sorted([*chosen, ordered[n].id]))  # minimal: its smallest term was needed
                if len(found) > limit:
                    return None
            else:
                stack.append((n + 1, [*chosen, ordered[n].id], total + ordered[n].bound))
    return found
