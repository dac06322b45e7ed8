"""The /articles list's pages: an embed per page and previous/next buttons under it."""

from __future__ import annotations

import discord

from .errors import report_to_interaction
from .replies import articles_page, no_pings

PER_PAGE = 10


class ArticlePages(discord.ui.View):
    """Previous/next buttons under an /articles list."""

    def __init__(self, items: list, query: str | None) -> None:
        super().__init__(timeout=600)
        self.items, self.query, self.page = items, query, 0
        self.pages = max(1, -(-len(items) // PER_PAGE))
        self._sync_buttons()

    def embed(self) -> discord.Embed:
        """The current page."""
        return articles_page(self.items, self.page, PER_PAGE, self.query)

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page == 0
        self.next.disabled = self.page >= self.pages - 1

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = min(max(self.page + step, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self, allowed_mentions=no_pings())

    async def on_error(self, interaction: discord.Interaction, error: Exception, _item: discord.ui.Item) -> None:
        """Button failures take the same path as command failures."""
        await report_to_interaction(interaction, error)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        """One page back."""
        await self._turn(interaction, -1)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _button: discord.ui.Button) -> None:
        """One page on."""
        await self._turn(interaction, +1)
