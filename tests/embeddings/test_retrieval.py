"""Hybrid retrieval over a real index: the right passage first, clean modes, sane failures."""

from __future__ import annotations

import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings.errors import QueryError

from ..conftest import SEED

SEED_ID = SEED.stem


@pytest.fixture
def engine(seeds, make_engine):
    engine = make_engine(seeds)
    engine.refresh()
    return engine


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_the_meeting_date_passage_comes_first(engine, mode):
    hits = engine.search("when will the security council secretaries meet", 5, mode)
    assert hits[0].article.id == SEED_ID
    assert "May 21-22" in hits[0].chunk.text


@pytest.mark.parametrize(
    "question, article_id, needle",
    [
        ("How much did the new bridge in Portmere cost?", "harbour-bridge", "310 million euros"),
        ("What interest rate did Norland's central bank keep?", "rates-2024-06", "4.5 percent"),
        ("Who won the marathon?", "marathon-2024", "Grace Wanjiru"),
        ("How many firefighters fought the blaze in the Sarn mountains?", "wildfire", "400 firefighters"),
        ("Who will chair the SCO meeting?", SEED_ID, "Zhao Kezhi will chair"),
    ],
)
def test_each_article_answers_its_own_questions(engine, question, article_id, needle):
    hit = engine.search(question, 3)[0]
    assert hit.article.id == article_id and needle in hit.chunk.text


def test_hybrid_hits_carry_both_rankings_and_article_metadata(engine):
    hits = engine.search("Portmere harbour bridge opening", 3)
    top = hits[0]
    assert top.article.id == "harbour-bridge"
    assert top.dense_rank == 1 and top.bm25_rank == 1
    assert top.article.published == "2024-03-14" and top.article.place == "PORTMERE"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_single_modes_report_only_their_own_scores(engine):
    dense = engine.search("bridge", 3, "dense")[0]
    lexical = engine.search("bridge", 3, "bm25")[0]
    assert dense.bm25_rank is None and dense.score == dense.dense_score
    assert lexical.dense_rank is None and lexical.score == lexical.bm25_score


def test_a_duplicate_article_is_collapsed_into_one_hit(seeds, make_engine):
    shutil.copy(seeds / SEED.name, seeds / "syndicated-copy.txt")
    engine = make_engine(seeds)
    engine.refresh()
    hits = engine.search("when will the security council secretaries meet", 5)
    texts = [h.chunk.text for h in hits]
    assert len(texts) == len(set(texts))


def test_k_larger_than_the_index_returns_what_there_is(engine):
    assert 0 < len(engine.search("meeting", 100)) <= engine.status().chunks


@pytest.mark.parametrize("bad", ["", "   ", "\n\t", "?!", "\u200b\u200b", "x" * 2001])
def test_unusable_queries_raise_a_query_error_with_a_helpful_message(engine, bad):
    with pytest.raises(QueryError) as caught:
        engine.search(bad)
    assert len(str(caught.value)) < 200


def test_a_query_of_only_stop_words_still_gets_dense_results(engine):
    assert engine.search("what is it", 3, "bm25") == []
    assert engine.search("what is it", 3)  # the dense side still answers


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(min_size=1, max_size=80).filter(lambda q: any(ch.isalnum() for ch in q)))
def test_saved_and_reloaded_index_gives_identical_hits(engine, make_engine, seeds, query):
    reloaded = make_engine(seeds, data_dir=engine.settings.data_dir)
    reloaded.load()
    for mode in ("hybrid", "dense", "bm25"):
        before = [(h.chunk_id, round(h.score, 5)) for h in engine.search(query, 5, mode)]
        after = [(h.chunk_id, round(h.score, 5)) for h in reloaded.search(query, 5, mode)]
        assert before == after


def test_a_repeated_query_is_not_encoded_again_and_each_stage_is_timed(engine):
    from embeddings.timing import recording

    with recording() as first:
        engine.search("harbour bridge tolls at weekends", 3)
    with recording() as second:
        engine.search("harbour bridge tolls at weekends", 3)
    assert {"encode", "dense", "bm25", "fusion"} <= set(first)
    assert "encode" not in second and {"dense", "bm25", "fusion"} <= set(second)
    assert all(0 <= seconds < 5 for seconds in first.values())


def test_searches_from_many_threads_share_one_loaded_index(engine):
    from concurrent.futures import ThreadPoolExecutor

    snapshot = engine._current().snapshot
    questions = ["Who won the marathon?", "How much did the new bridge cost?", "Who will chair the SCO meeting?"] * 8
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda q: engine.search(q, 1)[0].article.id, questions))
    assert results[:3] == ["marathon-2024", "harbour-bridge", SEED_ID] and results == results[:3] * 8
    assert engine._current().snapshot is snapshot


# -- Issue 11: fusion keeps the margins ------------------------------------------------------------


@pytest.mark.parametrize(
    "question, needle",
    [
        ("who is the adviser from Pakistan", "Naseer Khan Janjua"),
        ("which Pakistani adviser is going to the meeting", "Naseer Khan Janjua"),
        ("who is presiding over the session", "will chair the meeting"),
    ],
)
def test_on_a_small_index_a_clear_lexical_margin_beats_near_tied_dense_scores(seed_only, question, needle):
    hits = seed_only.search(question, 4)
    assert len({h.chunk_id for h in hits}) == 4  # the whole index: ranking alone decides
    assert needle in hits[0].chunk.text


def test_score_fusion_keeps_a_twenty_fold_bm25_margin_that_rank_fusion_loses():
    from embeddings.retrieval import Fusion, fuse

    # The numbers: BM25 separates chunk 2 by 20x, the dense scores are near ties.
    dense = [(1, 0.47), (2, 0.46), (3, 0.45), (4, 0.41)]
    lexical = [(2, 1.09), (1, 0.05), (3, 0.04), (4, 0.03)]
    assert fuse(dense, lexical, Fusion("convex"))[0].chunk_id == 2
    assert fuse(dense, lexical, Fusion("dbsf"))[0].chunk_id == 2
    ranks = [c.chunk_id for c in fuse(dense, lexical, Fusion("rrf"))]
    assert ranks[:2] in ([1, 2], [2, 1])  # rank fusion sees a tie: it cannot tell them apart


def test_a_single_list_keeps_its_own_scores_whatever_the_fusion():
    from embeddings.retrieval import Fusion, fuse

    for method in ("rrf", "convex", "dbsf"):
        fused = fuse([(7, 0.8), (9, 0.3)], [], Fusion(method))
        assert [(c.chunk_id, c.score) for c in fused] == [(7, 0.8), (9, 0.3)]
