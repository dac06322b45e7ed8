"""Discord misbehaving under the bot: the gateway dropped, sends rate limited (429) or failing
(5xx), interactions that expired. The bot must answer once, or log why it could not, and keep
answering everyone else."""

from __future__ import annotations

import asyncio
import logging
import threading

from ..fakediscord.payloads import EPHEMERAL
from .conftest import Discord, embed, play

QUESTION = "When will the SCO security council secretaries meet?"
ANSWER = "May 21-22"


def op_count(d: Discord, op: int) -> int:
    """How many gateway frames with ``op`` the bot sent (2 IDENTIFY, 6 RESUME)."""
    return sum(1 for direction, o, _ in d.server.gateway_log if direction == "recv" and o == op)


async def ask(d: Discord, user, question: str = QUESTION):
    """``user`` runs /ask; returns the interaction once the bot has answered it."""
    ix = await d.server.slash(user, "ask", question=question)
    await d.server.wait_for(lambda: ix.original and not ix.loading)
    return ix


async def logged(caplog, text: str, timeout: float = 15.0) -> None:
    """Wait until a log record containing ``text`` shows up (the bot logs after the server has
    answered, so there is no server event to wait for)."""

    async def poll() -> None:
        while not any(text in r.getMessage() for r in caplog.records):
            await asyncio.sleep(0.05)

    await asyncio.wait_for(poll(), timeout)


async def channel_question(d: Discord, user, channel, question: str = QUESTION) -> list[dict]:
    """``user`` asks in ``channel`` (a NEWSBOT_CHANNELS channel); returns the bot's replies."""
    msg = await d.server.post(user, channel, question)
    return await d.server.wait_for(lambda: d.server.replies_to(msg))


# -- the gateway --


def test_after_a_resumable_gateway_drop_the_bot_resumes_and_answers_what_was_asked_meanwhile(news_engine):
    async def scenario(d: Discord) -> None:
        assert ANSWER in (await channel_question(d, d.alice, d.newsdesk))[0]["content"]
        assert await d.server.drop_gateway(4000) == 1
        # Posted while the bot is away: Discord keeps it for the session and replays it on RESUME.
        question = await d.server.post(d.dave, d.newsdesk, "Who will chair the SCO security council meeting?")
        replies = await d.server.wait_for(lambda: d.server.replies_to(question))
        assert d.server.resumes == 1
        assert op_count(d, 6) == 1 and op_count(d, 2) == 1  # resumed, never identified again
        assert "Zhao Kezhi" in replies[0]["content"]
        later = await ask(d, d.bob)
        assert embed(later.original)["title"] == ANSWER
        assert len(d.server.replies_to(question)) == 1  # the replayed question was answered once

    play(news_engine, scenario)


def test_when_the_session_cannot_be_resumed_the_bot_identifies_again_and_answers(news_engine):
    async def scenario(d: Discord) -> None:
        assert await d.server.drop_gateway(4000, resumable=False) == 1
        await d.server.wait_for(lambda: op_count(d, 2) == 2 and any(s.ready.is_set() for s in d.server.sessions))
        assert op_count(d, 6) == 1 and d.server.resumes == 0  # tried to resume, was told to identify
        ix = await ask(d, d.alice)
        assert embed(ix.original)["title"] == ANSWER
        assert ANSWER in (await channel_question(d, d.dave, d.newsdesk))[0]["content"]

    play(news_engine, scenario)


# -- rate limits --


def test_a_rate_limited_send_is_retried_and_the_answer_arrives_exactly_once(news_engine):
    async def scenario(d: Discord) -> None:
        channel_limit = d.server.rate_limit("POST", rf"/channels/{d.newsdesk.id}/messages", retry_after=0.3)
        replies = await channel_question(d, d.alice, d.newsdesk)
        await asyncio.sleep(0.5)  # room for a duplicate to show up, if the bot sent one
        assert len(d.server.replies_to(await_question := replies[0]["referenced_message"])) == 1
        assert ANSWER in replies[0]["content"] and await_question["author"]["id"] == str(d.alice.id)
        assert channel_limit.hits == 1
        sends = [c.status for c in d.server.requests("POST", rf"/channels/{d.newsdesk.id}/messages")]
        assert sends == [429, 200]

        # A global limit on the edit that carries an /ask answer.
        edit_limit = d.server.rate_limit(
            "PATCH", r"/webhooks/\d+/[^/]+/messages/@original", retry_after=0.3, is_global=True
        )
        ix = await ask(d, d.bob)
        assert edit_limit.hits == 1 and embed(ix.original)["title"] == ANSWER and not ix.followups
        edits = [c.status for c in d.server.requests("PATCH", rf"/webhooks/\d+/{ix.token}/messages/@original")]
        assert edits == [429, 200]

    play(news_engine, scenario, allow_status=(429,))


