"""The answer writer alone, on hand-made candidates: when it refuses, what it cites, the date
note; and the pipeline taking another selector or writer (one new class each)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from embeddings.answer.answering import AnswerComponents, answer_components, answer_question
from embeddings.answer.evidence import Candidate, LexicalEvidenceScorer, QuestionFeatures
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.answer.spans import Span
from embeddings.answer.writer import AnswerWriter, ExtractiveAnswerWriter
from embeddings.models import Answer, Article, Chunk, Hit, Sentence
from embeddings.retrieval import Retriever
from embeddings.settings import EngineSettings

from ..conftest import indexed_engine, open_live

BRIDGE = Article(
    id="bridge",
    title="New harbour bridge opens to traffic in Portmere",
    text="The new harbour bridge opened to traffic on Thursday morning, the city council said.",
    path="bridge.md",
    content_hash="h1",
    published="2024-03-14",
    source="Portmere Gazette",
    url="https://example.org/bridge",
    place="PORTMERE",
)
FIRE = Article(
    id="fire",
    title="Wildfire forces evacuation",
    text="A wildfire forced an evacuation.",
    path="fire.html",
    content_hash="h2",
    published="2024-07-05",
)


def hit(article: Article, score: float, dense: float | None) -> Hit:
    whole = (Sentence(0, len(article.text)),)
    chunk = Chunk(article.id, 0, 0, len(article.text), article.text, whole, article.title, 0)
    return Hit(0, chunk, article, score=score, dense_score=dense)


def question(text: str, kind: AnswerType) -> QuestionFeatures:
    return QuestionFeatures(text, text, kind, MappingProxyType({}), frozenset(), frozenset(), frozenset(), frozenset())


def candidate(h: Hit, coverage: float, span: Span | None = None) -> Candidate:
    return Candidate(h, 0, h.article.text, coverage, 0.0, 0.0, 0.0, span, coverage)


WHEN = question("When did the harbour bridge open?", AnswerType.WHEN)
THURSDAY = Span(BRIDGE.text.index("Thursday"), BRIDGE.text.index("Thursday") + 8, "Thursday")


def test_the_writer_is_an_answer_writer():
    assert isinstance(ExtractiveAnswerWriter(), AnswerWriter)


def test_a_confident_answer_quotes_the_sentence_and_cites_its_article():
    bridge = hit(BRIDGE, 0.9, dense=0.6)
    answer = ExtractiveAnswerWriter().write(WHEN, [candidate(bridge, 0.8, THURSDAY)], [bridge])
    assert answer.answered and answer.short_answer == "Thursday"
    assert answer.sentences == (BRIDGE.text,)
    source = answer.sources[0]
    assert (source.article_id, source.title, source.published, source.place, source.score) == (
        "bridge",
        BRIDGE.title,
        "2024-03-14",
        "PORTMERE",
        0.9,
    )
    assert answer.confidence == pytest.approx(0.5 * 0.8 + 0.5 * 0.6)
    assert answer.question == answer.standalone_question == WHEN.text


def test_a_relative_date_gets_a_note_against_the_article_date():
    bridge = hit(BRIDGE, 0.9, dense=0.6)
    answer = ExtractiveAnswerWriter().write(WHEN, [candidate(bridge, 0.8, THURSDAY)], [bridge])
    assert answer.note.startswith("“Thursday” = ") and "14 March 2024" in answer.note and "2024-03-14" in answer.note
    who = question("Who opened the bridge?", AnswerType.WHO)
    assert ExtractiveAnswerWriter().write(who, [candidate(bridge, 0.8, THURSDAY)], [bridge]).note is None


def test_below_the_threshold_it_refuses_with_the_closest_articles_once_each():
    hits = [hit(FIRE, 0.5, dense=0.2), hit(BRIDGE, 0.4, dense=0.1), hit(FIRE, 0.3, dense=0.05)]
    answer = ExtractiveAnswerWriter().write(WHEN, [candidate(hits[0], 0.3, THURSDAY)], hits)
    assert answer.confidence == pytest.approx(0.5 * 0.3 + 0.5 * 0.2)
    assert answer.confidence < AnswerPolicy().min_confidence
    assert not answer.answered and answer.short_answer is None and answer.sentences == () and answer.note is None
    assert [s.article_id for s in answer.sources] == ["fire", "bridge"]


def test_the_threshold_and_the_related_count_come_from_the_policy():
    hits = [hit(FIRE, 0.5, dense=0.2), hit(BRIDGE, 0.4, dense=0.1)]
    lenient = ExtractiveAnswerWriter(AnswerPolicy(min_confidence=0.1, related=1))
    assert lenient.write(WHEN, [candidate(hits[0], 0.3)], hits).answered
    refusal = lenient.write(WHEN, [], hits)
    assert not refusal.answered and refusal.confidence == 0.0 and len(refusal.sources) == 1


def test_without_dense_scores_confidence_is_the_coverage_alone():
    bridge = hit(BRIDGE, 0.9, dense=None)  # bm25 mode
    answer = ExtractiveAnswerWriter().write(WHEN, [candidate(bridge, 0.9, THURSDAY)], [bridge])
    assert answer.answered and answer.confidence == pytest.approx(0.45)


def test_the_settings_choose_the_writer():
    assert EngineSettings(_env_file=None).answer_writer == "extractive"
    components = answer_components(AnswerPolicy(), "extractive")
    assert isinstance(components.selector, LexicalEvidenceScorer)
    assert isinstance(components.writer, ExtractiveAnswerWriter)
    with pytest.raises(ValueError, match="extractive"):
        answer_components(AnswerPolicy(), "abstractive")  # type: ignore[arg-type]


class _Refuser:
    """Another writer is one class: this one never answers."""

    def write(self, question: QuestionFeatures, candidates, hits) -> Answer:
        return Answer(question.text, False, None, (), (), 0.0, question.standalone)


def test_the_pipeline_takes_another_writer(tmp_path, encoder):
    indexed_engine(tmp_path, encoder)
    retriever = Retriever(open_live(tmp_path / "data"), encoder)
    components = AnswerComponents(LexicalEvidenceScorer(), _Refuser())
    assert answer_question(retriever, "Who won the Portmere marathon?").short_answer == "Grace Wanjiru"
    assert not answer_question(retriever, "Who won the Portmere marathon?", components=components).answered


def test_the_settings_choose_semantic_evidence_unless_lexical_is_asked_for(seeds, make_engine):
    """Semantic by default (measured better on XQuAD and natural questions, docs/EVALUATION.md);
    lexical when asked for; the lexical scorer answers the seed question from the same sentence."""
    from embeddings.answer.answering import make_answerer
    from embeddings.answer.evidence import SemanticEvidenceScorer

    assert EngineSettings(_env_file=None).answer_evidence == "semantic"
    assert isinstance(make_answerer(EngineSettings(_env_file=None), embedder=object()).selector, SemanticEvidenceScorer)
    lexical = EngineSettings(_env_file=None, answer_evidence="lexical")
    assert isinstance(make_answerer(lexical, embedder=object()).selector, LexicalEvidenceScorer)
    engine = make_engine(seeds, answer_evidence="lexical")
    engine.refresh()
    answer = engine.answer("when does the SCO security meeting happen?")
    assert answer.answered and "May 21" in (answer.short_answer or "")


@pytest.mark.parametrize("kind, factor", [(AnswerType.WHEN, 0.5), (AnswerType.NUMBER, 0.5), (AnswerType.OTHER, 1.0)])
def test_a_when_or_how_many_sentence_without_a_date_or_number_halves_the_confidence(kind, factor):
    """ "How many member states ...?" quoted with a sentence that counts nothing: the fact is
    not stated there, whatever the words and meaning share."""
    from dataclasses import replace

    from embeddings.answer.writer import confidence_of

    bridge = hit(BRIDGE, 0.9, dense=0.6)
    unfilled = replace(candidate(bridge, 0.8), cosine=0.6)
    filled = replace(unfilled, span=THURSDAY)
    policy = AnswerPolicy()
    assert policy.unfilled_slot == 0.5
    assert confidence_of(unfilled, [bridge], policy, kind) == pytest.approx(
        factor * confidence_of(filled, [bridge], policy, kind)
    )
