"""News that changes: when several dated articles answer, the newest wins a question asked in
the present tense ("who is the CEO", "how many have died"), the answer says the date it holds
as of, and articles that disagree on the asked-for fact are quoted both, with their dates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from embeddings.answer.dates import parse_published
from embeddings.answer.evidence import Candidate
from embeddings.answer.questions import AnswerType

_PAST = re.compile(r"\b(?:was|were|did|had|ago|last|former|previous|first|originally|in (?:1\d|20)\d\d)\b", re.I)
_PRESENT = re.compile(
    r"\b(?:is|are|does|do|has|have|now|currently|current|latest|still|so far|today|new|yet)\b|'s\b|’s\b", re.I
)


@dataclass(frozen=True, slots=True)
class Chosen:
    """The candidate to answer with, and an older one that states the fact otherwise (or None)."""

    best: Candidate
    rival: Candidate | None = None


def is_present_tense(question: str) -> bool:
    """Whether ``question`` asks how things stand now ("who is", "how many have"), not how
    they were ("who was", "when did")."""
    return bool(_PRESENT.search(question)) and not _PAST.search(question)


def choose(candidates: Sequence[Candidate], question: str, kind: AnswerType, margin: float) -> Chosen:
    """Among the candidates scoring within ``margin`` of the best, from distinct dated
    articles: the newest for a present-tense question (else the best), and a rival that
    answers otherwise, when there is one. ``candidates`` is best first and not empty."""
    best = candidates[0]
    pool = _contenders(candidates, kind, margin)
    if len(pool) < 2:
        return Chosen(best)
    if is_present_tense(question):
        best = max(pool, key=lambda c: (_date_key(c), c.score))
    rival = next((c for c in pool if c.hit.article.id != best.hit.article.id and _differs(c, best, kind)), None)
    return Chosen(best, rival)


def as_of(candidate: Candidate) -> str | None:
    """ "as of 12 May 2008" for the candidate's article date; None when undated."""
    day = parse_published(candidate.hit.article.published)
    return f"as of {day.day} {day:%B %Y}" if day else None


def disagreement_note(best: Candidate, rival: Candidate) -> str:
    """The note that says two dated articles state the fact differently."""

    def said(c: Candidate) -> str:
        fact = c.span.text if c.span else "otherwise"
        return f"“{fact}” ({as_of(c) or 'undated'})"

    return f"The articles disagree: {said(best)}; {said(rival)}."


def _contenders(candidates: Sequence[Candidate], kind: AnswerType, margin: float) -> list[Candidate]:
    """The best candidate of each dated article within ``margin`` of the top score (for a
    factoid question, only those holding a short answer)."""
    top = candidates[0].score
    seen: set[str] = set()
    pool: list[Candidate] = []
    for c in candidates:
        if c.score < top - margin:
            break
        if c.hit.article.id in seen or _date_key(c) is None:
            continue
        seen.add(c.hit.article.id)
        if kind is AnswerType.OTHER or c.span is not None:
            pool.append(c)
    return pool


def _date_key(c: Candidate) -> str | None:
    day = parse_published(c.hit.article.published)
    return day.isoformat() if day else None


def _differs(a: Candidate, b: Candidate, kind: AnswerType) -> bool:
    if kind is AnswerType.OTHER or a.span is None or b.span is None:
        return False
    return _norm(a.span.text) != _norm(b.span.text) and _date_key(a) != _date_key(b)


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))
