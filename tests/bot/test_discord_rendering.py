"""Rendering for Discord: splitting and trimming to its limits, escaping untrusted text."""

from __future__ import annotations

import discord
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.limits import EMBED_TOTAL, embeds_for, fit_embed, group_embeds, split_text
from bot.replies import answer_embeds, answer_text, citation_line, no_pings, reload_text, summary_embeds
from embeddings.models import Answer, Citation, IndexReport, SkippedFile, Summary, SummaryPoint

from ..fakediscord.rules import invalid

CITE = Citation("a1", "Harbour *bridge* opens", "2024-03-14", "https://example.org/a?x=1", "Gazette", "PORTMERE")
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=3000)


def answer(sentences: tuple[str, ...], short: str | None = "May 21-22") -> Answer:
    return Answer("when?", True, short, sentences, (CITE,), 0.8, "when?")


@settings(max_examples=200, deadline=None)
@given(words, st.integers(min_value=20, max_value=2000))
def test_split_text_gives_pieces_within_the_limit_that_keep_every_character(text, limit):
    pieces = split_text(text, limit)
    assert all(0 < len(p) <= limit and p == p.strip() for p in pieces)
    assert "".join("".join(p.split()) for p in pieces) == "".join(text.split())


def test_split_text_prefers_paragraphs_then_lines_then_sentences():
    para = "First paragraph. " * 50
    assert split_text(f"{para}\n\n{para}", 1000)[0] == para.strip()
    line = "a line of words " * 5
    assert all(p.endswith("words") for p in split_text("\n".join([line] * 40), 300))
    sentences = split_text("This is one sentence. " * 200, 500)
    assert all(p.endswith("sentence.") for p in sentences)


def test_a_long_channel_answer_is_split_at_line_boundaries_into_messages_under_2000():
    long = tuple(f"Sentence {i} " + "word " * 150 + "end." for i in range(5))
    parts = answer_text(answer(long))
    assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
    assert parts[0].startswith("**May 21-22**\n> Sentence 0")
    assert all(p.startswith("> ") for p in parts[1:-1])  # every cut is at the start of a quote line


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 5000), st.integers(0, 40), st.integers(0, 2000), st.integers(0, 400))
def test_embeds_never_exceed_discords_limits(description, fields, value, title):
    embed = discord.Embed(title="t" * title or None, description="d" * description or None)
    for i in range(fields):
        embed.add_field(name=f"field {i}" * 40, value="v" * value or "-")
    embed.set_footer(text="f" * 3000)
    fitted = fit_embed(embed)
    assert invalid({"embeds": [fitted.to_dict()]}, creating=True) is None
    assert len(fitted) <= EMBED_TOTAL


def test_a_long_body_continues_over_embeds_grouped_into_valid_messages():
    body = "\n".join(f"• point {i} " + "x" * 300 for i in range(60))
    embeds = embeds_for(body, title="Digest", fields=[("Sources", "1. a")], footer="f")
    groups = group_embeds(embeds)
    assert embeds[0].title == "Digest" and embeds[-1].fields[0].name == "Sources"
    assert all(invalid({"embeds": [e.to_dict() for e in g]}, creating=True) is None for g in groups)
    assert "".join(e.description for e in embeds).count("• point") == 60


def test_article_text_is_escaped_and_only_plain_http_urls_become_links():
    line = citation_line(CITE)
    assert line.startswith("[Harbour \\*bridge\\* opens](https://example.org/a?x=1) — PORTMERE")
    sneaky = Citation("b", "Click [here](https://evil.example)", url="javascript:alert(1)")
    assert citation_line(sneaky) == "Click \\[here](https://evil.example)"  # shown, not a hidden link
    quoted = answer_text(answer(("Use **bold** and `code` and > quotes @everyone",)))[0]
    assert "\\*\\*bold\\*\\*" in quoted and "\\`code\\`" in quoted


def test_summary_numbers_its_sources_in_a_digest():
    other = Citation("b2", "Rates held", url="https://example.org/b")
    digest = Summary(
        "Portmere", (SummaryPoint("One.", CITE), SummaryPoint("Two.", other), SummaryPoint("Three.", CITE))
    )
    e = summary_embeds(digest)[0][0]
    assert e.description == "• One. [1]\n• Two. [2]\n• Three. [1]"
    assert e.fields[0].value.splitlines()[1] == "2. [Rates held](https://example.org/b)"


def test_a_refusal_lists_the_closest_articles():
    refusal = Answer("capital of France?", False, None, (), (CITE,), 0.02, "capital of France?")
    e = answer_embeds(refusal)[0][0]
    assert e.title == "Not found in the articles" and e.fields[0].name == "Closest articles"
    assert answer_text(refusal)[0].startswith("I couldn't find that in the articles.")


def test_a_reload_report_with_many_skipped_files_is_split_and_capped():
    skipped = tuple(SkippedFile(f"feeds/export-{i:03}-from-the-old-system.json", "malformed JSON") for i in range(200))
    parts = reload_text(IndexReport(added=("a1",), skipped=skipped, seconds=1.5), {"a1": "Harbour bridge"})
    assert len(parts) >= 2 and all(len(p) <= 2000 for p in parts)
    assert "1 added" in parts[0] and "Harbour bridge (a1)" in parts[0]
    assert parts[-1].endswith("… and 150 more (listed in the bot's log)")


def test_no_pings_allows_no_mention_at_all():
    assert no_pings().to_dict() == {"parse": []}
