"""Auto-refresh (NEWSBOT_WATCH=1): a file dropped into the seeds folder is answerable within
seconds; a burst of 50 files makes one or two refreshes, not 50; /status shows the last one."""

from __future__ import annotations

import asyncio
import time

import pytest

from .conftest import Discord, make_seeds, play, text_of

QUESTION = "Who led the volunteers who repainted the Portmere lighthouse?"
LIGHTHOUSE = """---
title: Volunteers repaint the Portmere lighthouse
published: 2024-07-10
---

Volunteers led by retired sailor Ines Moreau repainted the old Portmere lighthouse red and white on Tuesday.
"""


@pytest.fixture
def engine(tmp_path, make_engine):
    built = make_engine(make_seeds(tmp_path / "seeds"))
    built.refresh()
    return built


async def until(check, timeout: float) -> float:
    """Seconds until ``check()`` held, polling (the bot's own state changes unseen by the server)."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            raise TimeoutError
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def watching(d: Discord) -> None:
    """Until the bot watches the folder (it starts once connected) and has caught up."""
    await until(lambda: d.bot.watcher is not None and d.bot.watcher.live.is_set(), 60)
    await until(lambda: d.state.reloads.running_by is None, 60)


def test_a_dropped_file_is_answerable_within_seconds_and_shows_in_status(engine):
    async def scenario(d: Discord) -> None:
        await watching(d)
        (engine.settings.seeds_dir / "lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
        seconds = await until(lambda: d.bot.watcher.refreshes >= 1, 90)
        print(f"dropped file indexed after {seconds:.1f} s")
        message = await d.server.post(d.alice, d.newsdesk, QUESTION)
        reply = (await d.server.wait_for(lambda: d.server.replies_to(message)))[0]["content"]
        assert reply.startswith("**Ines Moreau**")
        status = await d.server.slash(d.alice, "status")
        await d.server.wait_for(lambda: status.original and not status.loading)
        assert "by auto-refresh" in text_of(status.messages) and "1 added" in text_of(status.messages)

    play(engine, scenario, watch=True, watch_settle_seconds=0.5)


def test_a_burst_of_fifty_files_makes_one_or_two_refreshes(engine):
    async def scenario(d: Discord) -> None:
        await watching(d)
        for n in range(50):
            text = f"---\ntitle: Harbour notice number {n}\n---\n\nThe harbour office posted notice number {n} today.\n"
            (engine.settings.seeds_dir / f"notice-{n:02}.md").write_text(text, encoding="utf-8")
        await until(lambda: len(d.state.engine.articles()) >= 50 + 6 and not d.state.reloads.running_by, 120)
        await asyncio.sleep(3.0)  # nothing more comes
        assert 1 <= d.bot.watcher.refreshes <= 2
        assert {f"Harbour notice number {n}" for n in range(50)} <= {a.title for a in d.state.engine.articles()}

    play(engine, scenario, watch=True, watch_settle_seconds=0.5)
