"""Evidence selection: the question read into its features, and every sentence of the retrieved
passages scored as a candidate answer, with the features the score is made of.

An ``EvidenceSelector`` only ranks sentences; deciding whether the best one is good enough, and
writing the answer, is the ``writer``'s job. ``LexicalEvidenceScorer`` is today's selector; a
different scorer is one more class with a ``select`` method.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise
from types import MappingProxyType
from typing import Protocol, runtime_checkable

import numpy as np

from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.questions import AnswerType, answer_type, focus_words, standalone_question
from embeddings.answer.spans import Span, short_answer
from embeddings.index.backend import TermAnalyzer
from embeddings.models import Hit
from embeddings.text import COPULAS, DO_FORMS, HAVE_FORMS, MODALS, QUANTITY_WORDS, WH_WORDS
from embeddings.timing import stage

_WORDS = re.compile(r"\w+")
# The words a question is built with: bm25s's stop-word list keeps them, but they say nothing
# about where the answer is. One set filters both the analyzer's stemmed terms and the
# question's raw word forms, so "many" and "does" are in it as the index stems them ("mani",
# "doe"; their raw forms stay exact-form evidence) and "why" in its raw form only (the index's
# "whi" stays a weighted term). Odd, but that is what the answers were measured with.
_QUESTION_WORDS = (WH_WORDS | QUANTITY_WORDS | COPULAS | DO_FORMS | HAVE_FORMS | MODALS) - {"many", "does"} | {
    "mani",
    "doe",
}
# A when-question may ask for a grain the sentence's date must have: "which year" is not answered
# by "on Tuesday", "at what time" not by "Thursday".
_ASKS_YEAR = re.compile(r"\b(?:what|which)\s+years?\b", re.I)
_YEAR = re.compile(r"\b(?:1\d{3}|20\d{2})s?\b")
_ASKS_CLOCK = re.compile(r"\b(?:what|which)\s+(?:time|hour)\b", re.I)
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:a\.m\.|p\.m\.|am\b|pm\b)|o'clock|\bnoon\b|\bmidnight\b", re.I)
# "how many pacers" is not answered by "two hours": a count of things is no duration, unless the
# question asks for one ("how many days", "how long").
_ASKS_COUNT = re.compile(r"\bhow (?:many|much)\b", re.I)
_DURATION = re.compile(r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|decades?|centur(?:y|ies))\b", re.I)


@dataclass(frozen=True, slots=True)
class QuestionFeatures:
    """A question as the evidence scorer and the writer see it."""

    text: str  # the question as asked (cleaned)
    standalone: str  # ... with a follow-up's borrowed topic words
    kind: AnswerType  # the kind of short answer wanted
    weights: Mapping[str, float]  # stemmed content term → idf (borrowed topic terms down-weighted)
    words: frozenset[str]  # the question's own word forms
    focus: frozenset[str]  # the predicate's word forms ("announced")
    focus_terms: frozenset[str]  # ... and its stemmed terms the corpus knows ("announc")
    pairs: frozenset[tuple[str, str]]  # adjacent content terms of the question


def read_question(
    question: str, history: Sequence[str], analyzer: TermAnalyzer, policy: AnswerPolicy = AnswerPolicy()
) -> QuestionFeatures:
    """``question`` (already cleaned) read into its features: its kind, its standalone form
    given ``history``, and its content terms weighted by ``analyzer``'s idf (the predicate's
    terms by ``policy.focus_weight``, terms borrowed from ``history`` by ``policy.topic_weight``)."""
    standalone = standalone_question(question, history)
    own = set(analyzer.terms(question))
    predicate = [w.lower() for w in focus_words(question)]
    focus = set(analyzer.terms(" ".join(predicate)))
    weights = {
        t: max(analyzer.idf(t), policy.idf_floor)
        * (policy.focus_weight if t in focus else 1.0 if t in own else policy.topic_weight)
        for t in analyzer.terms(standalone)
        if t not in _QUESTION_WORDS
    }
    words = frozenset(w for w in _WORDS.findall(standalone.lower()) if w not in _QUESTION_WORDS and len(w) > 2)
    terms = [t for t in analyzer.terms(question) if t not in _QUESTION_WORDS]
    return QuestionFeatures(
        question,
        standalone,
        answer_type(question),
        MappingProxyType(weights),
        words,
        frozenset(predicate),
        frozenset(t for t in focus if analyzer.knows(t)),
        frozenset(pairwise(terms)),
    )


def misfits(question: str, kind: AnswerType, sentence: str, span: Span | None) -> bool:
    """Whether ``span``, the short answer found in ``sentence``, cannot be what ``question``
    asks for although it is of the asked-for kind: a date without the grain asked for
    ("Tuesday" for "in what year", "Thursday" for "at what time"), or a duration for a count
    ("two hours" for "how many pacers"). False without a span. (Names that repeat the
    question's own were tried too: they cost SQuAD more than they gave, docs/EVALUATION.md.)"""
    if span is None:
        return False
    if kind is AnswerType.WHEN:
        return bool(
            (_ASKS_YEAR.search(question) and not _YEAR.search(sentence))
            or (_ASKS_CLOCK.search(question) and not _CLOCK.search(sentence))
        )
    if kind is AnswerType.NUMBER:
        unit = _DURATION.search(span.text)
        return bool(unit and _ASKS_COUNT.search(question) and not _DURATION.search(question))
    return False


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sentence of a retrieved passage, scored as the evidence for an answer."""

    hit: Hit  # the passage it comes from
    rank: int  # that passage's rank among the hits (0 = best)
    text: str  # the sentence, verbatim from the article
    coverage: float  # share of the question's weighted terms present (headline terms count part)
    exact: float  # share of the question's word forms present in their very form
    phrase: float  # share of the question's adjacent term pairs adjacent here too
    typed: float  # bonus for holding a span of the kind asked for
    span: Span | None  # the short answer in it, when the question wants one and it holds one
    score: float  # what candidates are ranked by
    cosine: float | None = None  # its meaning's closeness to the question's (None: not measured)


@runtime_checkable
class EvidenceSelector(Protocol):
    """Ranks the sentences of the retrieved passages as evidence for an answer."""

    def select(self, question: QuestionFeatures, analyzer: TermAnalyzer, hits: Sequence[Hit]) -> list[Candidate]:
        """Every distinct sentence of ``hits`` as a candidate, best first (ties keep the order of
        the hits and of the sentences in them); empty when there are no hits."""
        ...


class LexicalEvidenceScorer:
    """Scores a sentence by the question's idf-weighted terms it holds, its exact word forms
    and adjacent pairs, a short answer of the asked-for kind near the question's words, and the
    rank of its passage; weights from ``AnswerPolicy`` (measured in docs/EVALUATION.md)."""

    def __init__(self, policy: AnswerPolicy = AnswerPolicy()) -> None:
        self.policy = policy

    def select(self, question: QuestionFeatures, analyzer: TermAnalyzer, hits: Sequence[Hit]) -> list[Candidate]:
        """See ``EvidenceSelector.select``."""
        headlines: dict[str, set[str]] = {}
        candidates = []
        for rank, hit, text in sentences(hits):
            if hit.article.id not in headlines:
                headlines[hit.article.id] = set(analyzer.terms(hit.article.title))
            candidates.append(self.score(question, analyzer, hit, rank, text, headlines[hit.article.id]))
        # sorted() is stable, even reversed: equal scores stay in passage order, as max() picked.
        return sorted(candidates, key=lambda c: c.score, reverse=True)

    def score(
        self, question: QuestionFeatures, analyzer: TermAnalyzer, hit: Hit, rank: int, text: str, headline: set[str]
    ) -> Candidate:
        """Sentence ``text`` of ``hit`` (ranked ``rank``; ``headline`` = its headline's terms) scored."""
        policy = self.policy
        sequence = analyzer.terms(text)
        present = set(sequence)
        # A sentence is about its article's headline even when it says "it": headline terms count half.
        matched = sum(
            w * (1.0 if t in present else policy.headline_credit if t in headline else 0.0)
            for t, w in question.weights.items()
        )
        coverage = matched / (sum(question.weights.values()) or 1.0)
        exact = _exact(question, text)
        wants_span = question.kind is not AnswerType.OTHER
        with stage("span"):
            span = short_answer(text, set(question.weights), question.kind) if wants_span else None
        typed = self._typed(question, span, present)
        phrase = shared_pairs(question.pairs, sequence)
        score = (
            coverage
            + policy.exact_weight * exact
            + policy.phrase_weight * phrase
            + typed
            + policy.rank_weight / (rank + 1)
        )
        return Candidate(hit, rank, text, coverage, exact, phrase, typed, span, score)

    def _typed(self, question: QuestionFeatures, span: Span | None, present: set[str]) -> float:
        # Holding a span of the asked-for kind earns part of the bonus (type_floor); the rest goes
        # to spans that sit near the question's words.
        policy = self.policy
        if span is None:
            return 0.0
        typed = policy.type_weight * (policy.type_floor + (1 - policy.type_floor) / (1 + span.distance / 40))
        if question.focus_terms and not question.focus_terms & present:
            typed *= policy.off_focus  # a name in a sentence that never speaks of chairing rarely chairs
        return typed


class TextEmbedder(Protocol):
    """Unit vectors for texts (``Retriever`` is one: it caches what it encoded), and the
    sentence vectors stored with the index."""

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length row per text, in order."""
        ...

    def sentence_vectors(self, chunk_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Per chunk id, its sentences' stored vectors (a row per sentence); chunks without
        stored vectors left out."""
        ...


class SemanticEvidenceScorer:
    """The lexical score plus a weight x the cosine between the question and the sentence
    (MiniLM, a sentence-embedding model), so a paraphrase that shares few words still wins on
    meaning, minus ``policy.untyped_penalty`` for a sentence holding no span of the kind a
    when/who/number question asks for, or only one that ``misfits`` the question
    (``policy.untyped_where_penalty`` for where). Sentence
    vectors stored with the index (made at index time) are used for every candidate, weighed
    ``policy.semantic_weight``; without them only the ``policy.semantic_candidates`` best by
    the lexical score (and a few holding a span of the asked-for kind) are encoded at question
    time (~2-4 ms a sentence on 2 cores), weighed ``policy.encoded_weight``: a sentence encoded
    alone spreads its cosines wider than one pooled in its chunk (see docs/EVALUATION.md)."""

    def __init__(self, policy: AnswerPolicy, embedder: TextEmbedder) -> None:
        self.policy = policy
        self.embedder = embedder
        self.lexical = LexicalEvidenceScorer(policy)

    def select(self, question: QuestionFeatures, analyzer: TermAnalyzer, hits: Sequence[Hit]) -> list[Candidate]:
        """See ``EvidenceSelector.select``; the measured candidates carry their ``cosine``."""
        with stage("lexical"):  # the rest of "evidence" is the semantic part (the benchmarks' stages)
            ranked = self.lexical.select(question, analyzer, hits)
        if not ranked:
            return ranked
        query = self.embedder.embed_texts([question.standalone])[0]  # cached by the search
        stored = _stored(self.embedder.sentence_vectors(list(dict.fromkeys(h.chunk_id for h in hits))), hits)
        weight = self.policy.semantic_weight
        cosines = {
            id(c): (float(stored[key] @ query), weight) for c in ranked if (key := (c.hit.chunk_id, c.text)) in stored
        }
        n = self.policy.semantic_candidates
        # Without stored vectors: the best by words, and a few more that hold a short answer of
        # the asked-for kind (a paraphrase may share no word with the sentence that answers it).
        typed = [c for c in ranked[n:] if c.span is not None][: self.policy.semantic_typed]
        missing = [c for c in ranked[:n] + typed if id(c) not in cosines]
        if missing:
            vectors = self.embedder.embed_texts([c.text for c in missing])
            cosines.update((id(c), (float(v @ query), self.policy.encoded_weight)) for c, v in zip(missing, vectors))
        missing_slot = self._untyped_penalty(question)
        scored = [
            replace(c, cosine=x[0], score=c.score + x[1] * x[0] - (missing_slot if self._unfit(question, c) else 0.0))
            if (x := cosines.get(id(c))) is not None
            else c
            for c in ranked
        ]
        measured = [c for c in scored if c.cosine is not None]
        return sorted(measured, key=lambda c: c.score, reverse=True) + [c for c in scored if c.cosine is None]

    @staticmethod
    def _unfit(question: QuestionFeatures, candidate: Candidate) -> bool:
        # A date of another grain, or a duration for a count, fills the slot no better than no
        # span (docs/EVALUATION.md, "Sentence choice, session 7").
        span = candidate.span
        return span is None or misfits(question.text, question.kind, candidate.text, span)

    def _untyped_penalty(self, question: QuestionFeatures) -> float:
        # Meaning alone cannot tell "the heads of the delegations" from who heads the meeting:
        # a when/who/number question's sentence must also hold a span of that kind. Less for
        # "where": a place is found only after "in", "at", "near"..., so the patterns miss
        # many sentences that do name it (docs/EVALUATION.md measures both).
        if question.kind is AnswerType.OTHER:
            return 0.0
        return self.policy.untyped_where_penalty if question.kind is AnswerType.WHERE else self.policy.untyped_penalty


def _stored(vectors: Mapping[int, np.ndarray], hits: Sequence[Hit]) -> dict[tuple[int, str], np.ndarray]:
    """(chunk id, sentence text) → its stored vector, for the hits whose chunks have them."""
    out: dict[tuple[int, str], np.ndarray] = {}
    for hit in hits:
        rows = vectors.get(hit.chunk_id)
        if rows is None or len(rows) != len(hit.chunk.sentences):
            continue
        for sentence, row in zip(hit.chunk.sentences, rows):
            out.setdefault((hit.chunk_id, hit.article.text[sentence.start : sentence.end]), row)
    return out


def _exact(question: QuestionFeatures, text: str) -> float:
    # The question's own word forms ("announced", not just "announc-ement") break ties; the
    # predicate's form counts twice.
    forms = set(_WORDS.findall(text.lower()))
    found = len(question.words & forms) + len(question.focus & forms)
    return found / ((len(question.words) + len(question.focus)) or 1)


def sentences(hits: Sequence[Hit]) -> Iterator[tuple[int, Hit, str]]:
    """(rank, hit, sentence text) for every distinct sentence of ``hits``, in order: chunks
    overlap, so a sentence is given once, with the first (best) hit holding it."""
    seen: set[tuple[str, int]] = set()
    for rank, hit in enumerate(hits):
        for sentence in hit.chunk.sentences:
            if (hit.article.id, sentence.start) not in seen:
                seen.add((hit.article.id, sentence.start))
                yield rank, hit, hit.article.text[sentence.start : sentence.end]


def shared_pairs(pairs: frozenset[tuple[str, str]], sequence: Sequence[str]) -> float:
    """Share of the question's adjacent term pairs ("next rate", "rate meet") adjacent in
    ``sequence`` too, in either order; 0 when the question has none."""
    if not pairs:
        return 0.0
    here = {frozenset(p) for p in pairwise(sequence)}
    return sum(frozenset(p) in here for p in pairs) / len(pairs)
