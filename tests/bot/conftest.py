"""The Discord bot, unmodified discord.py and the real engine, against the fake Discord server.

A scenario is an ``async def scenario(d: Discord)``; ``play`` starts a fresh fake server and
bot for it (login, command sync, gateway), runs it, stops both, and checks what every scenario
must respect: nobody pinged, nothing Discord would reject, no bug in the fake.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.client import NewsBot
from bot.guards import RateLimit
from bot.serve import discord_endpoints, run
from bot.settings import AppSettings
from bot.state import BotState

from ..conftest import FIXTURES, SEED
from ..fakediscord import FakeDiscord

TOWN_HALL = """---
title: Portmere council calls a town hall on harbour bridge tolls
published: 2024-05-02
source: Portmere Gazette
---

PORTMERE : The city council invited @everyone living near the harbour to a town hall meeting on June 3 \
about tolls on the new bridge.

Councillor Mara Holt said residents of the old quarter would be asked whether tolls should be charged at weekends.
"""


def make_seeds(folder: Path) -> Path:
    """The seed article, the fixture articles, and one whose text mentions @everyone."""
    folder.mkdir(parents=True)
    shutil.copy(SEED, folder / SEED.name)
    for item in (FIXTURES / "news").iterdir():
        shutil.copy(item, folder / item.name)
    (folder / "townhall.md").write_text(TOWN_HALL, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def news_engine(tmp_path_factory, encoder):
    """A real engine with a built index over ``make_seeds``, shared by a test module."""
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    root = tmp_path_factory.mktemp("discord")
    settings = EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=make_seeds(root / "seeds"))
    engine = Engine(settings, encoder)
    engine.refresh()
    return engine


@dataclass
class Discord:
    """What a scenario works with: the fake server (and its people and channels), the bot and
    the state it shares between commands and channel questions."""

    server: FakeDiscord
    bot: NewsBot
    state: BotState
    task: asyncio.Task
    restart: Callable[[], Awaitable[None]] | None = None

    def __getattr__(self, name: str):
        world = self.server.world
        if name in world.users:
            return world.users[name]
        if name in world.channels:
            return world.channels[name]
        raise AttributeError(name)


def bot_settings(server: FakeDiscord, engine, **overrides) -> AppSettings:
    world = server.world
    values = {
        "data_dir": engine.settings.data_dir,
        "seeds_dir": engine.settings.seeds_dir,
        "discord_token": server.token,
        "discord_api_base_url": server.api_base,
        "discord_gateway_url": server.gateway_url,
        "guild_ids": str(world.guild_id),
        "channels": str(world.channels["newsdesk"].id),
        "admin_role_ids": str(world.roles["news-admins"].id),
        "cooldown_questions": 100,
        "cooldown_seconds": 60,
    }
    values.update(overrides)
    return AppSettings(_env_file=None, **values)


@contextlib.asynccontextmanager
async def running(
    engine, server: FakeDiscord | None = None, *, cooldown: RateLimit | None = None, **overrides
) -> AsyncIterator[Discord]:
    """A fake Discord and the bot connected to it, for the duration. ``await d.restart()``
    stops the bot and starts a new one (fresh state, same data folder) on the same server.
    ``cooldown`` replaces the bot's token bucket (see ``BotState.create``)."""
    server = server or FakeDiscord()
    await server.start()
    settings = bot_settings(server, engine, **overrides)
    try:
        with discord_endpoints(settings.discord_api_base_url, settings.discord_gateway_url):
            d = Discord(server, *await _start_bot(server, engine, settings, cooldown))

            async def restart() -> None:
                await _stop_bot(d)
                d.bot, d.state, d.task = await _start_bot(server, engine, settings, cooldown)

            d.restart = restart
            try:
                yield d
            finally:
                await _stop_bot(d)
    finally:
        await server.stop()


async def _start_bot(
    server: FakeDiscord, engine, settings: AppSettings, cooldown: RateLimit | None = None
) -> tuple[NewsBot, BotState, asyncio.Task]:
    state = BotState.create(settings, engine, cooldown=cooldown)
    bot = NewsBot(state)
    task = asyncio.create_task(run(bot, state))
    ready = asyncio.create_task(server.ready())
    await asyncio.wait({task, ready}, timeout=30, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        state.close()
        task.result()  # raises why the bot stopped
    return bot, state, task


async def _stop_bot(d: Discord) -> None:
    try:
        await d.bot.close()
        await asyncio.wait_for(d.task, 10)
    finally:
        d.state.close()


def play(engine, scenario: Callable[[Discord], Awaitable[None]], *, allow_status=(), **overrides) -> FakeDiscord:
    """Run ``scenario`` against a fresh server and bot, then check the rules every run keeps."""

    async def main() -> FakeDiscord:
        async with running(engine, **overrides) as d:
            await scenario(d)
        return d.server

    server = asyncio.run(main())
    assert not server.errors, server.errors
    assert server.pings == [], f"pinged: {[(c.path, who) for c, who in server.pings]}"
    rejected = [
        (c.method, c.path, c.status, c.body) for c in server.calls if c.status >= 400 and c.status not in allow_status
    ]
    assert not rejected, f"Discord would have rejected: {rejected}"
    return server


@contextlib.contextmanager
def server_in_background(**options) -> Iterator[tuple[FakeDiscord, asyncio.AbstractEventLoop]]:
    """A fake Discord on its own thread, for code that runs its own event loop (``serve``)."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeDiscord(**options)
    asyncio.run_coroutine_threadsafe(server.start(), loop).result(10)
    try:
        yield server, loop
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def embed(message: dict, index: int = 0) -> dict:
    return message["embeds"][index]


def text_of(messages: list[dict]) -> str:
    """Everything a reader sees in ``messages``: contents and embed texts."""
    parts = []
    for m in messages:
        parts.append(m.get("content") or "")
        for e in m.get("embeds") or []:
            parts += [e.get("title") or "", e.get("description") or ""]
            parts += [f"{f['name']} {f['value']}" for f in e.get("fields") or []]
            parts.append((e.get("footer") or {}).get("text") or "")
    return "\n".join(p for p in parts if p)
