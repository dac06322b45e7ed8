"""Sentence boundaries with exact character offsets, from a real rule-based splitter (pysbd).

pysbd knows abbreviations ("U.S.", "Mr. Khan", "Jan. 5"), decimals and initials. We run it per
paragraph (blank-line separated), so no sentence ever spans two paragraphs, and we turn its
output into cut points so that every non-blank character of the text lands in exactly one
sentence, even where the splitter would drop or alter characters.
"""

from __future__ import annotations

import re
from itertools import pairwise

import pysbd

from embeddings.ingest.segmenter import fast_segmenter
from embeddings.models import Sentence

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# pysbd's regexes are slow on very long paragraphs; longer stretches are cut at a whitespace
# near this many characters first (a 1 MB line would otherwise take minutes).
_MAX_SEGMENT_CHARS = 5_000


def split_sentences(text: str, *, segmenter: pysbd.Segmenter | None = None) -> tuple[Sentence, ...]:
    """Return the sentences of ``text`` in order, as offsets; ``text[s.start:s.end]`` is
    stripped of surrounding whitespace and never empty; together they cover every
    non-whitespace character exactly once. ``segmenter`` is for comparisons (stock pysbd);
    the default is ``fast_segmenter()``, which gives the same boundaries."""
    sentences: list[Sentence] = []
    for start, end in _paragraph_spans(text):
        for seg_start, seg_end in _bounded_segments(text, start, end):
            sentences.extend(_split_segment(text, seg_start, seg_end, segmenter or fast_segmenter()))
    return tuple(sentences)


def _paragraph_spans(text: str) -> list[tuple[int, int]]:
    spans, pos = [], 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _bounded_segments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Cut [start, end) into pieces of at most ~_MAX_SEGMENT_CHARS at whitespace."""
    pieces = []
    while end - start > _MAX_SEGMENT_CHARS:
        window = (start + _MAX_SEGMENT_CHARS // 2, start + _MAX_SEGMENT_CHARS)
        # Prefer a likely sentence end, then any space, then a hard cut.
        cut = text.rfind(". ", *window) + 1 or text.rfind(" ", *window)
        if cut <= start:
            cut = start + _MAX_SEGMENT_CHARS
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def _split_segment(text: str, start: int, end: int, segmenter: pysbd.Segmenter) -> list[Sentence]:
    segment = text[start:end]
    cuts, cursor = [0], 0
    for piece in segmenter.segment(segment):
        piece = piece.strip()
        if not piece:
            continue
        found = segment.find(piece, cursor)
        if found < 0:  # the splitter altered the text: keep the rest as one sentence
            break
        cursor = found + len(piece)
        cuts.append(cursor)
    cuts.append(len(segment))
    spans = [s for a, b in pairwise(cuts) if (s := _trimmed(text, start + a, start + b))]
    return _merge_punctuation_only(text, spans)


def _merge_punctuation_only(text: str, spans: list[Sentence]) -> list[Sentence]:
    """Glue a lone closing quote or bracket (no letters or digits) onto the sentence before."""
    merged: list[Sentence] = []
    for span in spans:
        if merged and not any(ch.isalnum() for ch in text[span.start : span.end]):
            merged[-1] = Sentence(merged[-1].start, span.end)
        else:
            merged.append(span)
    return merged


def _trimmed(text: str, start: int, end: int) -> Sentence | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Sentence(start, end) if end > start else None
