"""The slash commands. Each one checks what it must (cooldown, admin), defers at once (Discord
allows 3 seconds), runs the engine off the event loop, renders and sends. Errors propagate to
the tree's error handler (``bot.errors``)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Optional

import discord
from discord import app_commands

from .channel import slow_down
from .errors import report_to_interaction
from .guards import NOT_ADMIN, SERVER_ONLY, admin_refusal
from .limits import CHOICE, clip
from .progress import ThrottledProgress
from .replies import (answer_embeds, articles_page, md, no_pings, progress_text, reload_text, status_embed,
                      summary_embeds)
from .send import embed_groups, respond, tell, texts

if TYPE_CHECKING:
    from .client import NewsBot

log = logging.getLogger("newsbot.discord")

PER_PAGE = 10
__all__ = ["NOT_ADMIN", "SERVER_ONLY", "build_commands"]


def build_commands() -> list[app_commands.Command]:
    """Fresh command objects for one bot's tree."""
    return [
        app_commands.Command(name="ask", description="Ask a question about the news articles.", callback=ask),
        app_commands.Command(name="summary", description="Summarise an article, or a topic across articles.",
                             callback=summary),
        app_commands.Command(name="articles", description="List the indexed articles.", callback=articles),
        app_commands.Command(name="status", description="Index size, model, last reload and latency.",
                             callback=status),
        app_commands.Command(name="reload", description="Admins: re-read the articles folder and re-index it.",
                             callback=reload),
    ]


async def _allowed_now(interaction: discord.Interaction[NewsBot]) -> bool:
    wait = interaction.client.cooldown.try_use(interaction.user.id)
    if wait:
        await interaction.response.send_message(slow_down(wait), ephemeral=True, allowed_mentions=no_pings())
    return not wait


@app_commands.describe(question="Your question", private="Only you see the answer")
async def ask(interaction: discord.Interaction[NewsBot], question: app_commands.Range[str, 1, 2000],
              private: bool = False) -> None:
    if not await _allowed_now(interaction):
        return
    await interaction.response.defer(ephemeral=private, thinking=True)
    answer = await interaction.client.answer(question, ())
    await respond(interaction, embed_groups(answer_embeds(answer)), ephemeral=private)


async def article_choices(interaction: discord.Interaction[NewsBot], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete for /summary article: titles matching what was typed (newest first when
    nothing was). Must answer within 3 seconds and must not fail, so errors give no choices."""
    try:
        found = await asyncio.to_thread(interaction.client.engine.suggest_articles, current, 25)
    except Exception:
        log.warning("autocomplete for %r failed", current, exc_info=True)
        return []
    return [app_commands.Choice(name=clip(f"{a.title} ({a.published})" if a.published else a.title, CHOICE),
                                value=a.id if len(a.id) <= CHOICE else clip(a.title, CHOICE))
            for a in found[:25]]


@app_commands.describe(article="An article's title (or id)", topic="A topic to digest across articles",
                       private="Only you see the summary")
@app_commands.autocomplete(article=article_choices)
async def summary(interaction: discord.Interaction[NewsBot], article: Optional[str] = None,
                  topic: Optional[str] = None, private: bool = False) -> None:
    if bool(article and article.strip()) == bool(topic and topic.strip()):
        await tell(interaction, "Give either an article or a topic, one of the two.")
        return
    if not await _allowed_now(interaction):
        return
    await interaction.response.defer(ephemeral=private, thinking=True)
    engine = interaction.client.engine
    if article and article.strip():
        result = await asyncio.to_thread(engine.summarize, article)
    else:
        result = await asyncio.to_thread(engine.summarize_topic, topic)
    await respond(interaction, embed_groups(summary_embeds(result)), ephemeral=private)


class ArticlePages(discord.ui.View):
    """Previous/next buttons under an /articles list."""

    def __init__(self, items: list, query: str | None) -> None:
        super().__init__(timeout=600)
        self.items, self.query, self.page = items, query, 0
        self.pages = max(1, -(-len(items) // PER_PAGE))
        self._sync_buttons()

    def embed(self) -> discord.Embed:
        return articles_page(self.items, self.page, PER_PAGE, self.query)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self, allowed_mentions=no_pings())

    async def on_error(self, interaction: discord.Interaction, error: Exception, _item: discord.ui.Item) -> None:
        await report_to_interaction(interaction, error)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        await self._turn(interaction, +1)


@app_commands.describe(query="Only articles whose title matches this")
async def articles(interaction: discord.Interaction[NewsBot], query: Optional[str] = None) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    engine = interaction.client.engine
    if query and query.strip():
        items = await asyncio.to_thread(engine.suggest_articles, query, 1000)
    else:
        items = await asyncio.to_thread(engine.articles)
    view = ArticlePages(items, query)
    await respond(interaction, embed_groups([[view.embed()]]), view=view if view.pages > 1 else None)


async def status(interaction: discord.Interaction[NewsBot]) -> None:
    await interaction.response.defer(ephemeral=True, thinking=True)
    bot = interaction.client
    index = await asyncio.to_thread(bot.engine.status)
    embed = status_embed(index, bot.latencies.summary(), bot.reloads.last, bot.reloads.running_by, bot.latency)
    await respond(interaction, embed_groups([[embed]]))


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
async def reload(interaction: discord.Interaction[NewsBot]) -> None:
    bot = interaction.client
    # Checked here on every call: default_permissions only hides the command, a server admin can
    # change that, and guild_only is not enforced by discord.py when an interaction arrives anyway.
    refusal = admin_refusal(interaction, bot.settings.admin_role_ids)
    if refusal is not None:
        log.info("/reload refused for %s (%s) in %s", interaction.user, interaction.user.id,
                 f"server {interaction.guild_id}" if interaction.guild_id else "a direct message")
        await tell(interaction, refusal)
        return
    who = interaction.user.display_name
    if not bot.reloads.claim(who):
        await tell(interaction, f"A reload started by {md(bot.reloads.running_by)} is still running; "
                                "its report will follow when it finishes.")
        return
    async def show(done: int, total: int) -> None:
        await interaction.edit_original_response(content=progress_text(done, total), allowed_mentions=no_pings())

    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await show(0, 0)
        progress = ThrottledProgress(asyncio.get_running_loop(), show)
        try:
            report, titles = await bot.reloads.run(progress)
        finally:
            await progress.drain()
        await respond(interaction, texts(reload_text(report, titles)), ephemeral=True)
    finally:
        bot.reloads.release()
