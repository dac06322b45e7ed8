"""The Discord client: intents, the command tree and its sync, and the state that commands and
channel questions share (cooldowns, latencies, reloads, answered threads)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

import discord
from discord import app_commands

from embeddings.models import Answer

from . import channel
from .commands import build_commands
from .conversation import AnsweredThreads
from .errors import report_to_interaction
from .guards import Cooldown
from .reload import Reloader
from .replies import no_pings
from .settings import AppSettings
from .stats import LatencyTracker

log = logging.getLogger("newsbot.discord")


def needed_intents() -> discord.Intents:
    """Only what the bot uses: servers and their channels, server messages, and the (privileged)
    message content, without which channel questions and follow-ups cannot be read."""
    return discord.Intents(guilds=True, guild_messages=True, message_content=True)


class NewsTree(app_commands.CommandTree):
    """The command tree; its error handler is where command failures reach users."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_to_interaction(interaction, error)


class NewsBot(discord.Client):
    """newsbot on Discord: slash commands and channel questions over one shared ``Engine``."""

    def __init__(self, settings: AppSettings, engine) -> None:
        # The bot has no voice features, so discord.py's warnings about voice libraries are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(intents=needed_intents(), allowed_mentions=no_pings())
        self.settings = settings
        self.engine = engine
        self.tree = NewsTree(self)
        for command in build_commands():
            self.tree.add_command(command)
        self.cooldown = Cooldown(settings.cooldown_questions, settings.cooldown_seconds)
        self.latencies = LatencyTracker()
        self.reloads = Reloader(engine)
        self.threads = AnsweredThreads()

    async def setup_hook(self) -> None:
        """After login, before the gateway: make Discord know the slash commands."""
        await sync_commands(self.tree, self.settings.guild_ids)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s (%s) in %d servers", self.user, self.user.id, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        await channel.on_message(self, message)

    async def answer(self, question: str, history: Sequence[str]) -> Answer:
        """The engine's answer, computed off the event loop; its latency is kept for /status."""
        started = time.perf_counter()
        result = await asyncio.to_thread(self.engine.answer, question, tuple(history))
        self.latencies.record(time.perf_counter() - started)
        return result


async def sync_commands(tree: app_commands.CommandTree, guild_ids: Sequence[int]) -> None:
    """Register the commands with Discord: in each of ``guild_ids`` (visible at once), or
    globally when none are given (Discord may take up to an hour to show changes). A failure is
    logged and the bot keeps running: channel questions need no commands."""
    targets = [discord.Object(id=gid) for gid in guild_ids] or [None]
    for guild in targets:
        if guild is not None:
            tree.copy_global_to(guild=guild)
        try:
            synced = await tree.sync(guild=guild)
        except discord.Forbidden:
            log.error("Discord refused to register slash commands in server %s: invite the bot with the "
                      "applications.commands scope, and check NEWSBOT_GUILD_IDS.", guild.id if guild else "(global)")
        except discord.HTTPException as exc:
            log.error("could not register slash commands (%s %s): %s", exc.status, exc.code, exc.text)
        else:
            log.info("registered %d slash commands %s", len(synced),
                     f"in server {guild.id}" if guild else "globally")
