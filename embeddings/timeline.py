"""A news timeline: what the articles say about a topic, one line per article, in date order
("what happened with X so far"). Each line quotes the one sentence of the article's retrieved
passages that is closest to the topic, verbatim, with the article's citation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.encoders import Encoder
from embeddings.models import Citation, Hit
from embeddings.summaries import _is_full_sentence

MAX_ENTRIES = 12  # lines in one timeline
# An article whose best sentence is this far below the best article's is off the topic: it only
# came along to fill the hit list. Cosines of all-MiniLM-L6-v2; fixture topics: 0.45-0.75 on topic.
RELEVANCE_MARGIN = 0.25
MIN_RELEVANCE = 0.2


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One article on the timeline: its citation (date, headline, link) and the quoted sentence."""

    citation: Citation
    sentence: str
    relevance: float


@dataclass(frozen=True, slots=True)
class Timeline:
    """``entries`` about ``topic``, oldest first; undated articles come last."""

    topic: str
    entries: tuple[TimelineEntry, ...]


def build_timeline(topic: str, hits: Sequence[Hit], encoder: Encoder, *, max_entries: int = MAX_ENTRIES) -> Timeline:
    """The timeline of ``topic`` from ``hits`` (best first): per article, the full sentence of its
    hit passages closest to the topic; articles far below the best one are left out; the best
    ``max_entries`` are kept and put in date order."""
    candidates = _sentences_by_article(hits)
    if not candidates:
        return Timeline(topic, ())
    texts = [text for _, sentences in candidates for text in sentences]
    vectors = encoder.encode([topic, *texts])
    scores = vectors[1:] @ vectors[0]
    entries: list[TimelineEntry] = []
    offset = 0
    for citation, sentences in candidates:
        own = scores[offset : offset + len(sentences)]
        best = int(np.argmax(own))
        entries.append(TimelineEntry(citation, sentences[best], float(own[best])))
        offset += len(sentences)
    top = max(e.relevance for e in entries)
    floor = max(MIN_RELEVANCE, top - RELEVANCE_MARGIN)
    kept = sorted((e for e in entries if e.relevance >= floor), key=lambda e: -e.relevance)[:max_entries]
    kept.sort(key=lambda e: (e.citation.published is None, e.citation.published or "", e.citation.title))
    return Timeline(topic, tuple(kept))


def _sentences_by_article(hits: Sequence[Hit]) -> list[tuple[Citation, list[str]]]:
    """Per article (in hit order), its citation and the distinct full sentences of its hits."""
    found: dict[str, tuple[Citation, list[str]]] = {}
    for hit in hits:
        _citation, sentences = found.setdefault(hit.article.id, (Citation.of(hit.article, hit.score), []))
        for span in hit.chunk.sentences:
            text = hit.article.text[span.start : span.end].strip()
            if text not in sentences and _is_full_sentence(text):
                sentences.append(text)
    return [(c, s) for c, s in found.values() if s]
