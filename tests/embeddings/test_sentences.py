"""Sentence splitting: abbreviations stay whole, offsets are exact, nothing is lost."""

from __future__ import annotations

import json
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from embeddings.ingest.sentences import split_sentences


def texts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in split_sentences(text)]


def test_abbreviations_do_not_end_sentences():
    text = "The U.S. envoy met Mr. Khan in Beijing on Jan. 5. He said talks went well."
    assert texts(text) == ["The U.S. envoy met Mr. Khan in Beijing on Jan. 5.", "He said talks went well."]


def test_decimals_and_initials_do_not_end_sentences():
    text = "Prices rose 3.5% last year, said J. K. Rowling. Then they fell."
    assert texts(text) == ["Prices rose 3.5% last year, said J. K. Rowling.", "Then they fell."]


def test_sentences_never_span_paragraphs():
    text = "First paragraph has no full stop\n\nSecond paragraph starts here. And ends here."
    assert texts(text) == ["First paragraph has no full stop", "Second paragraph starts here.", "And ends here."]


def test_closing_quote_stays_with_its_sentence():
    text = "He said “we will come.”\n\nNext."
    assert texts(text) == ["He said “we will come.”", "Next."]


def test_a_huge_paragraph_is_split_quickly_and_completely():
    text = "He said the U.S. will act. " * 5000
    spans = split_sentences(text)
    assert len(spans) == 5000
    assert all(text[s.start : s.end] == "He said the U.S. will act." for s in spans)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_every_non_blank_character_lands_in_exactly_one_sentence(text):
    spans = split_sentences(text)
    covered = [0] * len(text)
    for s in spans:
        piece = text[s.start : s.end]
        assert piece == piece.strip() and piece
        for i in range(s.start, s.end):
            covered[i] += 1
    assert all(c <= 1 for c in covered)
    assert all(covered[i] == 1 for i, ch in enumerate(text) if not ch.isspace())
    assert [s.start for s in spans] == sorted(s.start for s in spans)


HARD_TEXTS = [
    "Mr. Smith met Dr. Jones at 5 p.m. on Jan. 5 in Washington, D.C. They talked. They talked.",
    "The U.S. economy grew 2.5% in Q3. The U.S. Senate voted 51-49. Prof. A. B. Clark dissented.",
    'He said: "Stop." Then he left.\u00a0 "Why?" she asked.   It was 3 a.m. No. No. No.',
    "Repeat. Repeat. Repeat. Repeat.\n\nRepeat.",
    "Prices rose (see fig. 3) by approx. 4 per cent, i.e. a record. Cf. last year's 1.2 per cent!",
    "Sen. Warren (D-Mass.) and Gov. Abbott spoke.\tThe vote is on Nov. 8.\nA new line. Etc.",
]


def test_the_fast_splitter_finds_the_same_boundaries_as_stock_pysbd():
    from tests.conftest import FIXTURES, SEED

    texts = HARD_TEXTS + [SEED.read_text(encoding="utf-8")]
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in sorted((FIXTURES / "news").iterdir())]
    # Stock pysbd in a process where the speed-ups were never installed.
    script = (
        "import json, sys, pysbd\n"
        "from embeddings.ingest.sentences import split_sentences\n"
        "seg = pysbd.Segmenter(language='en', clean=False, char_span=False)\n"
        "texts = json.load(sys.stdin)\n"
        "print(json.dumps([[[s.start, s.end] for s in split_sentences(t, segmenter=seg)] for t in texts]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], input=json.dumps(texts), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    stock = json.loads(out.stdout)
    fast = [[[s.start, s.end] for s in split_sentences(t)] for t in texts]
    assert fast == stock
