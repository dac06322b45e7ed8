"""Conversations in channels: which messages are questions for the bot, and the earlier
questions (the history) that a follow-up is read against.

A follow-up is a reply to one of the bot's answers, or any message in a thread the bot has
answered in. Its history is rebuilt from Discord itself (the reply chain, or the thread's
messages that the bot answered), so it needs no database and survives edits and deletions.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Literal

import discord

MAX_TURNS = 5  # earlier questions passed as history
THREAD_LOOKBACK = 50  # thread messages read to find them

TriggerKind = Literal["reply", "thread", "mention", "channel"]


@dataclass(frozen=True)
class Trigger:
    """Why a message is a question for the bot; ``answer`` is the bot message it replies to."""

    kind: TriggerKind
    answer: discord.Message | None = None


class AnsweredThreads:
    """The threads the bot has answered in, most recent last, at most ``size`` of them.

    Kept in memory on purpose: asking Discord about every thread message would cost a request
    per message. After a restart a thread needs one mention again.
    """

    def __init__(self, size: int = 5000) -> None:
        self._ids: OrderedDict[int, None] = OrderedDict()
        self._size = size

    def add(self, thread_id: int) -> None:
        self._ids[thread_id] = None
        self._ids.move_to_end(thread_id)
        while len(self._ids) > self._size:
            self._ids.popitem(last=False)

    def __contains__(self, thread_id: object) -> bool:
        return thread_id in self._ids


def from_a_person(message: discord.Message) -> bool:
    """False for bots (the bot itself included), webhooks and system messages."""
    return (
        not message.author.bot
        and message.webhook_id is None
        and message.type in (discord.MessageType.default, discord.MessageType.reply)
    )


# Mentions of people, roles and channels, and the @everyone / @here mass mentions.
_MENTION = re.compile(r"<(?:@[!&]?|#)\d+>|(?<![\w@])@(?:everyone|here)\b")


def question_text(message: discord.Message, me: discord.abc.User) -> str:
    """The message's words for the engine: mentions (of the bot, people, roles, channels,
    @everyone and @here) are markup, not part of the question, so they are left out."""
    return " ".join(_MENTION.sub(" ", message.content).split())


def mentions_me(message: discord.Message, me: discord.abc.User) -> bool:
    """Whether the bot was mentioned by name or by its managed role (not by @everyone)."""
    if me.id in message.raw_mentions:
        return True
    role = message.guild.self_role if message.guild else None
    return role is not None and role.id in message.raw_role_mentions


async def referenced(client: discord.Client, message: discord.Message) -> discord.Message | None:
    """The message ``message`` replies to, from the event, the cache or Discord; None when
    it is not a reply or the original is gone."""
    ref = message.reference
    if ref is None or ref.message_id is None:
        return None
    if isinstance(ref.resolved, discord.Message):
        return ref.resolved
    if isinstance(ref.resolved, discord.DeletedReferencedMessage):
        return None
    if ref.cached_message is not None:
        return ref.cached_message
    try:
        return await client.get_partial_messageable(ref.channel_id).fetch_message(ref.message_id)
    except (discord.NotFound, discord.Forbidden):
        return None


async def reply_chain_history(client: discord.Client, answer: discord.Message) -> tuple[str, ...]:
    """The questions of the reply chain that ends in the bot's ``answer``, oldest first: the
    question it answered, the answer that question replied to, and so on."""
    questions: list[str] = []
    current: discord.Message | None = answer
    for _ in range(2 * MAX_TURNS + 2):  # a bound, in case of a strange chain
        if current is None or len(questions) >= MAX_TURNS:
            break
        if current.author.id == client.user.id:
            current = await referenced(client, current)
            continue
        text = question_text(current, client.user)
        if text:
            questions.append(text)
        parent = await referenced(client, current)
        current = parent if parent is not None and parent.author.id == client.user.id else None
    return tuple(reversed(questions))


async def thread_history(client: discord.Client, message: discord.Message) -> tuple[str, ...]:
    """The thread's earlier questions that the bot answered, oldest first."""
    earlier = [m async for m in message.channel.history(limit=THREAD_LOOKBACK, before=message)]
    answered = {m.reference.message_id for m in earlier if m.author.id == client.user.id and m.reference is not None}
    questions = [question_text(m, client.user) for m in reversed(earlier) if m.id in answered]
    return tuple(q for q in questions if q)[-MAX_TURNS:]
