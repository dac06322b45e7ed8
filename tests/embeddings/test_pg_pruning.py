"""The PostgreSQL backend's pruned BM25 search (``embeddings.index.pg.pruning``): the plan on
its own, checked against brute force, and the search on a real PostgreSQL against bm25s on the
same corpus, with a candidate cap small enough that every step of the pruning runs."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import random

import pytest

from embeddings.index.pg import pruning, snapshot
from embeddings.index.pg.lexicon import QueryTerm
from embeddings.index.pg.pruning import covering_sets, split_rare

from .backends import make_backend
from .test_backends import index
from .test_crash_safety import write_articles


def term(id: int, df: int, idf: float = 1.0, count: int = 1) -> QueryTerm:
    return QueryTerm(id, count, df, idf)


def test_the_rarest_terms_are_taken_while_their_rows_fit_under_the_cap():
    terms = [term(1, 500), term(2, 40), term(3, 40), term(4, 9000), term(5, 300)]
    rare, common = split_rare(terms, cap=400)
    assert [t.id for t in rare] == [2, 3, 5] and [t.id for t in common] == [1, 4]
    rare, common = split_rare(terms, cap=10)  # the rarest term even when it alone is over the cap
    assert [t.id for t in rare] == [2] and [t.id for t in common] == [3, 5, 1, 4]
    assert split_rare(terms, cap=10**6) == (sorted(terms, key=lambda t: (t.df, t.id)), [])


def brute_force_sets(terms: list[QueryTerm], bar: float) -> list[list[int]]:
    reaching = [
        set(combo)
        for size in range(1, len(terms) + 1)
        for combo in itertools.combinations(terms, size)
        if sum(t.bound for t in combo) >= bar * (1 - 1e-4)
    ]
    minimal = [s for s in reaching if not any(other < s for other in reaching)]
    return sorted(sorted(t.id for t in s) for s in minimal)


def test_covering_sets_are_exactly_the_minimal_sets_whose_bounds_reach_the_bar():
    rng = random.Random(13)
    for _ in range(300):
        terms = [term(n, 100, rng.uniform(0.05, 3.0), rng.choice([1, 1, 2])) for n in range(rng.randint(1, 8))]
        bar = rng.uniform(0, sum(t.bound for t in terms) * 1.1)
        found = covering_sets(terms, bar, limit=10**6)
        assert found is not None and sorted(found) == brute_force_sets(terms, bar)


def test_a_bar_of_zero_makes_every_term_a_set_and_an_unreachable_bar_no_set():
    terms = [term(1, 10, 2.0), term(2, 10, 1.0), term(3, 10, 0.5)]
    assert sorted(covering_sets(terms, 0.0) or []) == [[1], [2], [3]]
    assert covering_sets(terms, 3.6) == []
    assert covering_sets(terms, 3.5) == [[1, 2, 3]]
    assert sorted(covering_sets(terms, 2.5) or []) == [[1, 2], [1, 3]]  # reaching the bar exactly counts (ties)
    assert covering_sets(terms, 2.6) == [[1, 2]]


def test_more_sets_than_the_limit_give_none():
    terms = [term(n, 10, 1.0) for n in range(10)]
    assert len(covering_sets(terms, 2.0, limit=100) or []) == 45
    assert covering_sets(terms, 2.0, limit=44) is None


# Questions over ``write_articles``' corpus: rare words (a topic, a district number) among
# words in every article ("project", "district", "workers"), and some of common words only.
QUESTIONS = [
    "museum project budget",
    "harbour workers and contractors in district 17",
    "which project reached stage on day 20",
    "officials said workers were involved",
    "project district stage",
    "residents welcomed the news",
    "budget of 150 million unchanged",
    "library",
    "airport 12 contractors",
    "school project number 33 district 2 officials budget million residents",
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("pruning") / "seeds"
    folder.mkdir()
    write_articles(folder, 0, 48)
    return folder


@pytest.fixture
def both(corpus, tmp_path, encoder, request):
    """bm25s's snapshot and the database's, of the same corpus."""
    snapshots = []
    for kind in ("local", "postgres"):
        backend = make_backend(kind, tmp_path / kind, encoder, request)
        index(backend, corpus, encoder)
        snapshots.append(backend.open_snapshot())
    return snapshots


def test_the_pruned_search_ranks_exactly_as_bm25s(both, monkeypatch):
    bm25s, database = both
    plans: list[list[list[int]] | None] = []
    monkeypatch.setattr(snapshot, "covering_sets", lambda common, bar: record(plans, common, bar))
    for cap in (1, 8, 40, 10**6, None):  # None: the cap for the corpus size
        pg = dataclasses.replace(database, candidate_cap=cap)
        for question in QUESTIONS:
            for k in (3, 10, 30):
                assert_same_ranking(pg.lexical_candidates(question, k), bm25s.lexical_candidates(question, k), both)
    assert any(p == [] for p in plans), "some questions were settled by their rare terms alone"
    assert any(p and any(len(s) > 1 for s in p) for p in plans), "some needed sets of common terms"
    assert any(p and all(len(s) == 1 for s in p) for p in plans), "some needed every common term"


def test_with_too_many_sets_the_common_terms_are_scored_rarest_first_until_the_sets_are_few(both, monkeypatch):
    bm25s, database = both
    pg = dataclasses.replace(database, candidate_cap=1)
    for limit in (0, 1):  # 0: every common term is scored, one query each
        plans: list[list[list[int]] | None] = []
        monkeypatch.setattr(snapshot, "covering_sets", functools.partial(record, plans, limit=limit))
        for question in QUESTIONS:
            for k in (10, 40):
                assert_same_ranking(pg.lexical_candidates(question, k), bm25s.lexical_candidates(question, k), both)
        assert None in plans and (limit == 0 or any(p for p in plans)), (limit, plans)


def record(plans: list, common, bar: float, limit: int = pruning.MAX_SETS):
    plans.append(covering_sets(common, bar, limit))
    return plans[-1]


def assert_same_ranking(got: list[tuple[int, float]], expected: list[tuple[int, float]], both) -> None:
    """The same scores rank by rank, and the same chunks at each score. Scores equal to float32
    rounding are ties, which the two order by different ids, so the chunks are compared per
    score; the lowest score's chunks only by count (the cut at k may fall inside a tie)."""
    got_named, expected_named = named(both[1], got), named(both[0], expected)
    assert [s for _, s in got_named] == [s for _, s in expected_named]
    lowest = min((s for _, s in expected_named), default=None)
    for score in {s for _, s in expected_named} - {lowest}:
        assert {c for c, s in got_named if s == score} == {c for c, s in expected_named if s == score}, score


def named(found_in, found: list[tuple[int, float]]) -> list[tuple[tuple[str, int], float]]:
    rows = found_in.chunks(i for i, _ in found)
    return [((rows[i][0].article_id, rows[i][0].ordinal), round(s, 5)) for i, s in found]
