"""Article lookup and extractive summaries with the real model over the real seed article."""

from __future__ import annotations

import itertools
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings.errors import ArticleNotFoundError
from embeddings.ingest.corpus import read_corpus
from embeddings.models import Article, Citation
from embeddings.summaries import (
    NEAR_DUPLICATE,
    find_article,
    suggest_articles,
    summarize_article,
    summarize_topic,
)

from ..conftest import SEED

SEED_ID = SEED.stem
SEED_TITLE = "China invites Pakistan to SCO’s Security Council’s meeting"
# Sentences of the seed article that say the same thing twice in different words.
SEED_DUPLICATES = [
    ("The primary task is to make political", "The primary task is to prepare for"),
    ("Chinese leaders will meet with the heads", "Chinese leaders will collectively meet"),
    ("It is the first SCO security council", "This is the first meeting of the Secretary-General"),
]


class CountingEncoder:
    """The real encoder, counting calls (a summary should make exactly one)."""

    def __init__(self, encoder):
        self._encoder, self.calls = encoder, 0
        self.name, self.dimension, self.max_tokens = encoder.name, encoder.dimension, encoder.max_tokens

    def encode(self, texts, **kwargs):
        self.calls += 1
        return self._encoder.encode(texts, **kwargs)

    def count_tokens(self, texts):
        return self._encoder.count_tokens(texts)


@pytest.fixture
def articles(seeds) -> dict[str, Article]:
    return {a.id: a for a in read_corpus(seeds).articles}


@pytest.fixture(scope="module")
def seed(tmp_path_factory) -> Article:
    folder = tmp_path_factory.mktemp("seed")
    shutil.copy(SEED, folder / SEED.name)
    (article,) = read_corpus(folder).articles
    return article


@pytest.fixture(scope="module")
def seed_summary(seed, encoder):
    """The seed's default summary, made once (the model is slow on a small CPU), and how many
    encoder calls it took."""
    counting = CountingEncoder(encoder)
    return summarize_article(seed, counting), counting.calls


def assert_verbatim_in_order(points, text: str) -> None:
    cursor = 0
    for point in points:
        found = text.find(point.text, cursor)
        assert found >= 0, f"not verbatim or out of order: {point.text!r}"
        cursor = found + len(point.text)


# -- summarize_article --


def test_seed_summary_gives_the_lead_facts_verbatim_in_order(seed, seed_summary):
    summary, calls = seed_summary
    joined = " ".join(p.text for p in summary.points)
    assert 3 <= len(summary.points) <= 5
    assert "May 21-22" in joined and "Beijing" in joined
    assert "Share this post" not in joined and "scroll to top" not in joined.lower()
    assert_verbatim_in_order(summary.points, seed.text)
    assert summary.title == SEED_TITLE and summary.article == Citation.of(seed)
    assert all(p.citation == Citation.of(seed) for p in summary.points)
    assert calls == 1


@pytest.mark.parametrize("first, second", SEED_DUPLICATES)
def test_seed_summary_never_says_the_same_thing_twice(seed_summary, first, second):
    texts = [p.text for p in seed_summary[0].points]
    assert not (any(first in t for t in texts) and any(second in t for t in texts))


def test_summary_sentences_are_pairwise_distinct_in_meaning(seed, encoder):
    texts = [p.text for p in summarize_article(seed, encoder, max_sentences=8).points]
    vectors = encoder.encode(texts)
    for i, j in itertools.combinations(range(len(texts)), 2):
        assert float(vectors[i] @ vectors[j]) < NEAR_DUPLICATE, (texts[i], texts[j])


def test_summary_skips_fragments_quote_marks_and_page_residue(encoder):
    text = (
        "Share this post\n\n“\n\nBy Staff.\n\n"
        "The city council approved a new budget for public libraries on Monday evening.\n\n"
        "Libraries will open on Sundays from next month, the mayor said after the vote.\n\n"
        "Click here to subscribe to our newsletter\n\nscroll to top"
    )
    article = Article("lib", "Council approves library budget", text, "lib.txt", "h")
    texts = [p.text for p in summarize_article(article, encoder).points]
    assert texts == [
        "The city council approved a new budget for public libraries on Monday evening.",
        "Libraries will open on Sundays from next month, the mayor said after the vote.",
    ]


