"""Discord's size limits, and the helpers that keep every message within them.

Discord rejects a whole message (HTTP 400) when any limit is exceeded, so nothing may be left to
chance: text is split at the most natural boundary that fits, and embeds are trimmed field by
field, then grouped so that no message carries more than it allows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import discord

CONTENT = 2000  # message content
EMBED_TITLE = 256
EMBED_DESCRIPTION = 4096
EMBED_FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBED_TOTAL = 6000  # title + description + fields + footer + author, over all embeds of a message
EMBEDS_PER_MESSAGE = 10
CHOICE = 100  # an autocomplete choice's name and value
ELLIPSIS = "…"

# Where a long text may be cut, best first: between paragraphs, lines, sentences, words.
# The cut is made at the group "gap", so closing quotes stay with their sentence.
_BOUNDARIES = (
    re.compile(r"(?P<gap>\n\s*\n)"),
    re.compile(r"(?P<gap>\n)"),
    re.compile(r"[.!?…][\"'”’)\]]*(?P<gap>\s+)"),
    re.compile(r"(?P<gap>\s+)"),
)


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending with an ellipsis when cut."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(ELLIPSIS))].rstrip() + ELLIPSIS


def split_text(text: str, limit: int = CONTENT) -> list[str]:
    """``text`` in pieces of at most ``limit`` characters, cut at a paragraph, line, sentence or
    word boundary (in that order of preference), else hard at the limit. No piece is blank, and
    joining them gives back the text up to whitespace at the cuts."""
    if limit < 1:
        raise ValueError("limit must be positive")
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut, resume = _cut_point(rest, limit)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[resume:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _cut_point(text: str, limit: int) -> tuple[int, int]:
    """Where to end this piece and where the next one starts."""
    window = text[: limit + 1]  # a boundary right after the limit still leaves a fitting piece
    for boundary in _BOUNDARIES:
        # The last boundary in the window, but not one so early that pieces become tiny.
        gaps = [m.span("gap") for m in boundary.finditer(window) if limit // 4 < m.start("gap") <= limit]
        if gaps:
            return gaps[-1]
    return limit, limit


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """``embed`` trimmed to Discord's limits: each part clipped, at most 25 fields, and fields
    then the description shortened until the whole is within 6000 characters."""
    if embed.title:
        embed.title = clip(embed.title, EMBED_TITLE)
    if embed.description:
        embed.description = clip(embed.description, EMBED_DESCRIPTION)
    if embed.footer.text:
        embed.set_footer(text=clip(embed.footer.text, FOOTER), icon_url=embed.footer.icon_url)
    if embed.author.name:
        embed.set_author(name=clip(embed.author.name, AUTHOR), url=embed.author.url, icon_url=embed.author.icon_url)
    fields = [
        (clip(f.name or "", FIELD_NAME) or "\u200b", clip(f.value or "", FIELD_VALUE) or "\u200b", f.inline)
        for f in embed.fields
    ][:EMBED_FIELDS]
    embed.clear_fields()
    for name, value, inline in fields:
        embed.add_field(name=name, value=value, inline=inline)
    while len(embed) > EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > EMBED_TOTAL and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - (len(embed) - EMBED_TOTAL)))
    return embed


def embeds_for(
    body: str,
    *,
    title: str | None = None,
    url: str | None = None,
    colour: discord.Colour | None = None,
    fields: Sequence[tuple[str, str]] = (),
    footer: str | None = None,
) -> list[discord.Embed]:
    """Embeds carrying ``body`` in full: the first has the title, the body continues over as
    many embeds as its length needs, and the last has the fields and the footer."""
    parts = split_text(body, EMBED_DESCRIPTION) or [""]
    embeds = [discord.Embed(description=part or None, colour=colour) for part in parts]
    embeds[0].title = title
    embeds[0].url = url
    for name, value in fields:
        embeds[-1].add_field(name=name, value=value, inline=False)
    if footer:
        embeds[-1].set_footer(text=footer)
    return [fit_embed(embed) for embed in embeds]


def group_embeds(embeds: Iterable[discord.Embed]) -> list[list[discord.Embed]]:
    """``embeds`` grouped in order into messages of at most 10 embeds and 6000 characters."""
    groups: list[list[discord.Embed]] = []
    size = 0
    for embed in embeds:
        if not groups or len(groups[-1]) == EMBEDS_PER_MESSAGE or size + len(embed) > EMBED_TOTAL:
            groups.append([])
            size = 0
        groups[-1].append(embed)
        size += len(embed)
    return groups
