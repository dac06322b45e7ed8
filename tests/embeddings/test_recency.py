"""News that changes: a story and its follow-ups (test articles written for this file). The
newest article answers a present-tense question and says its date; dated articles that state
the asked-for fact differently are quoted both."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from embeddings.answer.evidence import Candidate, QuestionFeatures
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.answer.recency import choose, is_present_tense
from embeddings.answer.spans import Span
from embeddings.answer.writer import ExtractiveAnswerWriter
from embeddings.models import Article, Chunk, Hit, Sentence


def story(id_: str, published: str, text: str) -> Article:
    return Article(
        id=id_, title="Flooding in the Varn valley", text=text, path=f"{id_}.md", content_hash=id_, published=published
    )


FIRST = story("flood-1", "2008-05-10", "Officials said 12 people have died in the Varn valley floods.")
UPDATE = story("flood-2", "2008-05-12", "The death toll from the Varn valley floods has risen to 31, officials said.")
OLD_CEO = story("ceo-1", "2007-02-01", "Anna Berg is the chief executive of Norsk Rail.")
NEW_CEO = story("ceo-2", "2009-06-03", "Norsk Rail named Tomas Lind its chief executive on Monday.")


def candidate(article: Article, needle: str, score: float) -> Candidate:
    whole = (Sentence(0, len(article.text)),)
    chunk = Chunk(article.id, 0, 0, len(article.text), article.text, whole, article.title, 0)
    start = article.text.index(needle)
    span = Span(start, start + len(needle), needle)
    return Candidate(Hit(0, chunk, article, 1.0, 0.6, 3.0, 1, 1), 0, article.text, 0.9, 0.5, 0.0, 0.2, span, score, 0.6)


def question(text: str, kind: AnswerType) -> QuestionFeatures:
    return QuestionFeatures(text, text, kind, MappingProxyType({}), frozenset(), frozenset(), frozenset(), frozenset())


@pytest.mark.parametrize(
    "text, present",
    [
        ("how many people have died in the floods", True),
        ("who is the boss of norsk rail now", True),
        ("who's running norsk rail", True),
        ("who was the chief executive in 2007", False),
        ("when did the flooding start", False),
    ],
)
def test_present_tense_questions_are_told_from_past_ones(text, present):
    assert is_present_tense(text) is present


def test_the_newest_article_answers_a_present_tense_question_and_says_its_date():
    # The older article scores a little higher (it words the fact more like the question).
    candidates = [candidate(FIRST, "12", 1.50), candidate(UPDATE, "31", 1.45)]
    asked = question("how many people have died in the floods", AnswerType.NUMBER)
    answer = ExtractiveAnswerWriter(AnswerPolicy(min_confidence=0.0)).write(
        asked, candidates, [c.hit for c in candidates]
    )
    assert answer.answered and answer.short_answer == "31"
    assert answer.sources[0].article_id == "flood-2"
    assert "12 May 2008" in answer.note


def test_dated_articles_that_disagree_are_both_quoted_with_their_dates():
    candidates = [candidate(NEW_CEO, "Tomas Lind", 1.40), candidate(OLD_CEO, "Anna Berg", 1.38)]
    asked = question("who is the chief executive of norsk rail", AnswerType.WHO)
    answer = ExtractiveAnswerWriter(AnswerPolicy(min_confidence=0.0)).write(
        asked, candidates, [c.hit for c in candidates]
    )
    assert answer.short_answer == "Tomas Lind"
    assert answer.sentences == (NEW_CEO.text, OLD_CEO.text)
    assert [s.article_id for s in answer.sources] == ["ceo-2", "ceo-1"]
    assert "disagree" in answer.note and "3 June 2009" in answer.note and "1 February 2007" in answer.note


def test_a_past_tense_question_keeps_the_best_scoring_article():
    candidates = [candidate(FIRST, "12", 1.50), candidate(UPDATE, "31", 1.45)]
    chosen = choose(candidates, "how many people died at first", AnswerType.NUMBER, margin=0.15)
    assert chosen.best.hit.article.id == "flood-1"


def test_a_far_weaker_article_does_not_compete_on_date():
    candidates = [candidate(FIRST, "12", 1.50), candidate(UPDATE, "31", 0.90)]
    chosen = choose(candidates, "how many people have died in the floods", AnswerType.NUMBER, margin=0.15)
    assert chosen.best.hit.article.id == "flood-1" and chosen.rival is None


def test_articles_that_agree_are_not_called_a_disagreement():
    again = story("flood-3", "2008-05-13", "Rescuers said the death toll stayed at 31 on Tuesday.")
    candidates = [candidate(UPDATE, "31", 1.5), candidate(again, "31", 1.49)]
    chosen = choose(candidates, "how many have died", AnswerType.NUMBER, margin=0.15)
    assert chosen.best.hit.article.id == "flood-3" and chosen.rival is None
