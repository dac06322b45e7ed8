"""Requests, not only questions, end to end: "summarize …", "timeline of …", "hi" and /timeline
reach the summary, the timeline or the help; cooldowns that stop floods, not conversations."""

from __future__ import annotations

import asyncio

from .conftest import Discord, embed, play, text_of

SCO_QUESTION = "When will the SCO security council secretaries meet?"
SCO_TITLE = "China invites Pakistan to SCO’s Security Council’s meeting"


def mention(d: Discord, text: str) -> str:
    return f"<@{d.server.world.bot.id}> {text}"


async def answer_to(d: Discord, message: dict) -> list[dict]:
    return await d.server.wait_for(lambda: d.server.replies_to(message))


def test_a_mention_asking_for_a_summary_or_a_timeline_gets_one_and_hi_gets_the_help(news_engine):
    async def scenario(d: Discord) -> None:
        summary = (
            await answer_to(d, await d.server.post(d.alice, d.general, mention(d, "summarize the Portmere marathon")))
        )[0]
        assert embed(summary)["title"] == "Kenyan runner wins Portmere marathon in course record"
        timeline = (
            await answer_to(d, await d.server.post(d.alice, d.newsdesk, "timeline of the harbour bridge tolls"))
        )[0]
        assert embed(timeline)["title"] == "Timeline: harbour bridge tolls"
        lines = embed(timeline)["description"].split("\n\n")
        assert lines[0].startswith(
            "**2024-03-14** · [New harbour bridge opens to traffic in Portmere](https://example.org"
        )
        assert "**2024-05-02** · Portmere council calls a town hall" in embed(timeline)["description"]
        hello = (await answer_to(d, await d.server.post(d.bob, d.general, mention(d, "hi"))))[0]
        assert hello["content"].startswith("Ask me about the news articles") and "/timeline" in hello["content"]
        can = (await answer_to(d, await d.server.post(d.bob, d.newsdesk, "what can you do?")))[0]
        assert can["content"] == hello["content"]

    play(news_engine, scenario)


def test_summarize_the_article_in_a_thread_summarises_the_article_of_the_conversation(news_engine):
    async def scenario(d: Discord) -> None:
        await answer_to(d, await d.server.post(d.alice, d.thread, mention(d, SCO_QUESTION)))
        reply = (await answer_to(d, await d.server.post(d.alice, d.thread, "summarize the article")))[0]
        assert embed(reply)["title"] == SCO_TITLE
        what = (await answer_to(d, await d.server.post(d.alice, d.thread, "what is the SCO?")))[0]["content"]
        assert "Read as" not in what  # it names its own subject: nothing borrowed

    play(news_engine, scenario)


def test_slash_timeline_lists_articles_in_date_order_with_links(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.dave, "timeline", topic="Portmere harbour bridge")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        body = text_of(ix.messages)
        first, second = body.index("2024-03-14"), body.index("2024-05-02")
        assert first < second and "https://example.org/portmere/harbour-bridge" in body

    play(news_engine, scenario)


def test_a_twelve_message_conversation_in_a_thread_is_never_throttled_with_the_default_cooldown(news_engine):
    turns = [
        SCO_QUESTION,
        "and where?",
        "who will chair the meeting?",
        "summarize the article",
        "what is the SCO?",
        "when was it founded?",
        "timeline of the SCO meeting",
        "who was invited?",
        "and Pakistan?",
        "what is the primary task?",
        "what's new on the SCO",
        "thanks, and when do they meet again?",
    ]

    async def scenario(d: Discord) -> None:
        for n, turn in enumerate(turns):
            turn = (
                mention(d, turn) if n == 0 else turn
            )  # as fast as a person can go: the next message as soon as the answer is there
            replies = await answer_to(d, await d.server.post(d.alice, d.thread, turn))
            assert not text_of(replies).startswith("Slow down"), turn
        assert len(turns) == 12

    play(news_engine, scenario, cooldown_questions=10, cooldown_seconds=60)


def test_a_flood_of_a_hundred_questions_in_ten_seconds_is_throttled_and_warned_once(news_engine):
    async def scenario(d: Discord) -> None:
        flood = []
        for _ in range(100):
            flood.append(await d.server.post(d.carol, d.newsdesk, "Who won the Portmere marathon?"))
            await asyncio.sleep(0.1)
        await d.server.wait_for(lambda: sum(1 for m in flood if d.server.replies_to(m)) >= 11, timeout=60)
        other = await d.server.post(d.dave, d.newsdesk, "Who won the Portmere marathon?")
        assert "Grace Wanjiru" in (await answer_to(d, other))[0]["content"]  # others are not slowed
        await asyncio.sleep(1.0)
        replies = [r for m in flood for r in d.server.replies_to(m)]
        warnings = [r for r in replies if r["content"].startswith("Slow down")]
        answers = [r for r in replies if "Grace Wanjiru" in r["content"]]
        assert len(warnings) == 1
        assert 10 <= len(answers) <= 12  # the burst of 10, and one more every 6 s

    play(news_engine, scenario, cooldown_questions=10, cooldown_seconds=60)
