"""Questions asked in channels: mentions, messages in NEWSBOT_CHANNELS, and follow-ups."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord

from . import conversation as conv
from .errors import report_to_message
from .replies import answer_text, no_pings
from .send import reply, texts

if TYPE_CHECKING:
    from .client import NewsBot

HELP = ("Ask me about the news articles, for example: “when is the meeting?” Mention me with the "
        "question, or use /ask.")


async def on_message(bot: NewsBot, message: discord.Message) -> None:
    """Answer ``message`` if it is a question for the bot; a failure becomes a short reply."""
    if bot.user is None or message.guild is None or not conv.from_a_person(message):
        return
    try:
        trigger = await classify(bot, message)
        if trigger is not None:
            await answer_message(bot, message, trigger)
    except Exception as exc:  # the one catch-all for channel questions; details go to the log
        await report_to_message(message, exc)


async def classify(bot: NewsBot, message: discord.Message) -> conv.Trigger | None:
    """Why ``message`` is for the bot, or None when it is not."""
    if message.reference is not None:
        parent = await conv.referenced(bot, message)
        if parent is not None and parent.author.id == bot.user.id:
            return conv.Trigger("reply", parent)
    if message.channel.id in bot.threads:
        return conv.Trigger("thread")
    if conv.mentions_me(message, bot.user):
        return conv.Trigger("mention")
    parent_id = getattr(message.channel, "parent_id", None)
    if message.channel.id in bot.settings.channels or parent_id in bot.settings.channels:
        return conv.Trigger("channel")
    return None


async def answer_message(bot: NewsBot, message: discord.Message, trigger: conv.Trigger) -> None:
    """Answer with a typing indicator while the engine works, as a reply to the question."""
    question = conv.question_text(message, bot.user)
    if not question:
        if trigger.kind == "mention":
            await message.channel.send(HELP, reference=message.to_reference(fail_if_not_exists=False),
                                       mention_author=False, allowed_mentions=no_pings())
        return
    if not await within_cooldown(bot, message):
        return
    history = await _history(bot, message, trigger)
    async with message.channel.typing():
        answer = await bot.answer(question, history)
    await reply(message, texts(answer_text(answer)))
    if isinstance(message.channel, discord.Thread):
        bot.threads.add(message.channel.id)


async def within_cooldown(bot: NewsBot, message: discord.Message) -> bool:
    """Record a question; when the user is over the limit, say so once and return False."""
    wait = bot.cooldown.try_use(message.author.id)
    if not wait:
        return True
    if bot.cooldown.should_warn(message.author.id):
        await message.channel.send(slow_down(wait), reference=message.to_reference(fail_if_not_exists=False),
                                   mention_author=False, allowed_mentions=no_pings())
    return False


def slow_down(wait: float) -> str:
    return f"Slow down a little, please: you can ask again in {max(1, round(wait))} s."


async def _history(bot: NewsBot, message: discord.Message, trigger: conv.Trigger) -> tuple[str, ...]:
    if trigger.kind == "reply":
        return await conv.reply_chain_history(bot, trigger.answer)
    if trigger.kind == "thread":
        return await conv.thread_history(bot, message)
    return ()
