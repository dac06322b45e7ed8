"""Questions in channels end to end: mentions, listed channels, follow-ups, cooldowns."""

from __future__ import annotations

import asyncio

from .conftest import Discord, play

SCO_QUESTION = "When will the SCO security council secretaries meet?"


def mention(d: Discord, text: str) -> str:
    return f"<@{d.server.world.bot.id}> {text}"


async def answer_to(d: Discord, message: dict) -> list[dict]:
    return await d.server.wait_for(lambda: d.server.replies_to(message))


def test_a_mention_is_answered_as_a_reply_with_a_typing_indicator_first(news_engine):
    async def scenario(d: Discord) -> None:
        question = await d.server.post(d.alice, d.general, mention(d, SCO_QUESTION))
        reply = (await answer_to(d, question))[0]
        assert reply["content"].startswith("**May 21-22**\n> ")
        assert "Source: *China invites Pakistan to SCO’s Security Council’s meeting* — BEIJING" in reply["content"]
        order = [(c.method, c.path) for c in d.server.calls if c.path.startswith(f"/channels/{d.general.id}/")]
        assert order.index(("POST", f"/channels/{d.general.id}/typing")) < order.index(
            ("POST", f"/channels/{d.general.id}/messages")
        )
        sent = d.server.requests("POST", rf"/channels/{d.general.id}/messages")[0].body
        assert sent["message_reference"]["message_id"] == int(question["id"])
        assert sent["allowed_mentions"] == {"parse": [], "replied_user": False}

    play(news_engine, scenario)


def test_a_follow_up_in_a_thread_the_bot_answered_in_uses_the_thread_as_history(news_engine):
    async def scenario(d: Discord) -> None:
        first = await d.server.post(d.alice, d.thread, mention(d, SCO_QUESTION))
        assert "May 21-22" in (await answer_to(d, first))[0]["content"]
        follow_up = await d.server.post(d.bob, d.thread, "and where?")  # no mention needed in the thread
        reply = (await answer_to(d, follow_up))[0]
        assert reply["content"].startswith(f"**{expected.short_answer}**")
        assert "*Read as: and where? (SCO security council secretaries meet)*" in reply["content"]

    # Whatever the engine makes of it, the bot must have asked it with the thread's history.
    expected = news_engine.answer("and where?", (SCO_QUESTION,))
    assert expected.answered and expected.short_answer
    play(news_engine, scenario)


def test_a_reply_to_an_answer_is_a_follow_up_of_that_conversation(news_engine):
    async def scenario(d: Discord) -> None:
        first = await d.server.post(d.alice, d.general, mention(d, SCO_QUESTION))
        answer = (await answer_to(d, first))[0]
        follow_up = await d.server.post(d.alice, d.general, "and where?", reply_to=answer, ping_reply=True)
        reply = (await answer_to(d, follow_up))[0]["content"]
        assert reply.startswith(f"**{expected.short_answer}**") and "(SCO security council secretaries meet)" in reply
        # Outside a thread and without a reply, the same words are not a question for the bot.
        unrelated = await d.server.post(d.alice, d.general, "and where?")
        await answer_to(d, await d.server.post(d.alice, d.newsdesk, SCO_QUESTION))  # handled after it
        assert not d.server.replies_to(unrelated)

    expected = news_engine.answer("and where?", (SCO_QUESTION,))
    play(news_engine, scenario)


def test_every_message_in_a_listed_channel_is_a_question(news_engine):
    async def scenario(d: Discord) -> None:
        question = await d.server.post(d.dave, d.newsdesk, "Who won the Portmere marathon?")
        assert (await answer_to(d, question))[0]["content"].startswith("**Grace Wanjiru**")

    play(news_engine, scenario)


def test_the_bot_never_answers_itself_other_bots_or_messages_not_meant_for_it(news_engine):
    async def scenario(d: Discord) -> None:
        ignored = [
            await d.server.post(d.otherbot, d.general, mention(d, SCO_QUESTION)),
            await d.server.post(d.otherbot, d.newsdesk, SCO_QUESTION),
            await d.server.post(d.alice, d.general, SCO_QUESTION),  # no mention, not a listed channel
        ]
        # The bot's own answers come back over the gateway too; a question after all of them is
        # answered, which proves the events before it were handled (and ignored).
        marker = await d.server.post(d.alice, d.newsdesk, SCO_QUESTION)
        await answer_to(d, marker)
        await asyncio.sleep(0.2)
        assert all(not d.server.replies_to(m) for m in ignored)

    server = play(news_engine, scenario)
    assert len(server.requests("POST", r"/channels/\d+/messages")) == 1


def test_a_bare_mention_gets_a_hint_instead_of_an_answer(news_engine):
    async def scenario(d: Discord) -> None:
        hello = await d.server.post(d.alice, d.general, f"<@{d.server.world.bot.id}>")
        assert "/ask" in (await answer_to(d, hello))[0]["content"]

    play(news_engine, scenario)


def test_a_user_over_the_cooldown_is_told_to_slow_down_once_then_ignored(news_engine):
    async def scenario(d: Discord) -> None:
        asked = []
        for _ in range(2):
            asked.append(await d.server.post(d.carol, d.newsdesk, "Who won the Portmere marathon?"))
            await answer_to(d, asked[-1])
        third = await d.server.post(d.carol, d.newsdesk, "Who won the Portmere marathon?")
        assert (await answer_to(d, third))[0]["content"].startswith("Slow down a little, please")
        fourth = await d.server.post(d.carol, d.newsdesk, "Who won the Portmere marathon?")
        slash = await d.server.slash(d.carol, "ask", question="Who won the Portmere marathon?")
        await d.server.wait_for(lambda: slash.original)
        assert slash.original["content"].startswith("Slow down a little, please")
        other_user = await d.server.post(d.dave, d.newsdesk, "Who won the Portmere marathon?")
        assert "Grace Wanjiru" in (await answer_to(d, other_user))[0]["content"]
        assert not d.server.replies_to(fourth)

    play(news_engine, scenario, cooldown_questions=2, cooldown_seconds=600)


def test_a_rate_limited_reply_is_retried_and_delivered(news_engine):
    async def scenario(d: Discord) -> None:
        d.server.rate_limit_once("POST", rf"/channels/{d.newsdesk.id}/messages", retry_after=0.3)
        question = await d.server.post(d.alice, d.newsdesk, SCO_QUESTION)
        assert "May 21-22" in (await answer_to(d, question))[0]["content"]

    server = play(news_engine, scenario, allow_status=(429,))
    statuses = [c.status for c in server.requests("POST", r"/channels/\d+/messages")]
    assert statuses == [429, 200]
