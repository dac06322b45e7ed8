"""Questions asked in channels: mentions, messages in NEWSBOT_CHANNELS, and follow-ups."""

from __future__ import annotations

import discord

from . import conversation as conv
from .errors import report_to_message
from .guards import slow_down
from .replies import answer_text, no_pings
from .send import reply, texts
from .state import BotState

HELP = "Ask me about the news articles, for example: “when is the meeting?” Mention me with the question, or use /ask."


class ChannelQuestions:
    """Answers the channel messages that are questions for the bot.

    ``client`` is passed to each call only for what discord.py keeps there: the bot's own user
    and access to messages (reply chains, threads); everything else comes from ``state``.
    """

    def __init__(self, state: BotState) -> None:
        self.state = state

    async def on_message(self, client: discord.Client, message: discord.Message) -> None:
        """Answer ``message`` if it is a question for the bot; a failure becomes a short reply."""
        if client.user is None or message.guild is None or not conv.from_a_person(message):
            return
        try:
            trigger = await self.classify(client, message)
            if trigger is not None:
                await self.answer_message(client, message, trigger)
        except Exception as exc:  # the one catch-all for channel questions; details go to the log
            await report_to_message(message, exc)

    async def classify(self, client: discord.Client, message: discord.Message) -> conv.Trigger | None:
        """Why ``message`` is for the bot, or None when it is not."""
        if message.reference is not None:
            parent = await conv.referenced(client, message)
            if parent is not None and parent.author.id == client.user.id:
                return conv.Trigger("reply", parent)
        if message.channel.id in self.state.threads:
            return conv.Trigger("thread")
        if conv.mentions_me(message, client.user):
            return conv.Trigger("mention")
        channels = self.state.settings.channels
        if message.channel.id in channels or getattr(message.channel, "parent_id", None) in channels:
            return conv.Trigger("channel")
        return None

    async def answer_message(self, client: discord.Client, message: discord.Message, trigger: conv.Trigger) -> None:
        """Answer with a typing indicator while the engine works, as a reply to the question."""
        question = conv.question_text(message, client.user)
        if not question:
            if trigger.kind == "mention":
                await message.channel.send(
                    HELP,
                    reference=message.to_reference(fail_if_not_exists=False),
                    mention_author=False,
                    allowed_mentions=no_pings(),
                )
            return
        if not await self.within_cooldown(message):
            return
        history = await _history(client, message, trigger)
        async with message.channel.typing():
            answer = await self.state.answer(question, history)
        await reply(message, texts(answer_text(answer)))
        if isinstance(message.channel, discord.Thread):
            self.state.threads.add(message.channel.id)

    async def within_cooldown(self, message: discord.Message) -> bool:
        """Record a question; when the user is over the limit, say so once and return False."""
        cooldown = self.state.cooldown
        wait = cooldown.try_use(message.author.id)
        if not wait:
            return True
        if cooldown.should_warn(message.author.id):
            await message.channel.send(
                slow_down(wait),
                reference=message.to_reference(fail_if_not_exists=False),
                mention_author=False,
                allowed_mentions=no_pings(),
            )
        return False


async def _history(client: discord.Client, message: discord.Message, trigger: conv.Trigger) -> tuple[str, ...]:
    if trigger.kind == "reply":
        return await conv.reply_chain_history(client, trigger.answer)
    if trigger.kind == "thread":
        return await conv.thread_history(client, message)
    return ()
