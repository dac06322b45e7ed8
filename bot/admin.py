"""Admins change the articles from Discord: /add (an attached file, or pasted text and a title)
and /remove, each followed by the usual incremental reload with its progress and report.

Both are checked at run time like /reload (admins only, never from a direct message) and take
the reload slot, so they never run at the same time as a /reload or each other.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from embeddings.uploads import UploadError, add_upload, remove_article, text_upload

from .guards import admin_refusal
from .limits import CHOICE, clip
from .progress import ThrottledProgress
from .replies import md, no_pings, progress_text, reload_text
from .send import respond, tell, texts
from .state import BotState

log = logging.getLogger("newsbot.discord")


class AdminCommands(commands.Cog):
    """/add and /remove over ``state``."""

    def __init__(self, state: BotState) -> None:
        self.state = state

    @app_commands.command(name="add", description="Admins: add an article (attach a file, or paste a title and text).")
    @app_commands.describe(
        file="A .txt, .md, .html, .json or .jsonl file",
        title="The headline, with pasted text",
        text="The article's text, with a title",
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def add(
        self,
        interaction: discord.Interaction,
        file: discord.Attachment | None = None,
        title: app_commands.Range[str, 1, 300] | None = None,
        text: app_commands.Range[str, 1, 6000] | None = None,
    ) -> None:
        """Check the article as the corpus reader would, store it in the seeds folder, re-index."""
        if not await self._admin_with_slot(interaction, "/add"):
            return
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            name, data = await self._upload(file, title, text)
            settings = self.state.settings
            known = {a.id for a in await self.state.call(self.state.engine.articles)}
            upload = await asyncio.to_thread(
                add_upload,
                settings.seeds_dir,
                name,
                data,
                max_file_bytes=int(settings.max_file_mb * 2**20),
                max_article_chars=settings.max_article_chars,
                known_ids=known,
            )
            log.warning("/add by %s (%s): %s", interaction.user, interaction.user.id, upload.path)
            await self._reload(interaction, f"Stored as `{md(upload.path)}`.")
        finally:
            self.state.reloads.release()

    async def _upload(self, file: discord.Attachment | None, title: str | None, text: str | None) -> tuple[str, bytes]:
        if file is None:
            return text_upload(title or "", text or "")
        limit = int(self.state.settings.max_file_mb * 2**20)
        if file.size > limit:  # refused before it is downloaded
            raise UploadError(
                f"{file.filename} was not added: larger than the {self.state.settings.max_file_mb:g} MB limit."
            )
        return file.filename, await file.read()

    @app_commands.command(name="remove", description="Admins: remove an article and re-index.")
    @app_commands.describe(article="The article's title (or id)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def remove(self, interaction: discord.Interaction, article: str) -> None:
        """Delete the article's file from the seeds folder, then re-index."""
        if not await self._admin_with_slot(interaction, "/remove"):
            return
        try:
            await interaction.response.defer(ephemeral=True, thinking=True)
            engine = self.state.engine
            found = await self.state.call(engine.find_article, article)
            indexed = await self.state.call(engine.articles)
            rel = await asyncio.to_thread(remove_article, self.state.settings.seeds_dir, found, indexed)
            log.warning("/remove by %s (%s): %s", interaction.user, interaction.user.id, rel)
            await self._reload(interaction, f"Removed `{md(rel)}`.")
        finally:
            self.state.reloads.release()

    @remove.autocomplete("article")
    async def article_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Titles matching what was typed; never fails (errors give no choices)."""
        try:
            found = await asyncio.to_thread(self.state.engine.suggest_articles, current, 25)
        except Exception:
            log.warning("autocomplete for %r failed", current, exc_info=True)
            return []
        return [
            app_commands.Choice(
                name=clip(a.title, CHOICE), value=a.id if len(a.id) <= CHOICE else clip(a.title, CHOICE)
            )
            for a in found[:25]
        ]

    async def _admin_with_slot(self, interaction: discord.Interaction, name: str) -> bool:
        """Refuse non-admins and DMs, and a second writer; True with the reload slot taken."""
        refusal = admin_refusal(interaction, self.state.settings.admin_role_ids)
        if refusal is not None:
            log.info("%s refused for %s (%s)", name, interaction.user, interaction.user.id)
            await tell(interaction, refusal.replace("reload the articles", "change the articles"))
            return False
        reloads = self.state.reloads
        if not reloads.claim(interaction.user.display_name):
            await tell(
                interaction, f"A reload started by {md(reloads.running_by)} is still running; try again after it."
            )
            return False
        return True

    async def _reload(self, interaction: discord.Interaction, done: str) -> None:
        await reload_with_progress(self.state, interaction, done)


async def reload_with_progress(state: BotState, interaction: discord.Interaction, before: str = "") -> None:
    """Re-index (the reload slot must be held, the interaction deferred), editing the response
    with the progress, then the report (``before`` first)."""

    async def show(done: int, total: int) -> None:
        text = f"{before}\n{progress_text(done, total)}" if before else progress_text(done, total)
        await interaction.edit_original_response(content=text, allowed_mentions=no_pings())

    await show(0, 0)
    progress = ThrottledProgress(asyncio.get_running_loop(), show)
    try:
        report, titles = await state.reloads.run(progress)
    finally:
        await progress.drain()
    await respond(
        interaction,
        texts([before, *reload_text(report, titles)] if before else reload_text(report, titles)),
        ephemeral=True,
    )
