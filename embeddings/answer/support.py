"""Whether the quoted sentence states the asked-for fact, not only the question's topic.

The confidence's first signals (coverage, cosines, the lists' margins) say how well a passage
matches the question's topic, which a near miss ("how old is Jon Stanhope", over articles
that name him but never give his age) shares by construction. Two signals look at what the
question asks beyond its topic: the words it does not share with the cited article's
headline (its predicate, "old"), and how far the sentence stands out in meaning from the
rest of its article. Both come from what the writer already has (the question's features,
the candidates with their cosines): no search and no encoding. docs/EVALUATION.md,
"Refusing absent facts, session 7", measures them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from embeddings.answer.evidence import Candidate, QuestionFeatures

# In the order of the last weights of ``AnswerPolicy.confidence_weights``.
SUPPORT_SIGNALS = ("predicate", "cosine_margin")
_WORDS = re.compile(r"\w+")


def support_signals(question: QuestionFeatures, best: Candidate, candidates: Sequence[Candidate]) -> dict[str, float]:
    """``predicate``: the idf-weighted share of the question's terms missing from the cited
    article's headline that ``best`` holds (1 when the headline holds them all);
    ``cosine_margin``: ``best``'s cosine to the question minus the mean cosine of the
    measured sentences of its article among ``candidates`` (0 when not measured)."""
    return {"predicate": predicate_share(question, best), "cosine_margin": cosine_margin(best, candidates)}


def predicate_share(question: QuestionFeatures, best: Candidate) -> float:
    """Share of the question's weight outside the headline's words that the sentence holds."""
    headline = set(_WORDS.findall(best.hit.article.title.lower()))
    sentence = set(_WORDS.findall(best.text.lower()))
    asked = {term: weight for term, weight in question.weights.items() if not holds(term, headline)}
    total = sum(asked.values())
    if not total:
        return 1.0
    return sum(weight for term, weight in asked.items() if holds(term, sentence)) / total


def cosine_margin(best: Candidate, candidates: Sequence[Candidate]) -> float:
    """``best``'s cosine over the mean of its article's measured sentences (``best`` included)."""
    if best.cosine is None:
        return 0.0
    same = [c.cosine for c in candidates if c.cosine is not None and c.hit.article.id == best.hit.article.id]
    return best.cosine - sum(same) / len(same) if same else 0.0


def holds(term: str, forms: set[str]) -> bool:
    """Whether a stemmed term (the analyzer's: "compani", "announc") is found among word forms.
    The writer has no analyzer, so a form holds a stem that starts it, or its stem minus the
    last letter (Snowball's "i" for "y": "compani" → "company")."""
    stem = term[:-1] if len(term) >= 4 else term
    return any(form.startswith(stem) for form in forms)
