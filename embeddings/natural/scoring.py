"""Asking the natural questions through ``Engine.search`` and ``Engine.answer`` (exactly as the
bot asks) and scoring what came back."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from embeddings.models import Answer, Hit
from embeddings.natural.questions import KINDS, NaturalQuestion

Expect = Literal["answer", "near-miss", "held-out"]
RANKS = (1, 5, 10)


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
