"""Sending rendered replies: to an interaction (original response, then follow-ups) or as
replies to a channel message. Every message goes out with ``no_pings()``.

discord.py already waits out 429s and retries 500, 502 and 504 (five tries). A 503 (or another
5xx) it raises at once; every send here tries that again twice after a short pause before
giving up, so a blip at Discord's edge does not cost the user their answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import discord

from .replies import no_pings

log = logging.getLogger("newsbot.discord")

T = TypeVar("T")

# Pauses before the second and third try of a send that got a server error discord.py does not
# retry itself. Short: an interaction's first response must come within 3 seconds.
RETRY_DELAYS = (0.5, 1.0)
_RETRIED_BY_DISCORD_PY = {500, 502, 504, 524}


@dataclass(frozen=True)
class Outgoing:
    """One Discord message: text, embeds, or both."""

    content: str | None = None
    embeds: tuple[discord.Embed, ...] = ()


def texts(chunks: Sequence[str]) -> list[Outgoing]:
    return [Outgoing(content=chunk) for chunk in chunks]


def embed_groups(groups: Sequence[Sequence[discord.Embed]]) -> list[Outgoing]:
    return [Outgoing(embeds=tuple(group)) for group in groups]


async def deliver(what: str, send: Callable[..., Awaitable[T]], /, *args, **kwargs) -> T:
    """``await send(*args, **kwargs)``; after a server error that discord.py did not already
    retry, try again (``RETRY_DELAYS``), then let the last error propagate. ``what`` names the
    send in the log."""
    for delay in (*RETRY_DELAYS, None):
        try:
            return await send(*args, **kwargs)
        except discord.DiscordServerError as exc:
            if delay is None or exc.status in _RETRIED_BY_DISCORD_PY:
                raise
            log.warning(
                "%s: Discord answered %s %s; trying again in %.1f s", what, exc.status, exc.response.reason, delay
            )
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")


async def respond(
    interaction: discord.Interaction,
    messages: Sequence[Outgoing],
    *,
    ephemeral: bool = False,
    view: discord.ui.View | None = None,
) -> None:
    """Deliver ``messages`` for ``interaction``: the first as (or in place of the "thinking…"
    of) the original response, the rest as follow-ups. ``view`` goes on the first message."""
    first, rest = messages[0], messages[1:]
    extra = {"view": view} if view is not None else {}
    if interaction.response.is_done():
        await deliver(
            "editing the response",
            interaction.edit_original_response,
            content=first.content,
            embeds=list(first.embeds),
            allowed_mentions=no_pings(),
            **extra,
        )
    else:
        await deliver(
            "responding",
            interaction.response.send_message,
            content=first.content,
            embeds=list(first.embeds),
            ephemeral=ephemeral,
            allowed_mentions=no_pings(),
            **extra,
        )
    for message in rest:
        await deliver(
            "sending a follow-up",
            interaction.followup.send,
            content=message.content,
            embeds=list(message.embeds),
            ephemeral=ephemeral,
            allowed_mentions=no_pings(),
        )


async def tell(interaction: discord.Interaction, text: str) -> None:
    """A short private notice (a refusal, an error): replaces the "thinking…" message when the
    interaction was deferred, else answers it ephemerally."""
    if interaction.response.is_done():
        await deliver(
            "editing the response",
            interaction.edit_original_response,
            content=text,
            embeds=[],
            view=None,
            allowed_mentions=no_pings(),
        )
    else:
        await deliver(
            "responding", interaction.response.send_message, text, ephemeral=True, allowed_mentions=no_pings()
        )


async def reply(message: discord.Message, messages: Sequence[Outgoing], *, view: discord.ui.View | None = None) -> None:
    """Send ``messages`` as replies to ``message`` (each one, so that a reply to any part of a
    long answer leads back to the question). The author is not pinged. ``view`` goes on the
    last message."""
    reference = message.to_reference(fail_if_not_exists=False)
    for n, out in enumerate(messages, 1):
        extra = {"view": view} if view is not None and n == len(messages) else {}
        await deliver(
            "replying",
            message.channel.send,
            content=out.content,
            embeds=list(out.embeds),
            reference=reference,
            mention_author=False,
            allowed_mentions=no_pings(),
            **extra,
        )
