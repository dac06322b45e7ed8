"""Grounded answers: retrieve passages, pick the sentence that answers, cut the short answer
from it, and refuse plainly when the articles do not hold the answer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from embeddings.answer.dates import resolve_date
from embeddings.models import Answer, Citation, Hit
from embeddings.answer.questions import AnswerType, answer_type, focus_words, standalone_question
from embeddings.retrieval import Retriever, clean_query
from embeddings.settings import RetrievalMode
from embeddings.answer.spans import Span, short_answer

_WORDS = re.compile(r"\w+")
# Question words and auxiliaries, as the lexical index stems them; bm25s's stop-word list keeps
# these, but they say nothing about where the answer is.
_QUESTION_WORDS = frozenset(
    "when where who whom whose what which why how much mani did doe do will would could can should "
    "is was were are has have had been be".split()
)


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """The knobs of answering; defaults measured in docs/EVALUATION.md."""

    passages: int = 5             # chunks read for candidate sentences
    type_weight: float = 0.25     # a sentence holding the kind of answer asked for
    type_floor: float = 0.5       # share of that bonus a span earns however far from the question's words
    off_focus: float = 0.5        # share of it kept when the sentence lacks the question's predicate
    rank_weight: float = 0.15     # a sentence from a higher-ranked passage
    exact_weight: float = 0.25    # the question's words in their very form
    phrase_weight: float = 0.2    # the question's adjacent terms adjacent in the sentence too
    headline_credit: float = 0.5  # a question term found in the headline, not the sentence
    focus_weight: float = 2.0     # the question's predicate ("chair" in "who will chair ...")
    topic_weight: float = 0.25    # terms a follow-up borrows from earlier questions count less
    min_confidence: float = 0.40  # below this the bot says it could not find the answer
    related: int = 3              # closest articles listed with a refusal


@dataclass(frozen=True, slots=True)
class _Query:
    text: str
    standalone: str
    kind: AnswerType
    weights: dict[str, float]  # stemmed content term → idf (borrowed topic terms down-weighted)
    words: frozenset[str]      # the question's own word forms
    focus: frozenset[str]      # the predicate's word forms ("announced")
    focus_terms: frozenset[str]  # ... and its stemmed terms ("announc")
    pairs: frozenset[tuple[str, str]]  # adjacent content terms of the question


@dataclass(frozen=True, slots=True)
class _Candidate:
    hit: Hit
    rank: int
    text: str
    coverage: float
    span: Span | None
    score: float


def answer_question(retriever: Retriever, question: str, history: Sequence[str] = (),
                    policy: AnswerPolicy = AnswerPolicy(), mode: RetrievalMode = "hybrid") -> Answer:
    """Answer ``question`` (a follow-up is read in the light of ``history``, the earlier
    questions, oldest first) from the articles behind ``retriever``."""
    query = _query(retriever, clean_query(question), history, policy)
    hits = retriever.search(query.standalone, policy.passages, mode)
    candidates = [_score(retriever, query, policy, hit, rank, text) for rank, hit, text in _sentences(hits)]
    best = max(candidates, key=lambda c: c.score, default=None)
    confidence = _confidence(best, hits)
    if best is None or confidence < policy.min_confidence:
        return _refusal(query, hits, confidence, policy)
    return Answer(
        question=query.text, answered=True, short_answer=best.span.text if best.span else None,
        sentences=(best.text,), sources=(Citation.of(best.hit.article, best.hit.score),),
        confidence=round(confidence, 4), standalone_question=query.standalone, note=_date_note(best, query.kind),
    )


def _query(retriever: Retriever, question: str, history: Sequence[str], policy: AnswerPolicy) -> _Query:
    standalone = standalone_question(question, history)
    lexical = retriever.snapshot.lexical
    own = set(lexical.terms(question))
    predicate = [w.lower() for w in focus_words(question)]
    focus = set(lexical.terms(" ".join(predicate)))
    weights = {t: lexical.idf(t) * (policy.focus_weight if t in focus else 1.0 if t in own else policy.topic_weight)
               for t in lexical.terms(standalone) if t not in _QUESTION_WORDS}
    words = frozenset(w for w in _WORDS.findall(standalone.lower()) if w not in _QUESTION_WORDS and len(w) > 2)
    terms = [t for t in lexical.terms(question) if t not in _QUESTION_WORDS]
    pairs = frozenset(zip(terms, terms[1:]))
    return _Query(question, standalone, answer_type(question), weights, words, frozenset(predicate),
                  frozenset(t for t in focus if lexical.knows(t)), pairs)


def _sentences(hits: list[Hit]):
    """(rank, hit, sentence text) for every distinct sentence of the hits (chunks overlap)."""
    seen: set[tuple[str, int]] = set()
    for rank, hit in enumerate(hits):
        for sentence in hit.chunk.sentences:
            if (hit.article.id, sentence.start) not in seen:
                seen.add((hit.article.id, sentence.start))
                yield rank, hit, hit.article.text[sentence.start : sentence.end]


def _score(retriever: Retriever, query: _Query, policy: AnswerPolicy, hit: Hit, rank: int, text: str) -> _Candidate:
    lexical = retriever.snapshot.lexical
    sequence = lexical.terms(text)
    present = set(sequence)
    # A sentence is about its article's headline even when it says "it": headline terms count half.
    context = set(lexical.terms(hit.article.title))
    matched = sum(w * (1.0 if t in present else policy.headline_credit if t in context else 0.0)
                  for t, w in query.weights.items())
    coverage = matched / (sum(query.weights.values()) or 1.0)
    # The question's own word forms ("announced", not just "announc-ement") break ties; the
    # predicate's form counts twice.
    forms = set(_WORDS.findall(text.lower()))
    exact = (len(query.words & forms) + len(query.focus & forms)) / ((len(query.words) + len(query.focus)) or 1)
    span = short_answer(text, set(query.weights), query.kind) if query.kind is not AnswerType.OTHER else None
    # Holding a span of the asked-for kind earns half the bonus; the other half goes to spans
    # that sit near the question's words.
    typed = policy.type_weight * (policy.type_floor + (1 - policy.type_floor) / (1 + span.distance / 40)) if span else 0.0
    if query.focus_terms and not query.focus_terms & present:
        typed *= policy.off_focus  # a name in a sentence that never speaks of chairing rarely chairs
    phrase = _shared_pairs(query.pairs, sequence)
    score = (coverage + policy.exact_weight * exact + policy.phrase_weight * phrase + typed
             + policy.rank_weight / (rank + 1))
    return _Candidate(hit, rank, text, coverage, span, score)


def _shared_pairs(pairs: frozenset[tuple[str, str]], sequence: list[str]) -> float:
    """Share of the question's adjacent term pairs ("next rate", "rate meet") adjacent here too."""
    if not pairs:
        return 0.0
    here = {frozenset(p) for p in zip(sequence, sequence[1:])}
    return sum(frozenset(p) in here for p in pairs) / len(pairs)


def _confidence(best: _Candidate | None, hits: list[Hit]) -> float:
    """How sure we are that ``best`` answers: the share of the question's (idf-weighted) terms
    the sentence contains, and how close the passages are in meaning."""
    if best is None:
        return 0.0
    dense = max((h.dense_score for h in hits if h.dense_score is not None), default=0.0)
    return 0.5 * best.coverage + 0.5 * max(0.0, dense)


def _refusal(query: _Query, hits: list[Hit], confidence: float, policy: AnswerPolicy) -> Answer:
    closest: dict[str, Citation] = {}
    for hit in hits:
        closest.setdefault(hit.article.id, Citation.of(hit.article, hit.score))
    return Answer(
        question=query.text, answered=False, short_answer=None, sentences=(),
        sources=tuple(list(closest.values())[: policy.related]), confidence=round(confidence, 4),
        standalone_question=query.standalone,
    )


def _date_note(best: _Candidate, kind: AnswerType) -> str | None:
    if kind is not AnswerType.WHEN or best.span is None:
        return None
    resolved = resolve_date(best.span.text, best.hit.article.published, best.text)
    if resolved is None:
        return None
    return f"“{best.span.text}” = {resolved} (the article is dated {best.hit.article.published})"
