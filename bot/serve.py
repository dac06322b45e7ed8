"""``newsbot serve``: run the Discord bot until it is stopped, and turn startup failures into
one clear line and a non-zero exit code. The bot's composition root: the shared ``BotState``
is built here and given to the client, which hands it to the commands and channel questions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator

import aiohttp
import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from embeddings.errors import NewsbotError

from .client import NewsBot, make_bot
from .settings import AppSettings
from .state import BotState

log = logging.getLogger("newsbot.discord")

PORTAL = "https://discord.com/developers/applications"
BAD_TOKEN = (
    f"Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer Portal ({PORTAL} "
    "→ your application → Bot → Reset Token) into .env or the environment."
)
NO_INTENT = (
    f"Discord refused the Message Content intent, which channel questions need. Turn it on in the "
    f"Developer Portal ({PORTAL} → your application → Bot → Privileged Gateway Intents → "
    "Message Content Intent → Save), then start the bot again."
)
NO_TOKEN = (
    "DISCORD_TOKEN is not set. Put the bot token from the Developer Portal "
    f"({PORTAL} → your application → Bot → Reset Token) in .env or the environment."
)


def serve(settings: AppSettings, engine) -> int:
    """Run the bot on ``engine`` until stopped or a fatal error; return the exit code: 0 after
    SIGTERM, 130 after Ctrl-C, 1 when the bot cannot start or run (no or bad token, a missing
    privileged intent, an unusable index, Discord unreachable), with the reason on stderr."""
    problem = config_problem(settings)
    if problem:
        return _fail(problem)
    try:
        with discord_endpoints(settings.discord_api_base_url, settings.discord_gateway_url):
            state = BotState.create(settings, engine)
            try:
                asyncio.run(run(make_bot(state), state))
            finally:
                state.close()
    except KeyboardInterrupt:
        return 130  # as every newsbot command does on Ctrl-C
    except Exception as exc:
        return _fail(startup_error(exc, settings))
    return 0


def config_problem(settings: AppSettings) -> str | None:
    """Why ``settings`` cannot run the bot, before anything is loaded; None when they can."""
    if settings.discord_token is None or not settings.discord_token.get_secret_value().strip():
        return NO_TOKEN
    return None


def startup_error(exc: BaseException, settings: AppSettings) -> str:
    """The one-line reason why the bot stopped, for the operator (stderr, log)."""
    if isinstance(exc, discord.LoginFailure):
        return BAD_TOKEN
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return NO_INTENT
    if isinstance(exc, discord.ConnectionClosed):
        if exc.code == 4004:
            return BAD_TOKEN
        return f"the Discord gateway closed the connection (code {exc.code}: {exc.reason or 'no reason given'})."
    if isinstance(exc, NewsbotError):
        return str(exc)
    if isinstance(exc, (aiohttp.ClientError, OSError)):
        where = settings.discord_api_base_url or Route.BASE
        return f"cannot reach Discord at {where}: {exc}"
    log.error("the bot stopped on an unexpected error", exc_info=exc)
    return f"the bot stopped on an unexpected error: {exc!r} (traceback in the log)"


async def run(bot: NewsBot, state: BotState) -> None:
    """Load ``state``'s index (or plan to build it once connected), log in, sync commands and
    stay connected until ``bot.close()``."""
    # No index, a damaged one or one of other settings: built in the background once connected.
    await asyncio.to_thread(state.startup.load)
    _close_on_sigterm(bot)
    follower = None
    if state.settings.backend_kind == "postgres":
        # Replicas share the database: each serves what any of them published.
        follower = asyncio.create_task(state.reloads.follow(state.settings.follow_seconds))
    try:
        async with bot:
            await bot.start(state.settings.discord_token.get_secret_value())
    finally:
        if follower is not None:
            follower.cancel()


def _close_on_sigterm(bot: NewsBot) -> None:
    # A service manager stops the bot with SIGTERM; close the gateway cleanly rather than die.
    with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not main thread / Windows
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))


@contextlib.contextmanager
def discord_endpoints(api_base_url: str | None, gateway_url: str | None) -> Iterator[None]:
    """Point discord.py at another REST base and gateway (a rate-limit proxy, or a
    Discord-compatible server) for the duration, then restore its defaults.

    discord.py keeps both as class attributes, so this is process-wide: one bot per process.
    """
    saved = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    try:
        if api_base_url:
            Route.BASE = api_base_url.rstrip("/")
        if gateway_url:
            DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1
