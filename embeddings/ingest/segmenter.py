"""pysbd, made fast without changing a boundary.

Two of pysbd's steps cost far more than its rules: its abbreviation replacer builds a few regex
patterns for each abbreviation it sees on every line (hundreds of distinct ones per article,
more than the ``re`` module's cache of 512 holds, so each call compiled its pattern again:
348k ``re.compile`` calls per 100 long articles), and ``Segmenter.segment`` finds each sentence
back in the text by compiling the sentence itself as a regex and scanning from the start.
``fast_segmenter`` keeps pysbd's rules and output and removes both costs: the replacer's
patterns are compiled once (same patterns, same flags, same calls), and sentences are found
back with ``str.find``, emulating the regex scan exactly. ``benchmarks.sentence_boundaries``
and ``tests/embeddings/test_sentences.py`` check the boundaries against stock pysbd's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import pysbd
from pysbd import abbreviation_replacer
from pysbd.utils import TextSpan


class _CompiledOnce:
    """The ``re`` functions pysbd's abbreviation replacer calls, each pattern compiled once."""

    def __getattr__(self, name: str) -> Any:
        return getattr(re, name)

    @staticmethod
    def sub(pattern: str, repl: Any, string: str, count: int = 0, flags: int = 0) -> str:
        return _compiled(pattern, flags).sub(repl, string, count)

    @staticmethod
    def findall(pattern: str, string: str, flags: int = 0) -> list[Any]:
        return _compiled(pattern, flags).findall(string)


@lru_cache(maxsize=16_384)
def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


class FastSegmenter(pysbd.Segmenter):  # type: ignore[misc]  # pysbd is untyped
    """``pysbd.Segmenter`` with its sentences found back in the text by ``str.find``."""

    def sentences_with_char_spans(self, sentences: Sequence[str]) -> list[Any]:
        text: str = self.original_text
        spans, prior_end = [], 0
        for sent in sentences:
            found = _first_match_ending_after(text, sent, prior_end)
            if found is not None:
                spans.append(TextSpan(text[found[0] : found[1]], found[0], found[1]))
                prior_end = found[1]
        return spans


def _first_match_ending_after(text: str, sent: str, prior_end: int) -> tuple[int, int] | None:
    """What pysbd's ``re.finditer(re.escape(sent) + r"\\s*", text)`` loop picks: the first of
    the non-overlapping matches, left to right, that ends after ``prior_end``."""
    if not sent:  # the regex would match empty strings: keep pysbd's own scan for this case
        for match in re.finditer(r"\s*", text):
            if match.end() > prior_end:
                return match.span()
        return None
    pos = 0
    while (start := text.find(sent, pos)) >= 0:
        end = start + len(sent)
        while end < len(text) and text[end].isspace():  # \s of a str pattern is str.isspace
            end += 1
        if end > prior_end:
            return start, end
        pos = end
    return None


@lru_cache(maxsize=1)
def fast_segmenter() -> pysbd.Segmenter:
    """The English segmenter the splitter uses (one per process; pysbd keeps no state between
    ``segment`` calls other than the text being segmented, which each call replaces)."""
    # The abbreviation module calls re.sub/re.findall through its module global ``re``.
    abbreviation_replacer.re = _CompiledOnce()
    return FastSegmenter(language="en", clean=False, char_span=False)
