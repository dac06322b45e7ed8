"""Admins add and remove articles from Discord: /add with a file or pasted text, checked as the
corpus reader checks files and written under a safe name, then re-indexed; /remove with
autocomplete. Refused for non-admins, from DMs, and for binary, oversized or path-named files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakediscord import File

from .conftest import Discord, make_seeds, play, text_of

LIGHTHOUSE = b"""---
title: Volunteers repaint the Portmere lighthouse
published: 2024-07-10
source: Portmere Gazette
url: https://example.org/portmere/lighthouse
---

PORTMERE : Volunteers led by retired sailor Ines Moreau repainted the old Portmere lighthouse red and white on Tuesday.

The work took three days and was paid for by a collection among residents of the harbour district.
"""
QUESTION = "Who led the volunteers who repainted the Portmere lighthouse?"


@pytest.fixture
def engine(tmp_path, make_engine):
    built = make_engine(make_seeds(tmp_path / "seeds"))
    built.refresh()
    return built


def added_files(engine) -> list[Path]:
    folder = Path(engine.settings.seeds_dir) / "added"
    return sorted(folder.iterdir()) if folder.exists() else []


async def finished(d: Discord, ix) -> str:
    """Everything the admin was shown, once the reload's report is there."""
    await d.server.wait_for(lambda: "Reload finished" in text_of(ix.messages), timeout=120)
    return text_of(ix.messages)


async def answer_to(d: Discord, question: str) -> str:
    message = await d.server.post(d.alice, d.newsdesk, question)
    return (await d.server.wait_for(lambda: d.server.replies_to(message), timeout=60))[0]["content"]


def test_an_admin_adds_a_file_and_it_answers_a_question_right_after_then_removes_it(engine):
    async def scenario(d: Discord) -> None:
        assert "Ines Moreau" not in await answer_to(d, QUESTION)
        ix = await d.server.slash(d.bob, "add", file=File("lighthouse.md", LIGHTHOUSE, "text/markdown"))
        report = await finished(d, ix)
        assert "Stored as `added/lighthouse-" in report and "**Added** (1)" in report
        assert "Volunteers repaint the Portmere lighthouse" in report and ix.original["flags"] & 64
        assert (await answer_to(d, QUESTION)).startswith("**Ines Moreau**")
        [stored] = added_files(engine)
        assert stored.read_bytes() == LIGHTHOUSE and stored.parent.parent == engine.settings.seeds_dir

        choices = await d.server.autocomplete(d.bob, "remove", "article", article="lighthouse")
        assert choices[0]["name"] == "Volunteers repaint the Portmere lighthouse"
        gone = await d.server.slash(d.carol, "remove", article=choices[0]["value"])  # carol: the admin role
        report = await finished(d, gone)
        assert "Removed `added/lighthouse-" in report and "**Removed** (1)" in report
        assert added_files(engine) == []
        assert "Ines Moreau" not in await answer_to(d, QUESTION)

    play(engine, scenario)


def test_pasted_text_with_a_title_is_added_as_markdown(engine):
    async def scenario(d: Discord) -> None:
        text = "Volunteers led by retired sailor Ines Moreau repainted the old Portmere lighthouse on Tuesday."
        ix = await d.server.slash(d.bob, "add", title="Lighthouse repainted", text=text)
        assert "**Added** (1)" in await finished(d, ix)
        [stored] = added_files(engine)
        assert stored.suffix == ".md" and stored.name.startswith("lighthouse-repainted-")
        assert "Ines Moreau" in await answer_to(d, QUESTION)

    play(engine, scenario)


@pytest.mark.parametrize(
    ("file", "refusal"),
    [
        (File("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"), "binary file (contains NUL bytes)"),
        (File("huge.txt", b"x", size=64 * 2**20), "larger than the 32 MB limit"),
        (File("../../etc/passwd", b"root:x:0:0:root:/root:/bin/bash\n"), "plain name, without a folder or path"),
        (File("notes.exe", b"MZ just text"), "Only .txt, .md, .html, .json, .jsonl files can be added"),
        (File("latin1.txt", "Caf\xe9 opens\n\nA caf\xe9 opened.".encode("latin-1")), "not valid UTF-8"),
    ],
)
def test_a_bad_file_is_refused_with_the_reason_and_nothing_is_written(engine, file, refusal):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.bob, "add", file=file)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        assert refusal in ix.original["content"]
        assert added_files(engine) == [] and not list(Path("/").glob("etc/passwd.*"))
        if file.size:
            assert file.id not in d.server.downloads  # refused before downloading

    play(engine, scenario)


def test_add_and_remove_are_refused_for_non_admins_and_from_direct_messages(engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "add", file=File("lighthouse.md", LIGHTHOUSE))
        await d.server.wait_for(lambda: ix.original)
        assert ix.original["content"].startswith("Only server admins can change the articles")
        dm = await d.server.slash_dm(d.bob, "add", file=File("lighthouse.md", LIGHTHOUSE))
        await d.server.wait_for(lambda: dm.original)
        assert "cannot be used in a direct message" in dm.original["content"]
        rm = await d.server.slash(d.dave, "remove", article="marathon-2024")
        await d.server.wait_for(lambda: rm.original)
        assert rm.original["content"].startswith("Only server admins")
        assert added_files(engine) == [] and d.server.downloads == []

    play(engine, scenario)
