"""Questions asked in channels: mentions, messages in NEWSBOT_CHANNELS, and follow-ups."""

from __future__ import annotations

import discord

from embeddings.models import Answer, Summary
from embeddings.requests import Reply, parse_request

from . import conversation as conv
from .errors import report_to_message
from .feedback import AnswerControls
from .guards import slow_down
from .replies import answer_text, help_text, no_pings, summary_embeds, timeline_embeds
from .send import Outgoing, embed_groups, reply, texts
from .state import BotState


class ChannelQuestions:
    """Answers the channel messages that are questions for the bot.

    ``client`` is passed to each call only for what discord.py keeps there: the bot's own user
    and access to messages (reply chains, threads); everything else comes from ``state``.
    """

    def __init__(self, state: BotState, controls: AnswerControls) -> None:
        self.state = state
        self.controls = controls

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
        """Answer with a typing indicator while the engine works, as a reply to the question.
        A request for help (or a bare mention) gets the help, which costs no cooldown."""
        text = conv.question_text(message, client.user)
        request = parse_request(text)
        if request.kind == "help":
            if text or trigger.kind == "mention":  # not for a message with only an image in it
                await reply(message, texts([help_text()]))
            return
        follow_up = trigger.kind in ("reply", "thread")
        if not await self.within_cooldown(message, self.state.settings.cooldown_follow_up_cost if follow_up else 1.0):
            return
        history = await _history(client, message, trigger)
        async with message.channel.typing():
            result = await self.state.respond(request, history)
        view = None
        if isinstance(result, Answer):
            view = await self.controls.remember(result, message.guild.id, message.channel.id)
        await reply(message, rendered(result), view=view)
        if isinstance(message.channel, discord.Thread):
            self.state.threads.add(message.channel.id)

    async def within_cooldown(self, message: discord.Message, cost: float = 1.0) -> bool:
        """Record a question costing ``cost`` (a follow-up costs less than a new question); when
        the user is over the limit, say so once and return False."""
        cooldown = self.state.cooldown
        wait = cooldown.try_use(message.author.id, cost)
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


def rendered(result: Reply) -> list[Outgoing]:
    """A channel reply for what the engine gave: an answer as text, a summary or timeline as embeds."""
    if result is None:
        return texts([help_text()])
    if isinstance(result, Answer):
        return texts(answer_text(result))
    if isinstance(result, Summary):
        return embed_groups(summary_embeds(result))
    return embed_groups(timeline_embeds(result))


async def _history(client: discord.Client, message: discord.Message, trigger: conv.Trigger) -> tuple[str, ...]:
    if trigger.kind == "reply":
        earlier = await conv.reply_chain_history(client, trigger.answer)
    elif trigger.kind == "thread":
        earlier = await conv.thread_history(client, message)
    else:
        earlier = ()
    # Only questions carry a topic: "summarize the article" or "hi" are not one.
    return tuple(q for q in earlier if parse_request(q).kind == "question")