# -- server errors --


def test_server_errors_on_sends_are_retried_and_the_answer_arrives_once(news_engine):
    async def scenario(d: Discord) -> None:
        # 503: discord.py raises at once; the bot tries again itself.
        d.server.fail("POST", rf"/channels/{d.newsdesk.id}/messages", 503)
        replies = await channel_question(d, d.alice, d.newsdesk)
        assert len(replies) == 1 and ANSWER in replies[0]["content"]
        assert [c.status for c in d.server.requests("POST", rf"/channels/{d.newsdesk.id}/messages")] == [503, 200]

        # 502 on the /ask answer and 503 on a private notice's response.
        d.server.fail("PATCH", r"/webhooks/\d+/[^/]+/messages/@original", 502)
        ix = await ask(d, d.bob)
        assert embed(ix.original)["title"] == ANSWER
        d.server.fail("POST", r"/interactions/\d+/[^/]+/callback", 503)
        refused = await d.server.slash(d.dave, "reload")
        await d.server.wait_for(lambda: refused.original)
        assert refused.original["flags"] & EPHEMERAL and refused.original["content"].startswith("Only server admins")

    play(news_engine, scenario, allow_status=(502, 503))


def test_a_send_that_keeps_failing_is_logged_and_everyone_else_is_still_answered(news_engine, caplog):
    caplog.set_level(logging.INFO)

    async def scenario(d: Discord) -> None:
        broken = d.server.fail("POST", rf"/channels/{d.general.id}/messages", 503, times=100)
        question = await d.server.post(d.alice, d.general, f"<@{d.server.world.bot.id}> {QUESTION}")
        # Meanwhile others are answered, in a channel and by /ask.
        assert ANSWER in (await channel_question(d, d.dave, d.newsdesk))[0]["content"]
        ix = await ask(d, d.bob)
        assert embed(ix.original)["title"] == ANSWER
        # The answer and then the apology each get three tries; then the bot gives up and logs it.
        await d.server.wait_for(lambda: broken.hits == 6, timeout=20)
        await logged(caplog, "could not deliver")
        assert d.server.replies_to(question) == []
        broken.times = 0  # Discord is back
        again = await d.server.post(d.alice, d.general, f"<@{d.server.world.bot.id}> {QUESTION}")
        replies = await d.server.wait_for(lambda: d.server.replies_to(again))
        assert ANSWER in replies[0]["content"]

    play(news_engine, scenario, allow_status=(503,))
    failed = [r for r in caplog.records if r.name == "newsbot.discord" and r.levelno >= logging.WARNING]
    assert any(r.getMessage() == "channel question failed" and r.exc_info for r in failed)


# -- expired interactions --


def test_an_expired_interaction_is_logged_and_neither_crashes_the_bot_nor_blocks_others(news_engine, caplog):
    caplog.set_level(logging.INFO)
    slow = "When is the town hall meeting about the harbour bridge tolls?"

    release = threading.Event()  # the engine runs in a worker thread

    class Held:  # the engine, holding one question until its token has expired
        def __getattr__(self, name):
            return getattr(news_engine, name)

        def answer(self, question, history=()):
            if question == slow:
                release.wait(60)  # bounded: a failed scenario must not hang the test run
            return news_engine.answer(question, history)

    async def scenario(d: Discord) -> None:
        late = await d.server.slash(d.alice, "ask", question=slow)
        await d.server.wait_for(lambda: late.acked == 5)
        others = await ask(d, d.dave)  # answered while alice's question is still held
        assert embed(others.original)["title"] == ANSWER
        d.server.expire(late)
        release.set()
        await logged(caplog, "expired")
        # One try only: an expired token cannot carry an apology either.
        assert [c.status for c in d.server.requests("PATCH", rf"/webhooks/\d+/{late.token}/messages/@original")] == [
            404
        ]
        assert late.loading  # still "thinking…": nothing reached alice
        after = await ask(d, d.alice)
        assert embed(after.original)["title"] == ANSWER

    play(Held(), scenario, allow_status=(404,))
    expired = [r for r in caplog.records if "expired" in r.getMessage()]
    assert len(expired) == 1 and expired[0].levelno == logging.WARNING and "/ask" in expired[0].getMessage()
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
