"""Evidence selection alone: the question's features and the ranked candidate sentences, over
hand-made hits of the real fixture articles and a lexical analyzer built from them (no
retriever, no encoder)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from embeddings.answer.evidence import (
    Candidate,
    EvidenceSelector,
    LexicalEvidenceScorer,
    QuestionFeatures,
    SemanticEvidenceScorer,
    misfits,
    read_question,
    sentences,
)
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.answer.spans import Span
from embeddings.index.backend import TermAnalyzer
from embeddings.index.lexical import LexicalIndex
from embeddings.ingest.corpus import read_corpus
from embeddings.ingest.sentences import split_sentences
from embeddings.models import Article, Chunk, Hit

from ..conftest import copy_seeds


@pytest.fixture(scope="module")
def articles(tmp_path_factory) -> dict[str, Article]:
    """The fixture articles by a word of their id or title ("marathon", "bridge", "SCO"...)."""
    corpus = read_corpus(copy_seeds(tmp_path_factory.mktemp("evidence") / "seeds"))
    return {a.id: a for a in corpus.articles}


@pytest.fixture(scope="module")
def analyzer(articles) -> TermAnalyzer:
    """BM25 terms and idf over the fixture articles, one chunk each."""
    return LexicalIndex.build(range(len(articles)), [a.text for a in articles.values()])


def find(articles: dict[str, Article], word: str) -> Article:
    return next(a for a in articles.values() if word.lower() in (a.id + a.title).lower())


def hit(article: Article, rank: int = 0) -> Hit:
    """The whole article as one retrieved chunk."""
    chunk = Chunk(article.id, 0, 0, len(article.text), article.text, split_sentences(article.text), article.title, 0)
    return Hit(rank, chunk, article, score=1.0 / (rank + 1), dense_score=0.5)


def select(analyzer, question: str, hits: list[Hit], history=()) -> tuple[QuestionFeatures, list[Candidate]]:
    features = read_question(question, history, analyzer)
    return features, LexicalEvidenceScorer().select(features, analyzer, hits)


def test_the_scorer_is_an_evidence_selector():
    assert isinstance(LexicalEvidenceScorer(), EvidenceSelector)


def test_the_sentence_that_answers_ranks_first_with_its_short_answer(articles, analyzer):
    hits = [hit(find(articles, "bridge"), 0), hit(find(articles, "marathon"), 1), hit(find(articles, "wildfire"), 2)]
    features, candidates = select(analyzer, "Who won the Portmere marathon?", hits)
    best = candidates[0]
    assert features.kind is AnswerType.WHO
    assert best.hit.article.id == find(articles, "marathon").id and best.rank == 1
    assert best.span is not None and best.span.text == "Grace Wanjiru"
    assert best.span.text in best.text and best.text in best.hit.article.text


def test_candidates_are_every_distinct_sentence_best_first(articles, analyzer):
    bridge = find(articles, "bridge")
    hits = [hit(bridge, 0), hit(bridge, 1), hit(find(articles, "rates"), 2)]  # the same chunk twice
    _, candidates = select(analyzer, "How much did the Portmere harbour bridge cost?", hits)
    assert len(candidates) == len(list(sentences(hits))) == len(hits[0].chunk.sentences) + len(hits[2].chunk.sentences)
    assert len({(c.hit.article.id, c.text) for c in candidates}) == len(candidates)
    assert [c.score for c in candidates] == sorted((c.score for c in candidates), reverse=True)
    assert all(c.rank != 1 for c in candidates)  # a repeated sentence counts once, with its best hit
    assert candidates[0].span.text == "310 million euros"


def test_the_features_add_up_to_the_score(articles, analyzer):
    policy = AnswerPolicy()
    question = "When will the SCO security council secretaries meet?"
    _, candidates = select(analyzer, question, [hit(find(articles, "SCO"))])
    for c in candidates:
        assert 0.0 <= c.coverage <= 1.0 and 0.0 <= c.exact <= 1.0 and 0.0 <= c.phrase <= 1.0
        assert 0.0 <= c.typed <= policy.type_weight and (c.typed > 0) == (c.span is not None)
        expected = (
            c.coverage
            + policy.exact_weight * c.exact
            + policy.phrase_weight * c.phrase
            + c.typed
            + policy.rank_weight / (c.rank + 1)
        )
        assert c.score == pytest.approx(expected)
    assert candidates[0].span.text == "May 21-22"


def test_a_question_without_a_factoid_kind_gets_no_span(articles, analyzer):
    _, candidates = select(analyzer, "Why did the Norland central bank keep its rate?", [hit(find(articles, "rates"))])
    assert all(c.span is None and c.typed == 0.0 for c in candidates)
    assert "stubborn inflation" in candidates[0].text


def test_no_hits_no_candidates(analyzer):
    assert select(analyzer, "Who won the Portmere marathon?", [])[1] == []


def test_question_words_carry_no_weight_and_the_predicate_weighs_most(analyzer):
    features = read_question("Who will chair the SCO meeting?", (), analyzer)
    assert not {"who", "will"} & set(features.weights)
    assert features.focus == {"chair"} and features.focus_terms <= {"chair"}
    assert features.weights["chair"] == pytest.approx(2.0 * analyzer.idf("chair"))
    assert ("sco", "meet") in features.pairs


def test_a_follow_up_borrows_the_topic_at_a_lower_weight(analyzer):
    features = read_question("Where is it held?", ["When is the SCO security council secretaries meeting?"], analyzer)
    assert "SCO" in features.standalone and features.kind is AnswerType.WHERE
    assert features.weights["sco"] == pytest.approx(AnswerPolicy().topic_weight * analyzer.idf("sco"))


class _OneChunk:
    """A one-article index's analyzer: every term in every chunk, idf ~0.1 (BM25's floor)."""

    def terms(self, text: str) -> list[str]:
        return [w.lower() for w in text.replace("?", " ").split()]

    def idf(self, term: str) -> float:
        return 0.105

    def knows(self, term: str) -> bool:
        return True


def test_a_term_of_every_chunk_still_weighs_the_idf_floor():
    """In a one-article index the headline is in every chunk, so its words (the question's
    topic) would weigh ~0.1 each against ~2.3 for a word the article never uses."""
    features = read_question("when do the SCO chiefs meet", (), _OneChunk())
    floor = AnswerPolicy().idf_floor
    assert floor > 0.105
    assert features.weights["sco"] == pytest.approx(floor)
    assert features.weights["meet"] == pytest.approx(AnswerPolicy().focus_weight * floor)


class _SameMeaning:
    """Every text the same vector: only the lexical score and the span decide."""

    def embed_texts(self, texts):
        import numpy as np

        return np.ones((len(texts), 4), dtype=np.float32) / 2.0

    def sentence_vectors(self, chunk_ids):
        return {}


SESSION = Article(
    id="session",
    title="Security talks",
    text="Chinese leaders will meet the heads of the delegations. Zhao Kezhi will chair it.",
    path="session.md",
    content_hash="s",
)


@pytest.mark.parametrize("penalty, best", [(0.0, "heads"), (0.7, "Zhao Kezhi")])
def test_a_who_question_prefers_a_sentence_holding_a_name(penalty, best):
    """ "Who heads ...": the sentence sharing "heads" holds no name; at equal meaning, the
    policy's penalty for a sentence without a span of the asked kind lets the named one win."""
    analyzer = LexicalIndex.build(range(1), [SESSION.text])
    features = read_question("who heads the talks", (), analyzer)
    policy = AnswerPolicy(untyped_penalty=penalty)
    ranked = SemanticEvidenceScorer(policy, _SameMeaning()).select(features, analyzer, [hit(SESSION)])
    assert best in ranked[0].text
    assert (ranked[0].span is not None) == (penalty > 0)


