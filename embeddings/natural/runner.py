"""Run the natural questions in three settings and score them per split.

- ``whole``: every article of the corpus indexed once (cached, see ``corpora.IndexCache``);
- ``small-N``: each question's article (all articles of its story; a near miss: the articles
  it names) with N other articles drawn at random with a fixed seed;
- ``heldout``: the whole corpus minus a fixed part of the question articles, whose questions
  must then be refused, like every near miss.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from embeddings.encoders import Encoder
from embeddings.models import Corpus
from embeddings.natural.corpora import IndexCache, sample_others
from embeddings.natural.questions import NaturalQuestion
from embeddings.natural.scoring import Expect, Outcome, ask, by_split, write_details
from embeddings.settings import EngineSettings

log = logging.getLogger(__name__)

SETTINGS = ("whole", "small", "heldout")
HELDOUT_EVERY = 3  # about a third of the question articles (with their stories) are held out


def heldout_articles(questions: Sequence[NaturalQuestion], every: int = HELDOUT_EVERY) -> frozenset[str]:
    """The question articles left out of the held-out index: whole groups (a story, else one
    article) whose sha1 of ``"held-out:" + group`` is divisible by ``every``; fixed by the ids."""
    held = set()
    for group, articles in _groups(questions).items():
        if int(hashlib.sha1(f"held-out:{group}".encode()).hexdigest(), 16) % every == 0:
            held.update(articles)
    return frozenset(held)


def _groups(questions: Sequence[NaturalQuestion]) -> dict[str, set[str]]:
    """Answerable questions' articles grouped by story (a story's articles go together)."""
    groups: dict[str, set[str]] = defaultdict(set)
    for q in questions:
        if q.article_id is not None:
            groups[f"story:{q.story}" if q.story else q.article_id].add(q.article_id)
    return groups


def run_natural(
    questions: Sequence[NaturalQuestion],
    corpus: Corpus,
    digest: str,
    settings: EngineSettings,
    encoder: Encoder,
    *,
    cache_dir: Path,
    which: Sequence[str] = SETTINGS,
    sizes: Sequence[int] = (5, 50),
    seed: int = 0,
    details: Path | None = None,
) -> dict[str, Any]:
    """Run ``questions`` over ``corpus`` in the settings named by ``which``; one dict with the
    run's facts and, per setting (``whole``, ``small-5``, ``small-50``, ``heldout``), the scores
    per split (``dev``, ``test``, ``all``). With ``details``, that file gets one JSON line per
    question and setting (``Outcome.details``)."""
    cache = IndexCache(cache_dir, settings, encoder, corpus, digest)
    if details is not None:
        Path(details).write_text("", encoding="utf-8")

    def scored(name: str, outcomes: list[Outcome]) -> dict[str, dict[str, float | int]]:
        if details is not None:
            write_details(details, name, outcomes)
        return by_split(outcomes)

    answerable = [q for q in questions if not q.near_miss]
    result: dict[str, Any] = {
        "articles": len(corpus.articles),
        "questions": len(answerable),
        "question_articles": len({q.article_id for q in answerable}),
        "near_miss_questions": len(questions) - len(answerable),
        "index_key": cache.key,
    }
    if "whole" in which:
        result["whole"] = scored(
            "whole", _ask_all(cache.whole(), settings, encoder, questions, lambda q: _expect(q, set()))
        )
    for size in sizes if "small" in which else ():
        result[f"small-{size}"] = scored(f"small-{size}", _small(cache, settings, encoder, questions, size, seed))
    if "heldout" in which:
        held = heldout_articles(questions)
        result["heldout_articles"] = len(held)
        data_dir = cache.without(held)
        result["heldout"] = scored(
            "heldout", _ask_all(data_dir, settings, encoder, questions, lambda q: _expect(q, held))
        )
    return result


def _expect(question: NaturalQuestion, held: set[str] | frozenset[str]) -> Expect:
    if question.near_miss:
        return "near-miss"
    return "held-out" if question.article_id in held else "answer"


def _ask_all(
    data_dir: Path,
    settings: EngineSettings,
    encoder: Encoder,
    questions: Sequence[NaturalQuestion],
    expect: Callable[[NaturalQuestion], Expect],
) -> list[Outcome]:
    """Open the index in ``data_dir`` with a plain ``Engine`` (the real encoder: questions are
    encoded as in use) and ask every question."""
    from embeddings.engine import Engine  # heavy; the CLI imports this module lazily anyway

    engine = Engine(settings.model_copy(update={"data_dir": data_dir}), encoder)
    engine.load()
    search = lambda text, k: engine.search(text, k)  # noqa: E731 - the settings' retrieval mode, as the bot
    return [ask(search, engine.answer, engine.clear_caches, q, expect(q)) for q in questions]


def _small(
    cache: IndexCache,
    settings: EngineSettings,
    encoder: Encoder,
    questions: Sequence[NaturalQuestion],
    size: int,
    seed: int,
) -> list[Outcome]:
    """Each group of questions over its own small index: its anchor articles and ``size``
    others, drawn with a generator seeded by the seed, the size and the group."""
    by_id = {a.id: a for a in cache.corpus.articles}
    outcomes: list[Outcome] = []
    for group, (anchors, asked) in sorted(_small_groups(questions).items()):
        others = sample_others(cache.corpus.articles, anchors, size, f"{seed}:{size}:{group}")
        with tempfile.TemporaryDirectory(prefix="newsbot-small-") as tmp:
            data_dir = Path(tmp) / "data"
            cache.build_small(data_dir, [by_id[a] for a in sorted(anchors)] + others)
            expect: Callable[[NaturalQuestion], Expect] = lambda q: _expect(q, set())  # noqa: E731
            outcomes += _ask_all(data_dir, settings, encoder, asked, expect)
    log.warning("small-%d: %d questions over their own indexes", size, len(outcomes))
    return outcomes


def _small_groups(questions: Sequence[NaturalQuestion]) -> dict[str, tuple[set[str], list[NaturalQuestion]]]:
    """Questions that share their anchor articles, keyed by a stable name: a story's questions
    share all the story's articles."""
    stories = {g.removeprefix("story:"): a for g, a in _groups(questions).items() if g.startswith("story:")}
    groups: dict[str, tuple[set[str], list[NaturalQuestion]]] = {}
    for q in questions:
        anchors = set(stories[q.story]) if q.story in stories else set(q.anchors)
        key = f"story:{q.story}" if q.story in stories else ",".join(sorted(anchors))
        groups.setdefault(key, (anchors, []))[1].append(q)
    return groups
