"""Can the sentence vectors stored at index time (``pooled``) judge a summary's redundancy?

Topic digests (``summarize_topic``) over a real index: for each of ``--topics`` articles drawn
at random (seed ``--seed``), the digest of its headline over the 10 best passages, the bot's
own path. Each digest's candidate sentences are compared two ways: their cosine by the vectors
stored with the index (pooled from the chunk pass, read in their chunk's context) and by the
model run on each sentence alone (what ``summaries.py`` uses today). Printed:

- per pair of candidates, by where the two sentences sit (same chunk, same article, other
  articles): how well the stored cosine follows the alone cosine, and how many pairs each calls
  near-duplicates at a few thresholds;
- the digests themselves made three ways (redundancy by the alone vectors, today; by the stored
  vectors; no redundancy check), and how many of their point pairs are near-duplicates by two
  judges: the alone cosine (>= 0.75, today's rule) and shared content words (at least 60% of the
  shorter sentence's content words in the other).

    .venv/bin/python -m benchmarks.summary_redundancy --data-dir /work/cache/natural-index/whole-<key> --topics 60
"""

from __future__ import annotations

import argparse
import random
import re
from collections.abc import Sequence
from pathlib import Path
from unittest import mock

import numpy as np

from embeddings import summaries
from embeddings.encoders import load_encoder
from embeddings.engine import Engine
from embeddings.index.sentence_vectors import sentence_spans
from embeddings.models import Hit
from embeddings.settings import EngineSettings

ALONE_DUPLICATE = summaries.NEAR_DUPLICATE
WORD_DUPLICATE = 0.6
_STOP = frozenset(
    "the a an of in on at to for and or but is was were are be been has had have that this with by from as its it"
    " he she they his her their said says will would".split()
)


def content_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _STOP and len(w) > 1}


def word_duplicate(a: str, b: str) -> bool:
    """At least WORD_DUPLICATE of the shorter sentence's content words are in the other."""
    x, y = content_words(a), content_words(b)
    return bool(x and y) and len(x & y) / min(len(x), len(y)) >= WORD_DUPLICATE


class StoredVectors:
    """An encoder for ``summarize_topic`` that answers a candidate sentence with its stored
    pooled vector (from the hit chunk that holds it) and anything else with the real model."""

    def __init__(self, encoder, known: dict[str, np.ndarray]) -> None:
        self.encoder, self.known = encoder, known

    def encode(self, texts: Sequence[str], **options) -> np.ndarray:
        rows = [self.known.get(t) for t in texts]
        todo = [t for t, r in zip(texts, rows, strict=True) if r is None]
        made = iter(self.encoder.encode(todo) if todo else [])
        return np.stack([r if r is not None else next(made) for r in rows])


def stored_sentence_vectors(snapshot, hits: Sequence[Hit]) -> dict[str, tuple[np.ndarray, int, str]]:
    """Sentence text → (stored vector, chunk id, article id), the first hit holding it."""
    stored = snapshot.sentence_vectors([h.chunk_id for h in hits])
    out: dict[str, tuple[np.ndarray, int, str]] = {}
    for hit in hits:
        rows = stored.get(hit.chunk_id)
        if rows is None or len(rows) != len(sentence_spans(hit.chunk)):
            continue
        for sentence, row in zip(hit.chunk.sentences, rows, strict=True):
            out.setdefault(hit.article.text[sentence.start : sentence.end], (row, hit.chunk_id, hit.article.id))
    return out


def pair_table(records: list[tuple[float, float, str]]) -> None:
    print("\npairs of candidate sentences: stored (pooled) cosine against alone cosine")
    print(f"{'where':28}{'pairs':>7}{'corr':>7}{'mean diff':>10}{'alone>=.75':>11}", end="")
    for t in (0.75, 0.8, 0.85, 0.9):
        print(f"{f'stored>={t}':>13}", end="")
    print()
    for where in ("same chunk", "same article", "other articles"):
        rows = [(p, e) for p, e, w in records if w == where]
        if len(rows) < 3:
            continue
        p, e = np.array(rows).T
        print(
            f"{where:28}{len(rows):>7}{np.corrcoef(p, e)[0, 1]:>7.3f}{(p - e).mean():>+10.3f}{(e >= 0.75).sum():>11}",
            end="",
        )
        for t in (0.75, 0.8, 0.85, 0.9):
            print(f"{f'{(p >= t).sum()} ({((p >= t) & (e >= 0.75)).sum()})':>13}", end="")
        print()
    print("(stored>=t: pairs the stored vectors call near-duplicates; in brackets, of them, the alone cosine's)")


def digest_duplicates(points: Sequence[str], alone: dict[str, np.ndarray]) -> tuple[int, int]:
    """Point pairs that are near-duplicates by the alone cosine, and by shared words."""
    pairs = [(a, b) for i, a in enumerate(points) for b in points[i + 1 :]]
    by_model = sum(1 for a, b in pairs if float(alone[a] @ alone[b]) >= ALONE_DUPLICATE)
    return by_model, sum(1 for a, b in pairs if word_duplicate(a, b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, required=True, help="an index built with pooled sentence vectors")
    parser.add_argument("--topics", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    settings = EngineSettings(data_dir=args.data_dir)
    encoder = load_encoder(settings)
    engine = Engine(settings, encoder)
    engine.load()
    snapshot = engine._current().snapshot  # a benchmark reads the stored vectors directly
    articles = sorted(engine.articles(), key=lambda a: a.id)
    topics = random.Random(args.seed).sample(articles, min(args.topics, len(articles)))
    records: list[tuple[float, float, str]] = []
    totals = {name: [0, 0, 0] for name in ("alone (today)", "stored", "none")}
    missing = 0
    for article in topics:
        hits = engine.search(article.title, 10)
        stored = stored_sentence_vectors(snapshot, hits)
        texts = list(stored)
        if len(texts) < 2:
            missing += 1
            continue
        alone = dict(zip(texts, encoder.encode(texts), strict=True))
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                (pa, ca, aa), (pb, cb, ab) = stored[a], stored[b]
                where = "same chunk" if ca == cb else "same article" if aa == ab else "other articles"
                records.append((float(pa @ pb), float(alone[a] @ alone[b]), where))
        stored_encoder = StoredVectors(encoder, {t: v for t, (v, _, _) in stored.items()})
        for name, enc, threshold in (
            ("alone (today)", encoder, ALONE_DUPLICATE),
            ("stored", stored_encoder, ALONE_DUPLICATE),
            ("none", encoder, 2.0),
        ):
            with mock.patch.object(summaries, "NEAR_DUPLICATE", threshold):
                points = [p.text for p in summaries.summarize_topic(article.title, hits, enc).points]
            extra = [t for t in points if t not in alone]
            alone.update(zip(extra, encoder.encode(extra), strict=True) if extra else [])
            by_model, by_words = digest_duplicates(points, alone)
            totals[name][0] += len(points)
            totals[name][1] += by_model
            totals[name][2] += by_words
    done = len(topics) - missing
    print(f"{done} digests ({missing} topics skipped: no stored sentence vectors); index {args.data_dir}")
    pair_table(records)
    print(f"\n{'redundancy by':16}{'points':>8}{'dup pairs (alone cosine>=0.75)':>32}{'dup pairs (shared words)':>26}")
    for name, (points, by_model, by_words) in totals.items():
        print(f"{name:16}{points:>8}{by_model:>32}{by_words:>26}")


if __name__ == "__main__":
    main()
