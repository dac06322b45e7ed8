"""Grounded answers: retrieve passages, pick the sentence that answers, cut the short answer
from it, and refuse plainly when the articles do not hold the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from .dates import resolve_date
from .models import Answer, Citation, Hit
from .questions import AnswerType, answer_type, standalone_question
from .retrieval import Retriever, clean_query
from .settings import RetrievalMode
from .spans import Span, short_answer

_WORDS = re.compile(r"\w+")
_QUESTION_WORDS = frozenset({"when", "where", "who", "whom", "whose", "what", "which", "why", "how"})


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """The knobs of answering; defaults measured in docs/EVALUATION.md."""

    passages: int = 5            # chunks read for candidate sentences
    type_weight: float = 0.25    # a sentence holding the kind of answer asked for
    rank_weight: float = 0.15    # a sentence from a higher-ranked passage
    exact_weight: float = 0.1    # the question's words in their very form
    min_confidence: float = 0.40  # below this the bot says it could not find the answer
    related: int = 3             # closest articles listed with a refusal


@dataclass(frozen=True, slots=True)
class _Candidate:
    hit: Hit
    start: int
    end: int
    text: str
    coverage: float
    span: Span | None
    score: float


def answer_question(retriever: Retriever, question: str, history: Sequence[str] = (),
                    policy: AnswerPolicy = AnswerPolicy(), mode: RetrievalMode = "hybrid") -> Answer:
    """Answer ``question`` (a follow-up is read in the light of ``history``, the earlier
    questions, oldest first) from the articles behind ``retriever``."""
    question = clean_query(question)
    standalone = standalone_question(question, history)
    kind = answer_type(question)
    hits = retriever.search(standalone, policy.passages, mode)
    weights = _term_weights(retriever, standalone)
    best = _best_sentence(retriever, hits, weights, kind, policy, _question_words(standalone))
    confidence = _confidence(best, hits)
    if best is None or confidence < policy.min_confidence:
        return _refusal(question, standalone, hits, confidence, policy)
    short = best.span.text if best.span else None
    return Answer(
        question=question, answered=True, short_answer=short, sentences=(best.text,),
        sources=(Citation.of(best.hit.article, best.hit.score),), confidence=round(confidence, 4),
        standalone_question=standalone, note=_date_note(best, kind),
    )


def _term_weights(retriever: Retriever, question: str) -> dict[str, float]:
    lexical = retriever.snapshot.lexical
    return {t: lexical.idf(t) for t in lexical.terms(question) if t not in _QUESTION_WORDS}


def _question_words(question: str) -> set[str]:
    return {w for w in _WORDS.findall(question.lower()) if w not in _QUESTION_WORDS and len(w) > 2}


def _best_sentence(retriever: Retriever, hits: list[Hit], weights: dict[str, float], kind: AnswerType,
                   policy: AnswerPolicy, words: set[str]) -> _Candidate | None:
    seen: set[tuple[str, int]] = set()
    best: _Candidate | None = None
    for rank, hit in enumerate(hits):
        for sentence in hit.chunk.sentences:
            if (hit.article.id, sentence.start) in seen:
                continue  # overlapping chunks share sentences
            seen.add((hit.article.id, sentence.start))
            candidate = _score(retriever, hit, rank, sentence.start, sentence.end, weights, kind, policy, words)
            if best is None or candidate.score > best.score:
                best = candidate
    return best


def _score(retriever, hit, rank, start, end, weights, kind, policy, words) -> _Candidate:
    text = hit.article.text[start:end]
    present = set(retriever.snapshot.lexical.terms(text))
    total = sum(weights.values()) or 1.0
    coverage = sum(w for t, w in weights.items() if t in present) / total
    # The question's own word forms ("announced", not just "announc-ement") break ties.
    exact = len(words & set(_WORDS.findall(text.lower()))) / (len(words) or 1)
    span = short_answer(text, set(weights), kind) if kind is not AnswerType.OTHER else None
    # A span of the asked-for kind counts for more the nearer it sits to the question's words.
    typed = policy.type_weight / (1 + span.distance / 40) if span else 0.0
    score = coverage + policy.exact_weight * exact + typed + policy.rank_weight / (rank + 1)
    return _Candidate(hit, start, end, text, coverage, span, score)


def _confidence(best: _Candidate | None, hits: list[Hit]) -> float:
    """How sure we are that ``best`` answers: the share of the question's (idf-weighted) terms
    the sentence contains, and how close the passages are in meaning."""
    if best is None:
        return 0.0
    dense = max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)
    return 0.5 * best.coverage + 0.5 * max(0.0, dense)


def _refusal(question: str, standalone: str, hits: list[Hit], confidence: float, policy: AnswerPolicy) -> Answer:
    closest: dict[str, Citation] = {}
    for hit in hits:
        closest.setdefault(hit.article.id, Citation.of(hit.article, hit.score))
    return Answer(
        question=question, answered=False, short_answer=None, sentences=(),
        sources=tuple(list(closest.values())[: policy.related]), confidence=round(confidence, 4),
        standalone_question=standalone,
    )


def _date_note(best: _Candidate, kind: AnswerType) -> str | None:
    if kind is not AnswerType.WHEN or best.span is None:
        return None
    resolved = resolve_date(best.span.text, best.hit.article.published, best.text)
    if resolved is None:
        return None
    return f"“{best.span.text}” = {resolved} (the article is dated {best.hit.article.published})"
