"""Answer writing: from the ranked candidate sentences to the ``Answer`` the user reads, or a
plain refusal that lists the closest articles.

An ``AnswerWriter`` decides whether the evidence is good enough and words the reply; it does
not score sentences (that is ``evidence``). ``ExtractiveAnswerWriter`` is today's writer: it
quotes the best sentence and cuts the short answer from it, so every answer is grounded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from embeddings.answer.dates import resolve_date
from embeddings.answer.entities import SpanFinder
from embeddings.answer.evidence import Candidate, QuestionFeatures
from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType
from embeddings.answer.recency import as_of, choose, disagreement_note, is_present_tense
from embeddings.answer.support import SUPPORT_SIGNALS, support_signals
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
    confidence is below ``policy.min_confidence``. With ``spans``, the short answer is cut
    from the quoted sentence by that finder (a named-entity model), else it is the span the
    evidence scorer found."""

    def __init__(self, policy: AnswerPolicy = AnswerPolicy(), spans: SpanFinder | None = None) -> None:
        self.policy = policy
        self.spans = spans

    def write(self, question: QuestionFeatures, candidates: Sequence[Candidate], hits: Sequence[Hit]) -> Answer:
        """See ``AnswerWriter.write``."""
        best = candidates[0] if candidates else None
        # The default weighs the support signals 0: skip them there (they scan every candidate).
        weighs_support = any(self.policy.confidence_weights[-len(SUPPORT_SIGNALS) :])
        support = support_signals(question, best, candidates) if best and weighs_support else None
        confidence = confidence_of(best, hits, self.policy, question.kind, support)
        if not candidates or confidence < self.policy.min_confidence:
            return self.refusal(question, hits, confidence)
        chosen = choose(candidates, question.text, question.kind, self.policy.recency_margin)
        best, rival = chosen.best, chosen.rival
        quoted = (best, rival) if rival else (best,)
        return Answer(
            question=question.text,
            answered=True,
            short_answer=self._short_answer(best, question),
            sentences=tuple(c.text for c in quoted),
            sources=tuple(Citation.of(c.hit.article, c.hit.score) for c in quoted),
            confidence=round(confidence, 4),
            standalone_question=question.standalone,
            note=_note(best, rival, question),
        )

    def _short_answer(self, best: Candidate, question: QuestionFeatures) -> str | None:
        if self.spans is None or question.kind is AnswerType.OTHER:
            return best.span.text if best.span else None
        span = self.spans.find(best.text, set(question.weights), question.kind)
        return span.text if span else None

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


# The signals the confidence combines, in the order of ``AnswerPolicy.confidence_weights``
# (after its bias); ``benchmarks/fit_confidence.py`` fits the weights. The last ones are
# ``support.py``'s: whether the sentence states the asked-for fact, not only the topic.
CONFIDENCE_SIGNALS = ("coverage", "cosine", "dense", "agree", "dense_margin", "bm25_margin", *SUPPORT_SIGNALS)
# Dates and numbers are found by patterns that rarely miss one: a "when" or "how many" question
# whose best sentence holds none is most likely answered by no sentence at all.
SLOT_KINDS = (AnswerType.WHEN, AnswerType.NUMBER)


def confidence_signals(
    best: Candidate, hits: Sequence[Hit], support: Mapping[str, float] | None = None
) -> dict[str, float]:
    """What the confidence is made of: the best sentence's coverage of the question's terms
    and its cosine to the question (0 when not measured), the best passage cosine, whether
    both lists put the sentence's passage first, the margin of each list's first passage
    over its second among the hits (dense: cosine difference; BM25: share of the first's
    score), and ``support`` (``support.support_signals``; 0 each when not given)."""
    dense = sorted((h.dense_score for h in hits if h.dense_score is not None), reverse=True)
    bm25 = sorted((h.bm25_score for h in hits if h.bm25_score is not None), reverse=True)
    return {
        "coverage": best.coverage,
        "cosine": best.cosine or 0.0,
        "dense": max(0.0, dense[0]) if dense else 0.0,
        "agree": float(best.hit.dense_rank == 1 and best.hit.bm25_rank == 1),
        "dense_margin": dense[0] - dense[1] if len(dense) > 1 else 0.0,
        "bm25_margin": (bm25[0] - bm25[1]) / bm25[0] if len(bm25) > 1 and bm25[0] > 0 else 0.0,
        **{name: (support or {}).get(name, 0.0) for name in SUPPORT_SIGNALS},
    }


def confidence_of(
    best: Candidate | None,
    hits: Sequence[Hit],
    policy: AnswerPolicy = AnswerPolicy(),
    kind: AnswerType = AnswerType.OTHER,
    support: Mapping[str, float] | None = None,
) -> float:
    """How sure we are that ``best`` answers, from 0 to 1. Without a measured sentence cosine:
    half the share of the question's (idf-weighted) terms the sentence holds, half how close
    the passages are in meaning (the best dense score; 0 without dense scores, as in bm25
    mode). With one: a logistic combination of ``confidence_signals`` with weights fitted on
    XQuAD and natural news questions (``policy.confidence_weights``; ``support`` are the
    signals of ``support.support_signals``), times ``policy.unfilled_slot`` when a question
    of ``kind`` when or how-many gets a sentence holding no date or number."""
    if best is None:
        return 0.0
    signals = confidence_signals(best, hits, support)
    if best.cosine is None:
        return 0.5 * best.coverage + 0.5 * signals["dense"]
    bias, *weights = policy.confidence_weights
    z = bias + sum(w * signals[name] for w, name in zip(weights, CONFIDENCE_SIGNALS, strict=True))
    return (policy.unfilled_slot if is_unfilled(best, kind) else 1.0) / (1.0 + math.exp(-z))


def is_unfilled(best: Candidate, kind: AnswerType) -> bool:
    """Whether a "when" or "how many" question's best sentence holds no date or number."""
    return kind in SLOT_KINDS and best.span is None


def _note(best: Candidate, rival: Candidate | None, question: QuestionFeatures) -> str | None:
    """The resolved date of a "when" answer, the date a present-tense answer holds as of, and
    a disagreement between dated articles, as one note."""
    parts = [date_note(best, question.kind)]
    if rival is not None:
        parts.append(disagreement_note(best, rival))
    elif is_present_tense(question.text) and (when := as_of(best)) and best.hit.article.published:
        parts.append(f"{when[0].upper()}{when[1:]} (the article's date)")
    return "; ".join(p for p in parts if p) or None


def date_note(best: Candidate, kind: AnswerType) -> str | None:
    """For a "when" answer, the date its span means, resolved against the article's date
    ("“Thursday” = 14 March 2024 (...)"); None when there is nothing to resolve."""
    if kind is not AnswerType.WHEN or best.span is None:
        return None
    resolved = resolve_date(best.span.text, best.hit.article.published, best.text)
    if resolved is None:
        return None
    return f"“{best.span.text}” = {resolved} (the article is dated {best.hit.article.published})"
