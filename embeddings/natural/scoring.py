"""Asking the natural questions through ``Engine.search`` and ``Engine.answer`` (exactly as the
bot asks) and scoring what came back."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from embeddings.models import Answer, Hit
from embeddings.natural.questions import KINDS, NaturalQuestion

Expect = Literal["answer", "near-miss", "held-out"]
RANKS = (1, 5, 10)
SPAN_KINDS = ("when", "who", "where", "number")  # the kinds whose short answer is cut from the sentence
# What went wrong, in the order the answer is built: article, sentence, span; and refusals.
FAILURES = (
    "refused",  # answerable, but refused
    "wrong_article",  # another article cited, its sentence does not hold the answer
    "wrong_sentence",  # the right article cited, a sentence that does not hold the answer
    "no_span",  # the sentence holds the answer, no short answer cut from it
    "wrong_span",  # the sentence holds the answer, the short answer is another part of it
    "near_miss_answered",  # a near miss (no article states it) answered
    "heldout_answered",  # its article is not indexed, answered anyway
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one question got: the rank of its article in the search (answerable questions
    only), the answer, the answer's latency, and what was expected of it."""

    question: NaturalQuestion
    expect: Expect
    rank: int | None
    answer: Answer
    latency_ms: float

    @property
    def sentence_hit(self) -> bool:
        """The answer quotes a sentence that holds the answer."""
        return self.answer.answered and any(self.question.holds_answer(s) for s in self.answer.sentences)

    @property
    def short_hit(self) -> bool:
        """The short answer itself matches an answer regex."""
        short = self.answer.short_answer
        return self.answer.answered and short is not None and self.question.holds_answer(short)

    @property
    def cited_article(self) -> bool:
        """The answer cites the question's own article first."""
        sources = self.answer.sources
        return self.answer.answered and bool(sources) and sources[0].article_id == self.question.article_id

    @property
    def failure(self) -> str | None:
        """The first thing that went wrong (one of ``FAILURES``), or None for a right answer: a
        refusal where one is due; else a sentence holding the answer and, for a kind with short
        answers, a right short answer."""
        answered = self.answer.answered
        if self.expect != "answer":
            return (
                None
                if not answered
                else {"near-miss": "near_miss_answered", "held-out": "heldout_answered"}[self.expect]
            )
        if not answered:
            return "refused"
        if not self.sentence_hit:
            return "wrong_sentence" if self.cited_article else "wrong_article"
        if self.question.kind not in SPAN_KINDS or self.short_hit:
            return None
        return "no_span" if self.answer.short_answer is None else "wrong_span"

    def details(self, setting: str) -> dict[str, Any]:
        """One JSON-ready line about this outcome, for reading the failures one by one."""
        q, a = self.question, self.answer
        return {
            "setting": setting,
            "id": q.id,
            "split": q.split,
            "kind": q.kind,
            "style": q.style,
            "expect": self.expect,
            "question": q.question,
            "article_id": q.article_id,
            "story": q.story,
            "rank": self.rank,
            "answered": a.answered,
            "cited_article_id": a.sources[0].article_id if a.sources else None,
            "quoted": a.sentences[0] if a.sentences else None,
            "short_answer": a.short_answer,
            "confidence": round(a.confidence, 3),
            "sentence_hit": self.sentence_hit,
            "short_hit": self.short_hit,
            "cited_article": self.cited_article,
            "failure": self.failure,
            "latency_ms": round(self.latency_ms, 1),
        }


def write_details(path: Path, setting: str, outcomes: Sequence[Outcome]) -> None:
    """Append one JSON line per outcome to ``path`` (the caller empties it first)."""
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.writelines(json.dumps(o.details(setting), ensure_ascii=False) + "\n" for o in outcomes)


