"""Grounded answers: retrieve passages, pick the sentence that answers, cut the short answer
from it, and refuse plainly when the articles do not hold the answer.

The pipeline only composes the parts: ``evidence`` reads the question and ranks the sentences
of the passages (an ``EvidenceSelector``), ``writer`` turns them into the ``Answer`` (an
``AnswerWriter``). It reads the corpus through ``retriever.search`` and the snapshot's
``analyzer`` only, so it answers over any search backend.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import get_args

from embeddings.answer.entities import SpanFinder
from embeddings.answer.evidence import (
    EvidenceSelector,
    LexicalEvidenceScorer,
    SemanticEvidenceScorer,
    TextEmbedder,
    read_question,
)
from embeddings.answer.policy import SUPPORT_CONFIDENCE_WEIGHTS, AnswerPolicy
from embeddings.answer.writer import AnswerWriter, ExtractiveAnswerWriter
from embeddings.models import Answer
from embeddings.retrieval import Retriever, clean_query
from embeddings.settings import AnswerWriterKind, EngineSettings, RetrievalMode
from embeddings.timing import stage

__all__ = ["AnswerComponents", "AnswerPolicy", "answer_components", "answer_question", "make_answerer"]

# NEWSBOT_ANSWER_WRITER → the writer; a new writer is one more entry (and one more Literal value
# in embeddings.settings.AnswerWriterKind).
_WRITERS: dict[str, Callable[[AnswerPolicy, SpanFinder | None], AnswerWriter]] = {"extractive": ExtractiveAnswerWriter}


@dataclass(frozen=True, slots=True)
class AnswerComponents:
    """The two parts an answer is made with."""

    selector: EvidenceSelector
    writer: AnswerWriter


def answer_components(
    policy: AnswerPolicy = AnswerPolicy(),
    writer: AnswerWriterKind = "extractive",
    embedder: TextEmbedder | None = None,
    spans: SpanFinder | None = None,
) -> AnswerComponents:
    """The evidence scorer (semantic with an ``embedder``, else lexical only) and the writer
    named ``writer`` (``NEWSBOT_ANSWER_WRITER``), both with ``policy``, the writer cutting short
    answers with ``spans`` when given; ValueError for an unknown writer."""
    if writer not in _WRITERS:
        raise ValueError(f"Unknown answer writer {writer!r}; use one of {', '.join(get_args(AnswerWriterKind))}.")
    selector: EvidenceSelector = (
        SemanticEvidenceScorer(policy, embedder) if embedder is not None else LexicalEvidenceScorer(policy)
    )
    return AnswerComponents(selector, _WRITERS[writer](policy, spans))


def make_answerer(
    settings: EngineSettings,
    policy: AnswerPolicy = AnswerPolicy(),
    embedder: TextEmbedder | None = None,
    spans: SpanFinder | None = None,
) -> AnswerComponents:
    """The components ``settings`` choose (``answer_writer``, ``answer_evidence``), for
    ``answer_question``; with ``answer_evidence="semantic"``, ``embedder`` (the retriever) lets
    the evidence use meaning; ``spans`` (``entities.span_finder(settings.answer_entities)``,
    loaded once by the caller: the model takes seconds) cuts the short answers. With
    ``answer_confidence="support"`` the writer weighs its confidence with
    ``SUPPORT_CONFIDENCE_WEIGHTS`` instead of ``policy``'s."""
    semantic = settings.answer_evidence == "semantic"
    if settings.answer_confidence == "support":
        policy = replace(policy, confidence_weights=SUPPORT_CONFIDENCE_WEIGHTS)
    return answer_components(policy, settings.answer_writer, embedder if semantic else None, spans)


def answer_question(
    retriever: Retriever,
    question: str,
    history: Sequence[str] = (),
    policy: AnswerPolicy = AnswerPolicy(),
    mode: RetrievalMode = "hybrid",
    *,
    components: AnswerComponents | None = None,
) -> Answer:
    """Answer ``question`` (a follow-up is read in the light of ``history``, the earlier
    questions, oldest first) from the articles behind ``retriever``: the passages are searched
    in ``mode``. ``policy`` decides how the question is read and how many passages are read;
    ``components`` (built with their own policy, normally the same one) default to the
    lexical scorer and the extractive writer with ``policy``. Raises
    QueryError for a question with no words or too long."""
    components = components or answer_components(policy)
    analyzer = retriever.snapshot.analyzer
    with stage("question"):
        features = read_question(clean_query(question), history, analyzer, policy)
    hits = retriever.search(features.standalone, policy.passages, mode)
    with stage("evidence"):
        candidates = components.selector.select(features, analyzer, hits)
    with stage("write"):
        return components.writer.write(features, candidates, hits)
