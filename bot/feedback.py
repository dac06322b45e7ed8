"""The buttons under every answer: 👍 / 👎 (a 👎 may add a reason and the right answer in a
modal), "More passages" (the next passages, privately) and links to the cited articles.

The answer is kept in the feedback store when it is sent, and its buttons carry only its id in
their ``custom_id`` (``newsbot:vote:up:<id>``, ``newsbot:more:<id>``). discord.py's dynamic items
match clicks by that pattern, not by message, so the buttons keep working after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import discord

from embeddings.errors import NewsbotError
from embeddings.feedback import AnswerRecord, FeedbackStore, Vote, user_hash
from embeddings.models import Answer, Citation, Hit

from .errors import report_to_interaction
from .limits import clip
from .replies import INFO, citation_line, md, no_pings, safe_url
from .send import tell

log = logging.getLogger("newsbot.discord")

ID = r"(?P<id>[0-9a-f]{16})"
MORE_PASSAGES = 4  # shown by "More passages"
LINKS = 3  # link buttons to cited articles
THANKS = "Thanks, noted. It helps make the answers better."
GONE = "That answer is too old for feedback or more passages (it is no longer kept)."


def record_of(answer: Answer, guild_id: int | None, channel_id: int | None) -> AnswerRecord:
    """What the store keeps of an answer: the question, the answer as shown, the cited ids."""
    shown = [answer.short_answer or "", *answer.sentences] if answer.answered else ["(not found)"]
    return AnswerRecord(
        question=answer.question,
        answer="\n".join(s for s in shown if s),
        cited=tuple(c.article_id for c in answer.sources) if answer.answered else (),
        guild_id=guild_id,
        channel_id=channel_id,
        at=datetime.now(UTC),
        standalone_question=answer.standalone_question,
    )


class AnswerControls:
    """Makes the buttons under answers and handles their clicks, over the shared state."""

    def __init__(self, state) -> None:
        self.state = state
        self.items = _dynamic_items(self)

    async def remember(self, answer: Answer, guild_id: int | None, channel_id: int | None) -> discord.ui.View:
        """Keep ``answer`` for feedback (off the event loop) and return the view to send under it."""
        view = discord.ui.View(timeout=None)
        answer_id = await self._kept(answer, guild_id, channel_id)
        if answer_id is not None:
            vote, more = self.items
            view.add_item(vote("up", answer_id)).add_item(vote("down", answer_id)).add_item(more(answer_id))
        if answer.answered:
            for citation in answer.sources[:LINKS]:
                url = safe_url(citation.url)
                if url:
                    view.add_item(discord.ui.Button(label=clip(citation.title, 80), url=url, row=1))
        return view

    async def _kept(self, answer: Answer, guild_id: int | None, channel_id: int | None) -> str | None:
        # Feedback is an extra: when it cannot be stored, the answer still goes out, without votes.
        store = self.state.feedback
        if store is None:
            return None
        try:
            return await asyncio.to_thread(store.remember, record_of(answer, guild_id, channel_id))
        except Exception:
            log.warning("could not keep an answer for feedback", exc_info=True)
            return None

    def _store(self) -> FeedbackStore:
        if self.state.feedback is None:
            raise NewsbotError("Feedback is unavailable right now; the details are in the bot's log.")
        return self.state.feedback

    def _who(self, interaction: discord.Interaction) -> str:
        return user_hash(self.state.feedback_salt, interaction.user.id)

    async def vote(self, interaction: discord.Interaction, answer_id: str, vote: Vote) -> None:
        """Record the vote; a 👎 then opens the modal for a reason (optional)."""
        who = self._who(interaction)
        known = await asyncio.to_thread(self._store().vote, answer_id, who, vote, datetime.now(UTC))
        if not known:
            await tell(interaction, GONE)
        elif vote == "down":
            await interaction.response.send_modal(WhatWasWrong(self, answer_id, who))
        else:
            await tell(interaction, THANKS)

    async def explain(
        self, interaction: discord.Interaction, answer_id: str, who: str, reason: str, right: str
    ) -> None:
        await asyncio.to_thread(self._store().explain, answer_id, who, reason.strip(), right.strip())
        await tell(interaction, THANKS)

    async def more(self, interaction: discord.Interaction, answer_id: str) -> None:
        """The passages after the quoted one, for this user only."""
        record = await asyncio.to_thread(self._store().answer, answer_id)
        if record is None:
            await tell(interaction, GONE)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        hits = await self.state.call(self.state.engine.search, record.standalone_question, MORE_PASSAGES + 2)
        shown = [h for h in hits if not _quoted_in(h, record)][:MORE_PASSAGES]
        await interaction.edit_original_response(embed=passages_embed(shown), allowed_mentions=no_pings())


def _quoted_in(hit: Hit, record: AnswerRecord) -> bool:
    # The passage the answer quoted is the one the user has already read.
    return any(line and line in hit.chunk.text for line in record.answer.split("\n")[1:])


def passages_embed(hits: list[Hit]) -> discord.Embed:
    """More passages: each passage clipped, with its article."""
    embed = discord.Embed(title="More passages", colour=INFO)
    if not hits:
        embed.description = "No other passages match."
    for n, hit in enumerate(hits, 1):
        text = clip(md(hit.chunk.text), 700)
        embed.add_field(
            name=f"{n}. {clip(hit.article.title, 200)}",
            value=clip(f"{text}\n{citation_line(_cite(hit))}", 1024),
            inline=False,
        )
    return embed


def _cite(hit: Hit) -> Citation:
    return Citation.of(hit.article, hit.score)


class WhatWasWrong(discord.ui.Modal, title="What was wrong with the answer?"):
    """The 👎 modal: a reason and the right answer, both optional."""

    reason = discord.ui.TextInput(
        label="What was wrong (optional)", style=discord.TextStyle.paragraph, required=False, max_length=500
    )
    right = discord.ui.TextInput(label="The right answer, if you know it (optional)", required=False, max_length=300)

    def __init__(self, controls: AnswerControls, answer_id: str, who: str) -> None:
        super().__init__(timeout=900, custom_id=f"newsbot:why:{answer_id}")
        self._controls, self._answer_id, self._who = controls, answer_id, who

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await self._controls.explain(
            interaction, self._answer_id, self._who, self.reason.value or "", self.right.value or ""
        )

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:
        await report_to_interaction(interaction, error)


def _dynamic_items(controls: AnswerControls) -> tuple[type, type]:
    """The button classes, bound to ``controls`` (made per bot: no module-level state)."""

    class VoteButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"newsbot:vote:(?P<vote>up|down):{ID}"):
        def __init__(self, vote: Vote, answer_id: str) -> None:
            emoji = "👍" if vote == "up" else "👎"
            super().__init__(
                discord.ui.Button(
                    emoji=emoji, style=discord.ButtonStyle.secondary, custom_id=f"newsbot:vote:{vote}:{answer_id}"
                )
            )
            self.vote, self.answer_id = vote, answer_id

        @classmethod
        async def from_custom_id(cls, interaction, item, match, /):
            return cls(match["vote"], match["id"])

        async def callback(self, interaction: discord.Interaction) -> None:
            await _guarded(interaction, controls.vote(interaction, self.answer_id, self.vote))

    class MoreButton(discord.ui.DynamicItem[discord.ui.Button], template=rf"newsbot:more:{ID}"):
        def __init__(self, answer_id: str) -> None:
            super().__init__(
                discord.ui.Button(
                    label="More passages", style=discord.ButtonStyle.secondary, custom_id=f"newsbot:more:{answer_id}"
                )
            )
            self.answer_id = answer_id

        @classmethod
        async def from_custom_id(cls, interaction, item, match, /):
            return cls(match["id"])

        async def callback(self, interaction: discord.Interaction) -> None:
            await _guarded(interaction, controls.more(interaction, self.answer_id))

    return VoteButton, MoreButton


async def _guarded(interaction: discord.Interaction, work) -> None:
    # A click's failure takes the same path as a command's.
    try:
        await work
    except Exception as exc:
        await report_to_interaction(interaction, exc)
