"""BM25 search: the same scores as bm25s's own retrieval, best first, ties in index order."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.index.lexical import LexicalIndex

DOCS = [
    "The harbour bridge in Portmere opened on March 14 and cost 310 million euros.",
    "Tolls on the harbour bridge will be charged at weekends, the council said.",
    "Norland's central bank kept its interest rate at 4.5 percent.",
    "Grace Wanjiru won the Portmere marathon in record time.",
    "Four hundred firefighters fought the blaze in the Sarn mountains.",
    "The council meets on June 3 to discuss the bridge tolls.",
    "Tolls on the harbour bridge will be charged at weekends, the council said.",  # a duplicate: a tie
]
IDS = [11, 12, 13, 14, 15, 16, 17]
WORDS = sorted({w.strip(".,'").lower() for d in DOCS for w in d.split()} | {"unknown", "zebra"})


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> LexicalIndex:
    folder = tmp_path_factory.mktemp("bm25")
    LexicalIndex.build(IDS, DOCS).save(folder)
    return LexicalIndex.load(folder)


def reference(index: LexicalIndex, query: str, k: int) -> list[tuple[int, float]]:
    bm25 = index._bm25
    terms = [t for t in index.terms(query) if t in bm25.vocab_dict]
    if not terms:
        return []
    docs, scores = bm25.retrieve([terms], k=min(k, len(IDS)), show_progress=False, n_threads=1)
    return [(IDS[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(words=st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), k=st.integers(1, 10))
def test_scores_match_bm25s_own_retrieval(index, words, k):
    query = " ".join(words)
    ours, theirs = index.search(query, k), reference(index, query, k)
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], rel=1e-5)
    assert sorted(s for _, s in ours) == [s for _, s in reversed(ours)]  # best first


def test_ties_come_in_index_order_and_unknown_words_match_nothing(index):
    hits = index.search("tolls weekends", 3)
    assert [i for i, _ in hits[:2]] == [12, 17] and hits[0][1] == hits[1][1]
    assert index.search("zebra unknown", 5) == []
    assert np.isclose(index.search("marathon", 1)[0][1], reference(index, "marathon", 1)[0][1])


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    text=st.text(max_size=200)
    | st.lists(st.sampled_from(WORDS + ["Running", "THE", "won't", "3.5%", "élan"]), max_size=12).map(" ".join)
)
def test_query_terms_are_exactly_what_bm25s_makes_of_the_text(index, text):
    expected = bm25s.tokenize(
        [text], stopwords="en", stemmer=index._stemmers.stemmer, return_ids=False, show_progress=False
    )[0]
    assert index.terms(text) == expected
