"""Sentence-aware chunking measured in the embedding model's own word pieces.

A chunk is a run of whole sentences of one article whose embedding text (headline + newline +
chunk text, plus the model's two special tokens) fits the model's window, so the encoder never
truncates it. Consecutive chunks share at least one sentence, so a fact that straddles a
boundary is whole in one of them. A single sentence longer than the window is cut at word
boundaries into pieces that fit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from embeddings.ingest.sentences import split_sentences
from embeddings.models import Article, Chunk, Sentence

SPECIAL_TOKENS = 2  # [CLS] and [SEP]
_HEADING_SHARE = 4  # a headline may take at most 1/4 of the window
_WORD = re.compile(r"\S+")


class TokenCounter(Protocol):
    """Counts word pieces the way the embedding model will (without special tokens)."""

    max_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@dataclass(frozen=True, slots=True)
class ChunkingConfig:
    """How articles are cut; recorded in the index so a different setting forces a rebuild.

    256 (the model's whole window) finds long articles' passages more often than 160, but it
    changes an answer of the seed article (docs/EVALUATION.md, "Long articles and chunk size"),
    so the default stays 160 until that is settled."""

    chunk_tokens: int = 160
    overlap_sentences: int = 1


def chunk_article(article: Article, counter: TokenCounter, config: ChunkingConfig) -> list[Chunk]:
    """Cut ``article.text`` into chunks whose ``embed_text`` fits ``counter.max_tokens``."""
    heading = _fit_heading(article.title, counter)
    budget = _text_budget(heading, counter, config)
    pieces = _pieces(article.text, split_sentences(article.text), counter, budget)
    windows = _windows(pieces, budget, config.overlap_sentences)
    return [_make_chunk(article, heading, i, win, counter) for i, win in enumerate(windows)]


def _fit_heading(title: str, counter: TokenCounter) -> str:
    limit = counter.max_tokens // _HEADING_SHARE
    words = title.split()
    if counter.count_tokens([title])[0] <= limit:
        return " ".join(words)
    counts = counter.count_tokens(words)
    total, kept = 0, []
    for word, n in zip(words, counts):
        if total + n > limit:
            break
        kept.append(word)
        total += n
    return " ".join(kept)


def _text_budget(heading: str, counter: TokenCounter, config: ChunkingConfig) -> int:
    heading_tokens = counter.count_tokens([heading])[0] if heading else 0
    room = counter.max_tokens - SPECIAL_TOKENS - heading_tokens
    return max(8, min(config.chunk_tokens, room))


@dataclass(frozen=True, slots=True)
class _Piece:
    start: int
    end: int
    tokens: int


def _pieces(text: str, sentences: Sequence[Sentence], counter: TokenCounter, budget: int) -> list[_Piece]:
    """Sentences with their token counts; a sentence over the budget becomes word windows."""
    counts = counter.count_tokens([text[s.start : s.end] for s in sentences])
    pieces: list[_Piece] = []
    for sentence, n in zip(sentences, counts):
        if n <= budget:
            pieces.append(_Piece(sentence.start, sentence.end, n))
        else:
            pieces.extend(_word_windows(text, sentence, counter, budget))
    return pieces


def _word_windows(text: str, sentence: Sentence, counter: TokenCounter, budget: int) -> list[_Piece]:
    words = _fitting_words(text, sentence, counter, budget)
    pieces: list[_Piece] = []
    start: int | None = None
    end = total = 0  # end is only read once start is set, in the same step
    for w_start, w_end, n in words:
        if start is not None and total + n > budget:
            pieces.append(_Piece(start, end, total))
            start, total = None, 0
        start = w_start if start is None else start
        end, total = w_end, total + n
    if start is not None:
        pieces.append(_Piece(start, end, total))
    return pieces


def _fitting_words(text: str, span: Sentence, counter: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    """Words in ``span`` as (start, end, tokens); a "word" over the budget (a long unbroken
    string) is cut into character slices that fit."""
    spans = [(m.start(), m.end()) for m in _WORD.finditer(text, span.start, span.end)]
    out: list[tuple[int, int, int]] = []
    for (a, b), n in zip(spans, counter.count_tokens([text[a:b] for a, b in spans])):
        if n <= budget:
            out.append((a, b, n))
            continue
        step = max(1, (b - a) * budget // (2 * n))
        for c in range(a, b, step):
            out.extend(_fitting_slice(text, c, min(c + step, b), counter, budget))
    return out


def _fitting_slice(text: str, a: int, b: int, counter: TokenCounter, budget: int) -> list[tuple[int, int, int]]:
    n = counter.count_tokens([text[a:b]])[0]
    if n <= budget or b - a <= 1:
        return [(a, b, min(n, budget))]
    mid = (a + b) // 2
    return _fitting_slice(text, a, mid, counter, budget) + _fitting_slice(text, mid, b, counter, budget)


def _windows(pieces: list[_Piece], budget: int, overlap: int) -> list[list[_Piece]]:
    """Greedy windows of consecutive pieces within ``budget``, each sharing ``overlap``
    pieces with the one before (fewer only when the window could not fit more)."""
    windows: list[list[_Piece]] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and (j == i or total + pieces[j].tokens <= budget):
            total += pieces[j].tokens
            j += 1
        windows.append(pieces[i:j])
        if j >= len(pieces):
            break
        i = max(i + 1, j - overlap)
    return windows


def _make_chunk(article: Article, heading: str, ordinal: int, window: list[_Piece], counter: TokenCounter) -> Chunk:
    start, end = window[0].start, window[-1].end
    chunk = Chunk(
        article_id=article.id,
        ordinal=ordinal,
        start=start,
        end=end,
        text=article.text[start:end],
        sentences=tuple(Sentence(p.start, p.end) for p in window),
        heading=heading,
        tokens=0,
    )
    return replace(chunk, tokens=counter.count_tokens([chunk.embed_text])[0] + SPECIAL_TOKENS)
