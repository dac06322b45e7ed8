"""Chunking: token windows of the real model's tokenizer, whole sentences, exact offsets."""

from __future__ import annotations

import hashlib
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings.ingest.chunking import SPECIAL_TOKENS, ChunkingConfig, chunk_article
from embeddings.ingest.corpus import read_corpus
from embeddings.ingest.sentences import split_sentences
from embeddings.models import Article

from ..conftest import SEED


def article(text: str, title: str = "Headline") -> Article:
    return Article(id="a", title=title, text=text, path="a.txt", content_hash=hashlib.sha256(text.encode()).hexdigest())


@pytest.fixture(scope="module")
def seed_article() -> Article:
    return read_corpus(SEED.parent).articles[0]


def test_seed_article_chunks_fit_the_window_and_overlap(seed_article, encoder):
    chunks = chunk_article(seed_article, encoder, ChunkingConfig(chunk_tokens=128))
    assert len(chunks) > 1
    for before, after in pairwise(chunks):
        assert before.sentences[-1] in after.sentences  # at least one shared sentence
    assert all(c.tokens <= encoder.max_tokens for c in chunks)
    assert all(c.embed_text.startswith(seed_article.title + "\n") for c in chunks)


def test_may_21_22_stays_inside_one_sentence_of_one_chunk(seed_article, encoder):
    chunks = chunk_article(seed_article, encoder, ChunkingConfig())
    holding = [c for c in chunks if "May 21-22" in c.text]
    assert holding and holding[0].ordinal == 0
    sentence = next(s for s in holding[0].sentences if "May 21-22" in seed_article.text[s.start : s.end])
    assert seed_article.text[sentence.start : sentence.end].startswith("Adviser to Prime Minister")


def test_a_sentence_longer_than_the_window_is_cut_into_fitting_pieces(encoder):
    text = "word " * 2000 + "end."
    chunks = chunk_article(article(text), encoder, ChunkingConfig(chunk_tokens=64))
    assert len(chunks) > 10
    assert all(c.tokens <= 64 + SPECIAL_TOKENS + 2 for c in chunks)  # + the headline's tokens


def test_a_huge_headline_is_shortened_for_embedding(encoder):
    chunks = chunk_article(article("Short body. Two sentences.", title="very long " * 500), encoder, ChunkingConfig())
    assert all(c.tokens <= encoder.max_tokens for c in chunks)
    assert chunks[0].heading.startswith("very long")


def long_news_article() -> Article:
    """A made-up long article: 80 distinct sentences of news prose in paragraphs of four."""
    towns = ["Harbin", "Quetta", "Lagos", "Tromsø", "Cusco", "Hobart", "Tartu", "Mombasa"]
    sentences = [
        f"On day {i} the council of {towns[i % 8]} reviewed report {i * 7} on the harbour budget, "
        f"which officials said would cost {i + 3} million dollars over {i % 5 + 2} years."
        for i in range(80)
    ]
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, 80, 4)]
    return article("\n\n".join(paragraphs), title="Councils review harbour budgets across eight cities")


def test_a_chunk_size_of_the_whole_window_fills_it_on_a_long_article(encoder):
    art = long_news_article()
    chunks = chunk_article(art, encoder, ChunkingConfig(chunk_tokens=encoder.max_tokens))
    assert len(chunks) > 3
    for before, after in pairwise(chunks):
        following = next(s for s in after.sentences if s not in before.sentences)
        # The sentence that starts the next chunk's new text did not fit: the window was full.
        grown = f"{before.heading}\n{art.text[before.start : following.end]}"
        assert encoder.count_tokens([grown])[0] + SPECIAL_TOKENS > encoder.max_tokens
        assert before.tokens <= encoder.max_tokens


def test_engine_settings_cut_articles_as_the_default_chunking_config():
    from embeddings.settings import EngineSettings

    settings = EngineSettings(_env_file=None)
    assert ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences) == ChunkingConfig()


def test_an_empty_body_gives_no_chunks(encoder):
    assert chunk_article(article("   \n\n  "), encoder, ChunkingConfig()) == []


WORDS = st.sampled_from(
    [
        "the",
        "U.S.",
        "Mr.",
        "Khan",
        "said",
        "Beijing",
        "May",
        "21-22",
        "meeting",
        "3.5%",
        "naïve",
        "北京",
        "supercalifragilisticexpialidocious" * 3,
        "“quoted”",
        "e.g.",
        "(SCO)",
        "-",
        "Dr.",
        "x" * 300,
    ]
)
SENTENCES = st.lists(WORDS, min_size=1, max_size=60).map(lambda ws: " ".join(ws) + ".")
PARAGRAPHS = st.lists(SENTENCES, min_size=1, max_size=8).map(" ".join)
BODIES = st.lists(PARAGRAPHS, min_size=1, max_size=6).map("\n\n".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=BODIES, chunk_tokens=st.sampled_from([32, 64, 128, 250, 512]), overlap=st.integers(1, 3))
def test_chunk_properties(encoder, body, chunk_tokens, overlap):
    art = article(body, title="Shanghai Cooperation Organization meets in Beijing")
    chunks = chunk_article(art, encoder, ChunkingConfig(chunk_tokens, overlap))
    # Never over the model's window: the encoder would silently truncate.
    for c in chunks:
        assert c.tokens <= encoder.max_tokens
        assert encoder.count_tokens([c.embed_text])[0] + SPECIAL_TOKENS == c.tokens
    # Offsets slice back to the chunk text and its sentences lie inside it.
    for c in chunks:
        assert art.text[c.start : c.end] == c.text
        assert all(c.start <= s.start < s.end <= c.end for s in c.sentences)
    # Every sentence of the article lands in some chunk (whole, or cut into pieces that are).
    covered = set()
    for c in chunks:
        for s in c.sentences:
            covered.update(range(s.start, s.end))
    for s in split_sentences(art.text):
        assert all(i in covered for i in range(s.start, s.end) if not art.text[i].isspace())
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
