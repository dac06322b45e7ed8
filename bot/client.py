"""The Discord client: intents, the command tree (its one error handler) and its sync, and
where events go: slash commands to the ``NewsCommands`` cog, messages to ``ChannelQuestions``.

The client only wires: it gets the shared ``BotState`` from the composition root (``bot.serve``)
and hands it to both at construction. Neither imports this module.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from .admin import AdminCommands
from .channel import ChannelQuestions
from .commands import NewsCommands
from .errors import report_to_interaction
from .feedback import AnswerControls
from .replies import no_pings
from .state import BotState
from .watch import SeedsWatcher

log = logging.getLogger("newsbot.discord")


def needed_intents() -> discord.Intents:
    """Only what the bot uses: servers and their channels, server messages, and the (privileged)
    message content, without which channel questions and follow-ups cannot be read."""
    return discord.Intents(guilds=True, guild_messages=True, message_content=True)


class NewsTree(app_commands.CommandTree):
    """The command tree; its error handler is where command failures reach users."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report_to_interaction(interaction, error)


class NewsBot(commands.Bot):
    """newsbot on Discord: slash commands and channel questions over one shared ``BotState``.

    A ``commands.Bot`` for its cogs only: it has no prefix commands (``on_message`` below never
    calls ``process_commands``), but discord.py requires a prefix all the same.
    """

    def __init__(self, state: BotState, **options: Any) -> None:
        # The bot has no voice features, so discord.py's warnings about voice libraries are noise.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            tree_cls=NewsTree,
            intents=needed_intents(),
            allowed_mentions=no_pings(),
            **options,
        )
        self._guild_ids = state.settings.guild_ids
        # Of several replicas, only the one with shard 0 registers the commands (the same ones).
        self._syncs_commands = not state.settings.shard_ids or 0 in state.settings.shard_ids
        self._controls = AnswerControls(state)  # the buttons under answers
        self._slash_commands = NewsCommands(state, self._controls)
        self._admin_commands = AdminCommands(state)
        self._channel_questions = ChannelQuestions(state, self._controls)
        self._startup = state.startup
        self.watcher = SeedsWatcher(state) if state.settings.watch else None
        self._background: set[asyncio.Task] = set()

    async def setup_hook(self) -> None:
        """After login, before the gateway: add the commands and make Discord know them."""
        await self.add_cog(self._slash_commands)
        await self.add_cog(self._admin_commands)
        self.add_dynamic_items(*self._controls.items)  # answers' buttons work after a restart too
        if self._syncs_commands:
            await sync_commands(self.tree, self._guild_ids)
        self._in_background(self._build_index_when_connected())

    async def _build_index_when_connected(self) -> None:
        await self.wait_until_ready()
        await self._startup.build()
        if self.watcher is not None:  # after the start-up build: one writer at a time
            await self.watcher.run()

    async def close(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
        await super().close()

    def _in_background(self, work) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)  # asyncio keeps only weak references to tasks
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s (%s) in %d servers", self.user, self.user.id, len(self.guilds))

    async def on_message(self, message: discord.Message) -> None:
        await self._channel_questions.on_message(self, message)


class ShardedNewsBot(NewsBot, commands.AutoShardedBot):
    """The same bot on discord.py's ``AutoShardedBot``: this process runs the shards
    ``NEWSBOT_SHARD_IDS`` of ``NEWSBOT_SHARD_COUNT`` (all of them when no ids are given), so
    that several processes, on several machines, share one bot."""

    def __init__(self, state: BotState) -> None:
        settings = state.settings
        super().__init__(state, shard_count=settings.shard_count, shard_ids=list(settings.shard_ids) or None)

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s, shards %s of %s", self.user, sorted(self.shards), self.shard_count)


def make_bot(state: BotState) -> NewsBot:
    """The sharded bot when ``NEWSBOT_SHARD_COUNT`` is set, else the plain one."""
    return ShardedNewsBot(state) if state.settings.shard_count is not None else NewsBot(state)


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("background work stopped on an error", exc_info=task.exception())


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
            log.error(
                "Discord refused to register slash commands in server %s: invite the bot with the "
                "applications.commands scope, and check NEWSBOT_GUILD_IDS.",
                guild.id if guild else "(global)",
            )
        except discord.HTTPException as exc:
            log.error("could not register slash commands (%s %s): %s", exc.status, exc.code, exc.text)
        else:
            log.info("registered %d slash commands %s", len(synced), f"in server {guild.id}" if guild else "globally")
