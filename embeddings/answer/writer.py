"""Answer writing: from the ranked candidate sentences to the ``Answer`` the user reads, or a
plain refusal that lists the closest articles.

An ``AnswerWriter`` decides whether the evidence is good enough and words the reply; it does
not score sentences (that is ``evidence``). ``ExtractiveAnswerWriter`` is today's writer: it
quotes the best sentence and cuts the short answer from it, so every answer is grounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from embeddings.answer.dates import resolve_date
from embeddings.answer.evidence import Candidate, QuestionFeatures
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.models import Answer, Citation, Hit


@runtime_checkable
class AnswerWriter(Protocol):
    """Turns the evidence for a question into the ``Answer``."""

    def write(self, question: QuestionFeatures, candidates: Sequence[Candidate], hits: Sequence[Hit]) -> Answer:
        """The answer to ``question`` from ``candidates`` (best first) found in ``hits`` (the
        retrieved passages, best first): answered, or refused with the closest articles."""
        ...


class ExtractiveAnswerWriter:
    """Answers with the best candidate sentence, quoted verbatim, its short answer, the article
    it comes from and, for a "when" question, the relative date resolved; refuses when the
    confidence is below ``policy.min_confidence``."""

    def __init__(self, policy: AnswerPolicy = AnswerPolicy()) -> None:
        self.policy = policy

    def write(self, question: QuestionFeatures, candidates: Sequence[Candidate], hits: Sequence[Hit]) -> Answer:
        """See ``AnswerWriter.write``."""
        best = candidates[0] if candidates else None
        confidence = confidence_of(best, hits)
        if best is None or confidence < self.policy.min_confidence:
            return self.refusal(question, hits, confidence)
        return Answer(
            question=question.text,
            answered=True,
            short_answer=best.span.text if best.span else None,
            sentences=(best.text,),
            sources=(Citation.of(best.hit.article, best.hit.score),),
            confidence=round(confidence, 4),
            standalone_question=question.standalone,
            note=date_note(best, question.kind),
        )

    def refusal(self, question: QuestionFeatures, hits: Sequence[Hit], confidence: float) -> Answer:
        """ "Not found", with up to ``policy.related`` closest articles (one citation each, in
        the order of their best hit)."""
        closest: dict[str, Citation] = {}
        for hit in hits:
            closest.setdefault(hit.article.id, Citation.of(hit.article, hit.score))
        return Answer(
            question=question.text,
            answered=False,
            short_answer=None,
            sentences=(),
            sources=tuple(list(closest.values())[: self.policy.related]),
            confidence=round(confidence, 4),
            standalone_question=question.standalone,
        )


def confidence_of(best: Candidate | None, hits: Sequence[Hit]) -> float:
    """How sure we are that ``best`` answers, from 0 to 1: half the share of the question's
    (idf-weighted) terms the sentence holds, half how close the passages are in meaning (the
    best dense score; 0 without dense scores, as in bm25 mode)."""
    if best is None:
        return 0.0
    dense = max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)
    return 0.5 * best.coverage + 0.5 * max(0.0, dense)


def date_note(best: Candidate, kind: AnswerType) -> str | None:
    """For a "when" answer, the date its span means, resolved against the article's date
    ("“Thursday” = 14 March 2024 (...)"); None when there is nothing to resolve."""
    if kind is not AnswerType.WHEN or best.span is None:
        return None
    resolved = resolve_date(best.span.text, best.hit.article.published, best.text)
    if resolved is None:
        return None
    return f"“{best.span.text}” = {resolved} (the article is dated {best.hit.article.published})"