def _span(sentence: str, text: str) -> Span:
    start = sentence.index(text)
    return Span(start, start + len(text), text)


@pytest.mark.parametrize(
    "question, kind, sentence, span, expected",
    [
        # a date must have the grain asked for
        ("in what year did she quit", AnswerType.WHEN, "She quit on Tuesday.", "Tuesday", True),
        ("in what year did she quit", AnswerType.WHEN, "She quit on Tuesday, 4 May 2018.", "Tuesday", False),
        ("which years did he run London", AnswerType.WHEN, "He ran it from 2008 to 2016.", "2008 to 2016", False),
        ("at what time did the ferry sink", AnswerType.WHEN, "The ferry sank on Thursday.", "Thursday", True),
        ("at what time did the ferry sink", AnswerType.WHEN, "It sank at 4:40 a.m. on Thursday.", "Thursday", False),
        ("when did the ferry sink", AnswerType.WHEN, "The ferry sank on Thursday.", "Thursday", False),
        # a count of things is no duration, unless a duration is asked for
        ("how many runners paced him", AnswerType.NUMBER, "He ran it in under two hours.", "two hours", True),
        ("how many runners paced him", AnswerType.NUMBER, "It featured 42 pacemakers.", "42", False),
        ("how many days did the strike last", AnswerType.NUMBER, "It lasted three days.", "three days", False),
        ("how long did the strike last", AnswerType.NUMBER, "It lasted three days.", "three days", False),
        # names are left to the span finder (a name repeating the question's cost SQuAD more than it gave)
        ("who did Clinton beat in Iowa", AnswerType.WHO, "Hillary Clinton won Iowa.", "Hillary", False),
    ],
)
def test_a_span_misfits_when_it_lacks_the_asked_for_grain(question, kind, sentence, span, expected):
    assert misfits(question, kind, sentence, _span(sentence, span)) is expected


def test_no_span_is_no_misfit():
    assert not misfits("in what year did she quit", AnswerType.WHEN, "She quit.", None)


@pytest.mark.parametrize(
    "question, text, answer",
    [
        (
            "in what year did johnson quit as foreign secretary",
            "Johnson, the former foreign secretary, was elected party leader on Tuesday. "
            "He resigned from the cabinet in 2018.",
            "2018",
        ),
        (
            "at what time did the ferry sink",
            "The ferry sank off the coast on Thursday, the coastguard said. "
            "Its last signal came at 4:40 a.m. before it went down.",
            "4:40 a.m.",
        ),
        (
            "how many pacers ran with kipchoge in the marathon",
            "Kipchoge ran the marathon in under two hours on Saturday. It featured 42 pacemakers.",
            "42",
        ),
    ],
)
@pytest.mark.parametrize("penalty", [0.0, 0.7])
def test_a_sentence_whose_only_span_misfits_counts_as_holding_none(question, text, answer, penalty):
    """The sentence sharing the question's words holds only a date of another grain or a
    duration for a count: at equal meaning, it loses to the one holding the answer exactly
    when the policy penalises a sentence without a fitting span."""
    article = replace(SESSION, text=text, content_hash=text)
    analyzer = LexicalIndex.build(range(1), [text])
    features = read_question(question, (), analyzer)
    ranked = SemanticEvidenceScorer(AnswerPolicy(untyped_penalty=penalty), _SameMeaning()).select(
        features, analyzer, [hit(article)]
    )
    assert (ranked[0].span is not None and ranked[0].span.text == answer) == (penalty > 0)
