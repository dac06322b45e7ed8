"""Sending rendered replies: to an interaction (original response, then follow-ups) or as
replies to a channel message. Every message goes out with ``no_pings()``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import discord

from .replies import no_pings


@dataclass(frozen=True)
class Outgoing:
    """One Discord message: text, embeds, or both."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()


def texts(chunks: Sequence[str]) -> list[Outgoing]:
    return [Outgoing(content=chunk) for chunk in chunks]


def embed_groups(groups: Sequence[Sequence[discord.Embed]]) -> list[Outgoing]:
    return [Outgoing(embeds=tuple(group)) for group in groups]


async def respond(interaction: discord.Interaction, messages: Sequence[Outgoing], *,
                  ephemeral: bool = False, view: discord.ui.View | None = None) -> None:
    """Deliver ``messages`` for ``interaction``: the first as (or in place of the "thinking…"
    of) the original response, the rest as follow-ups. ``view`` goes on the first message."""
    first, rest = messages[0], messages[1:]
    extra = {"view": view} if view is not None else {}
    if interaction.response.is_done():
        await interaction.edit_original_response(content=first.content, embeds=list(first.embeds),
                                                 allowed_mentions=no_pings(), **extra)
    else:
        await interaction.response.send_message(content=first.content, embeds=list(first.embeds),
                                                ephemeral=ephemeral, allowed_mentions=no_pings(), **extra)
    for message in rest:
        await interaction.followup.send(content=message.content, embeds=list(message.embeds),
                                        ephemeral=ephemeral, allowed_mentions=no_pings())


async def tell(interaction: discord.Interaction, text: str) -> None:
    """A short private notice (a refusal, an error): replaces the "thinking…" message when the
    interaction was deferred, else answers it ephemerally."""
    if interaction.response.is_done():
        await interaction.edit_original_response(content=text, embeds=[], view=None, allowed_mentions=no_pings())
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=no_pings())


async def reply(message: discord.Message, messages: Sequence[Outgoing]) -> None:
    """Send ``messages`` as replies to ``message`` (each one, so that a reply to any part of a
    long answer leads back to the question). The author is not pinged."""
    reference = message.to_reference(fail_if_not_exists=False)
    for out in messages:
        await message.channel.send(content=out.content, embeds=list(out.embeds), reference=reference,
                                   mention_author=False, allowed_mentions=no_pings())