def test_short_and_empty_articles(encoder):
    text = "A storm closed the port on Friday. It reopened on Saturday at dawn."
    short = Article("s", "Storm", text, "s", "h")
    assert len(summarize_article(short, encoder).points) == 2
    # Only fragments: better to quote them than to say nothing.
    terse = Article("t", "Markets", "Markets closed higher. Oil fell.", "t", "h")
    assert [p.text for p in summarize_article(terse, encoder).points] == ["Markets closed higher.", "Oil fell."]
    empty = Article("e", "Nothing", "", "e", "h")
    summary = summarize_article(empty, encoder)
    assert summary.points == () and summary.article == Citation.of(empty)


WORDS = [
    "the",
    "council",
    "said",
    "bridge",
    "market",
    "rates",
    "fire",
    "runner",
    "city",
    "police",
    "new",
    "report",
    "on",
    "Friday",
    "water",
    "minister",
    "of",
    "record",
]
sentence = st.lists(st.sampled_from(WORDS), min_size=1, max_size=12).map(
    lambda words: " ".join(words).capitalize() + "."
)
separator = st.sampled_from([" ", "\n", "\n\n"])


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(sentence, separator), max_size=8), st.integers(1, 6), st.integers(1, 6))
def test_property_summary_is_verbatim_ordered_and_bounded(encoder, parts, max_sentences, min_sentences):
    body = "".join(s + sep for s, sep in parts)
    article = Article("p", "Property", body, "p", "h")
    summary = summarize_article(article, encoder, max_sentences=max_sentences, min_sentences=min_sentences)
    points = summary.points
    assert len(points) <= max_sentences
    assert all(p.text.strip() == p.text and p.text for p in points)
    assert_verbatim_in_order(points, body)


# -- find_article / suggest_articles --


def test_find_article_by_id_exact_title_and_fuzzy_words(articles):
    listed = list(articles.values())
    assert find_article(listed, SEED_ID).id == SEED_ID
    shouted = "  CHINA invites pakistan to SCO's   security council's MEETING "
    assert find_article(listed, shouted).id == SEED_ID
    assert find_article(listed, "china invites").id == SEED_ID
    assert find_article(listed, "harbour brige").id == "harbour-bridge"
    assert find_article(listed, "kenyan runner").id == "marathon-2024"


def test_find_article_miss_names_close_titles(articles):
    with pytest.raises(ArticleNotFoundError) as err:
        find_article(list(articles.values()), "volcano eruption in iceland")
    message = str(err.value)
    assert message.startswith("No article matches 'volcano eruption in iceland'. Did you mean:")
    assert sum(a.title in message for a in articles.values()) == 3


def test_find_article_ambiguous_words_ask_which_one(articles):
    with pytest.raises(ArticleNotFoundError, match="several articles") as err:
        find_article(list(articles.values()), "portmere")
    assert "harbour bridge" in str(err.value) and "marathon" in str(err.value)


@pytest.mark.parametrize("ref", ["", "   ", "\n"])
def test_find_article_blank_ref(articles, ref):
    with pytest.raises(ArticleNotFoundError, match=r"^Which article\? Give its title or id\.$"):
        find_article(list(articles.values()), ref)


def test_find_article_in_an_empty_corpus():
    with pytest.raises(ArticleNotFoundError, match="no articles"):
        find_article([], "china invites")


def test_suggest_articles(articles):
    listed = list(articles.values())
    assert [a.id for a in suggest_articles(listed, "")] == [
        "wildfire",
        "rates-2024-06",
        "marathon-2024",
        "harbour-bridge",
        SEED_ID,
    ]
    assert [a.id for a in suggest_articles(listed, "", limit=2)] == ["wildfire", "rates-2024-06"]
    assert {a.id for a in suggest_articles(listed, "portm")} == {"marathon-2024", "harbour-bridge"}
    assert [a.id for a in suggest_articles(listed, "china inv")] == [SEED_ID]
    assert suggest_articles(listed, "wildfre")[0].id == "wildfire"
    assert suggest_articles(listed, "qzxv") == [] and suggest_articles(listed, "!!!") == []


