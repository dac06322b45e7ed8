"""The slash commands, as one ``commands.Cog``: each command carries its name and description
in its decorator and gets the shared state (``BotState``) from the cog, never from the client.

Each one checks what it must (cooldown, admin), defers at once (Discord allows 3 seconds), runs
the engine off the event loop, renders and sends. Errors propagate to the tree's error handler
(``bot.errors``), the one place where they become what users see.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands

from embeddings.text import MAX_QUESTION_CHARS

from .admin import reload_with_progress
from .feedback import AnswerControls
from .guards import admin_refusal, slow_down
from .limits import CHOICE, clip
from .pages import ArticlePages
from .replies import (
    answer_embeds,
    md,
    no_pings,
    status_embed,
    summary_embeds,
    timeline_embeds,
)
from .send import embed_groups, respond, tell
from .state import BotState

log = logging.getLogger("newsbot.discord")

AUTOCOMPLETE_CHOICES = 25  # the most Discord shows


class NewsCommands(commands.Cog):
    """/ask, /summary, /timeline, /articles, /status and /reload over ``state``."""

    def __init__(self, state: BotState, controls: AnswerControls) -> None:
        self.state = state
        self.controls = controls

    async def _allowed_now(self, interaction: discord.Interaction) -> bool:
        wait = self.state.cooldown.try_use(interaction.user.id)
        if wait:
            await interaction.response.send_message(slow_down(wait), ephemeral=True, allowed_mentions=no_pings())
        return not wait

    @app_commands.command(name="ask", description="Ask a question about the news articles.")
    @app_commands.describe(question="Your question", private="Only you see the answer")
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
        private: bool = False,
    ) -> None:
        """Answer ``question`` from the articles."""
        if not await self._allowed_now(interaction):
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        answer = await self.state.answer(question, ())
        view = await self.controls.remember(answer, interaction.guild_id, interaction.channel_id)
        await respond(interaction, embed_groups(answer_embeds(answer)), ephemeral=private, view=view)

    @app_commands.command(name="summary", description="Summarise an article, or a topic across articles.")
    @app_commands.describe(
        article="An article's title (or id)",
        topic="A topic to digest across articles",
        private="Only you see the summary",
    )
    async def summary(
        self,
        interaction: discord.Interaction,
        article: str | None = None,
        topic: str | None = None,
        private: bool = False,
    ) -> None:
        """Summarise one article, or digest a topic across articles (exactly one of the two)."""
        if bool(article and article.strip()) == bool(topic and topic.strip()):
            await tell(interaction, "Give either an article or a topic, one of the two.")
            return
        if not await self._allowed_now(interaction):
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        engine = self.state.engine
        if article and article.strip():
            result = await self.state.call(engine.summarize, article)
        else:
            result = await self.state.call(engine.summarize_topic, topic)
        await respond(interaction, embed_groups(summary_embeds(result)), ephemeral=private)

    @app_commands.command(name="timeline", description="What the articles say about a topic, in date order.")
    @app_commands.describe(topic="What happened with…", private="Only you see the timeline")
    async def timeline(
        self,
        interaction: discord.Interaction,
        topic: app_commands.Range[str, 1, MAX_QUESTION_CHARS],
        private: bool = False,
    ) -> None:
        """One line per article about ``topic``, oldest first: date, headline, the sentence that matters."""
        if not await self._allowed_now(interaction):
            return
        await interaction.response.defer(ephemeral=private, thinking=True)
        result = await self.state.call(self.state.engine.timeline, topic)
        await respond(interaction, embed_groups(timeline_embeds(result)), ephemeral=private)

    @summary.autocomplete("article")
    async def article_choices(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        """Autocomplete for /summary article: titles matching what was typed (newest first when
        nothing was). Must answer within 3 seconds and must not fail, so errors give no choices."""
        try:
            found = await asyncio.to_thread(self.state.engine.suggest_articles, current, AUTOCOMPLETE_CHOICES)
        except Exception:
            log.warning("autocomplete for %r failed", current, exc_info=True)
            return []
        return [
            app_commands.Choice(
                name=clip(f"{a.title} ({a.published})" if a.published else a.title, CHOICE),
                value=a.id if len(a.id) <= CHOICE else clip(a.title, CHOICE),
            )
            for a in found[:AUTOCOMPLETE_CHOICES]
        ]

    @app_commands.command(name="articles", description="List the indexed articles.")
    @app_commands.describe(query="Only articles whose title matches this")
    async def articles(self, interaction: discord.Interaction, query: str | None = None) -> None:
        """List the indexed articles (those matching ``query``), a page at a time."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine = self.state.engine
        if query and query.strip():
            items = await self.state.call(engine.suggest_articles, query, 1000)
        else:
            items = await self.state.call(engine.articles)
        view = ArticlePages(items, query)
        await respond(interaction, embed_groups([[view.embed()]]), view=view if view.pages > 1 else None)

    @app_commands.command(name="status", description="Index size, model, last reload and latency.")
    async def status(self, interaction: discord.Interaction) -> None:
        """Describe the index and the running bot."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        state = self.state
        index = await state.call(state.engine.status)
        feedback = await asyncio.to_thread(state.feedback.counts) if state.feedback is not None else None
        embed = status_embed(
            index,
            state.latencies.summary(),
            state.reloads.last,
            state.reloads.running_by,
            interaction.client.latency,  # the gateway's heartbeat latency
            feedback,
        )
        await respond(interaction, embed_groups([[embed]]))

    @app_commands.command(name="reload", description="Admins: re-read the articles folder and re-index it.")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    async def reload(self, interaction: discord.Interaction) -> None:
        """Re-index the articles folder, for admins, one reload at a time."""
        # Checked here on every call: default_permissions only hides the command, a server admin can
        # change that, and guild_only is not enforced by discord.py when an interaction arrives anyway.
        refusal = admin_refusal(interaction, self.state.settings.admin_role_ids)
        if refusal is not None:
            log.info(
                "/reload refused for %s (%s) in %s",
                interaction.user,
                interaction.user.id,
                f"server {interaction.guild_id}" if interaction.guild_id else "a direct message",
            )
            await tell(interaction, refusal)
            return
        reloads = self.state.reloads
        if not reloads.claim(interaction.user.display_name):
            await tell(
                interaction,
                f"A reload started by {md(reloads.running_by)} is still running; "
                "its report will follow when it finishes.",
            )
            return
        try:
            await self._run_reload(interaction)
        finally:
            reloads.release()

    async def _run_reload(self, interaction: discord.Interaction) -> None:
        # Progress edits the "thinking…" response in place; the report follows once it is drained.
        await interaction.response.defer(ephemeral=True, thinking=True)
        await reload_with_progress(self.state, interaction)
