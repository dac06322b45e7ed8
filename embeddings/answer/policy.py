"""The knobs of answering, shared by the evidence scorer and the answer writer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AnswerPolicy:
    """The knobs of answering; defaults measured in docs/EVALUATION.md."""

    passages: int = 5  # chunks read for candidate sentences
    type_weight: float = 0.25  # a sentence holding the kind of answer asked for
    type_floor: float = 0.5  # share of that bonus a span earns however far from the question's words
    off_focus: float = 0.5  # share of it kept when the sentence lacks the question's predicate
    rank_weight: float = 0.15  # a sentence from a higher-ranked passage
    exact_weight: float = 0.25  # the question's words in their very form
    phrase_weight: float = 0.2  # the question's adjacent terms adjacent in the sentence too
    headline_credit: float = 0.5  # a question term found in the headline, not the sentence
    idf_floor: float = 0.2  # least weight of a question term (a small index's headline words have idf ~0.1)
    focus_weight: float = 2.0  # the question's predicate ("chair" in "who will chair ...")
    topic_weight: float = 0.25  # terms a follow-up borrows from earlier questions count less
    semantic_candidates: int = 8  # best sentences (by the lexical score) whose meaning is measured
    semantic_typed: int = 4  # ... and further sentences holding a short answer of the asked-for kind
    semantic_weight: float = 3.0  # the cosine of sentence and question (stored pooled vectors), added to the score
    encoded_weight: float = 0.5  # ... the same cosine of sentences encoded at question time (no stored vectors)
    untyped_penalty: float = 0.7  # semantic: off a sentence with no span of the kind a when/who/number question asks
    untyped_where_penalty: float = 0.3  # ... and a where question (places are found after "in", "at"... only)
    recency_margin: float = 0.15  # candidates this close to the best compete on date (news that changes)
    # (bias, then the weights of writer.CONFIDENCE_SIGNALS: coverage, sentence cosine, best dense
    # score, both lists agree on the first passage, dense margin, BM25 margin, and support.py's
    # predicate share and cosine margin, unused here: see SUPPORT_CONFIDENCE_WEIGHTS): a logistic
    # fit on XQuAD and the natural dev split, sentences chosen with the semantic evidence above,
    # its bias moved so that min_confidence 0.40 is the fit's chosen point (one threshold for both
    # confidence formulas); benchmarks/evidence_lab.py + fit_confidence.py, docs/EVALUATION.md
    confidence_weights: tuple[float, ...] = (-3.78, 3.63, 6.40, -1.93, 0.55, 4.16, 0.66, 0.0, 0.0)
    unfilled_slot: float = 0.5  # confidence kept when a when/how-many question's sentence holds no date/number
    min_confidence: float = 0.40  # below this the bot says it could not find the answer
    related: int = 3  # closest articles listed with a refusal


# ``confidence_weights`` of NEWSBOT_ANSWER_CONFIDENCE=support: the same fit with support.py's two
# signals (the predicate's words in the sentence, its cosine's margin over its article's), its
# point chosen at <= 5% of the natural dev split's answerable questions refused and moved to
# min_confidence 0.40. The margin takes the cosine's weight: docs/EVALUATION.md, "Refusing
# absent facts, session 7".
SUPPORT_CONFIDENCE_WEIGHTS = (-3.83, 1.42, -0.64, 4.63, 0.55, -0.22, 0.20, 2.23, 8.18)