# -- summarize_topic --


@pytest.fixture
def engine(seeds, make_engine):
    engine = make_engine(seeds)
    engine.refresh()
    return engine


def assert_cited_correctly(summary, hits) -> None:
    best = {}
    for hit in hits:
        best.setdefault(hit.article.id, hit)
    for point in summary.points:
        hit = best[point.citation.article_id]
        assert point.citation == Citation.of(hit.article, score=hit.score)
        assert point.text in hit.article.text


def test_topic_digest_spans_both_portmere_articles(engine, encoder):
    hits = engine.search("Portmere", 10)
    counting = CountingEncoder(encoder)
    summary = summarize_topic("Portmere", hits, counting)
    ids = [p.citation.article_id for p in summary.points]
    assert summary.title == "Digest: Portmere" and summary.article is None
    assert {"harbour-bridge", "marathon-2024"} <= set(ids)
    assert all(ids.count(i) <= 2 for i in ids) and len(ids) <= 5
    assert_cited_correctly(summary, hits)
    # Grouped by article in hit order, then in article order.
    order = list(dict.fromkeys(h.article.id for h in hits))
    assert ids == sorted(ids, key=order.index)
    for article_id in set(ids):
        text = next(h.article.text for h in hits if h.article.id == article_id)
        assert_verbatim_in_order([p for p in summary.points if p.citation.article_id == article_id], text)
    assert counting.calls == 1


def test_topic_digest_of_an_unrelated_query_still_cites_points(engine, encoder):
    hits = engine.search("quantum chromodynamics of gluons", 10)
    summary = summarize_topic("quantum chromodynamics of gluons", hits, encoder, max_points=3)
    assert 1 <= len(summary.points) <= 3
    assert_cited_correctly(summary, hits)


def test_topic_digest_without_hits_has_no_points(encoder):
    summary = summarize_topic("anything", [], encoder)
    assert summary.title == "Digest: anything" and summary.points == () and summary.article is None


# Two made-up dated articles, a story and its follow-up, that tell one fact (the evacuation) in
# different words, as follow-ups recap: a digest of the story should tell it once.
DAM_STORY = {
    "halden-dam.md": (
        "# Halden dam bursts and floods the Rell valley\n\nDate: 2024-04-02\n\n"
        "The Halden dam on the Rell river burst early on Tuesday, flooding the valley below. "
        "Some 1,200 residents of Oberau were evacuated by the fire brigade overnight. "
        "Engineers had warned about cracks in the dam wall for years.\n"
    ),
    "halden-inquiry.md": (
        "# Inquiry ordered into the Halden dam failure\n\nDate: 2024-04-05\n\n"
        "The regional government ordered an inquiry on Friday into the failure of the Halden dam. "
        "About 1,200 residents of Oberau were taken out of their homes overnight by firefighters. "
        "Repairs to the dam are expected to cost 40 million euros.\n"
    ),
}
EVACUATION = ("Some 1,200 residents of Oberau were evacuated", "About 1,200 residents of Oberau were taken out")


def test_topic_digest_of_a_story_and_its_follow_up_tells_a_fact_they_share_once(tmp_path, make_engine, monkeypatch):
    folder = tmp_path / "dam"
    folder.mkdir()
    for name, text in DAM_STORY.items():
        (folder / name).write_text(text, encoding="utf-8")
    engine = make_engine(folder)
    engine.refresh()
    hits = engine.search("Oberau flood", 10)

    def evacuation_points() -> list[str]:
        points = summarize_topic("Oberau flood", hits, engine.encoder).points
        assert {p.citation.article_id for p in points} == {h.article.id for h in hits}  # both articles cited
        return [p.text for p in points if p.text.startswith(EVACUATION)]

    assert len(evacuation_points()) == 1
    # Not by chance: both tellings are among the points when redundancy is not weighed at all.
    monkeypatch.setattr("embeddings.summaries.NEAR_DUPLICATE", 2.0)
    monkeypatch.setattr("embeddings.summaries.MMR_LAMBDA", 1.0)
    assert len(evacuation_points()) == 2