def ask(
    search: Callable[[str, int], list[Hit]],
    answer: Callable[[str], Answer],
    clear_caches: Callable[[], None],
    question: NaturalQuestion,
    expect: Expect,
) -> Outcome:
    """Search (for the article's rank) and answer one question; the answer is timed with the
    query-vector cache cleared, so its latency includes encoding the question, as in real use."""
    rank = None
    if expect == "answer":
        hits = search(question.question, max(RANKS))
        rank = next((r for r, h in enumerate(hits, 1) if h.article.id == question.article_id), None)
    clear_caches()
    started = time.perf_counter()
    result = answer(question.question)
    return Outcome(question, expect, rank, result, (time.perf_counter() - started) * 1000)


def score(outcomes: Sequence[Outcome]) -> dict[str, float | int]:
    """The scores of one group of outcomes (one setting and split); rates are 0 for no questions."""
    present = [o for o in outcomes if o.expect == "answer"]
    near = [o for o in outcomes if o.expect == "near-miss"]
    held = [o for o in outcomes if o.expect == "held-out"]
    out: dict[str, float | int] = {"questions": len(present)}
    for k in RANKS:
        out[f"recall@{k}"] = _rate(present, _within(k))
    out["mrr@10"] = _mean([1 / o.rank if o.rank else 0.0 for o in present])
    out["sentence_hit"] = _rate(present, lambda o: o.sentence_hit)
    out["short_answer"] = _rate(present, lambda o: o.short_hit)
    out["cited_article"] = _rate(present, lambda o: o.cited_article)
    out["answered_rate"] = _rate(present, lambda o: o.answer.answered)
    out["answerable_refused"] = _rate(present, lambda o: not o.answer.answered)
    for kind in KINDS:
        of_kind = [o for o in present if o.question.kind == kind]
        out[f"{kind}_questions"] = len(of_kind)
        out[f"short_answer_{kind}"] = _rate(of_kind, lambda o: o.short_hit)
    # Questions about stories with follow-ups: citing the question's own (dated) article matters.
    story = [o for o in present if o.question.story]
    out["story_questions"] = len(story)
    out["story_cited_article"] = _rate(story, lambda o: o.cited_article)
    out["story_sentence_hit"] = _rate(story, lambda o: o.sentence_hit)
    out["near_miss_questions"] = len(near)
    out["near_miss_refused"] = _rate(near, lambda o: not o.answer.answered)
    out["heldout_questions"] = len(held)
    out["heldout_refused"] = _rate(held, lambda o: not o.answer.answered)
    # A held-out fact may also be told by another article of the corpus (a follow-up, a
    # duplicate): answers that quote it are counted here, so a reader can tell them apart.
    out["heldout_answered_elsewhere"] = _rate(held, lambda o: o.sentence_hit)
    out["refusal_rate"] = _rate(near + held, lambda o: not o.answer.answered)
    # How many went wrong, by the first thing that did (``FAILURES``): what to fix first.
    for name in FAILURES:
        out[f"failed_{name}"] = sum(1 for o in outcomes if o.failure == name)
    latencies = [o.latency_ms for o in outcomes]
    out["latency_ms_p50"] = round(_percentile(latencies, 50), 1)
    out["latency_ms_p95"] = round(_percentile(latencies, 95), 1)
    return out


def _within(k: int) -> Callable[[Outcome], bool]:
    return lambda o: o.rank is not None and o.rank <= k


def _percentile(values: Sequence[float], pct: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _rate(outcomes: Sequence[Outcome], test: Callable[[Outcome], bool]) -> float:
    return round(sum(1 for o in outcomes if test(o)) / len(outcomes), 3) if outcomes else 0.0


def _mean(values: Sequence[float]) -> float:
    return round(sum(values) / len(values), 3) if values else 0.0


def by_split(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float | int]]:
    """Scores per split (``dev``, ``test``) and over both (``all``)."""
    return {
        "dev": score([o for o in outcomes if o.question.split == "dev"]),
        "test": score([o for o in outcomes if o.question.split == "test"]),
        "all": score(outcomes),
    }
