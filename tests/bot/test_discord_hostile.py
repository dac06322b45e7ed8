"""Hostile questions and hostile articles through the real discord.py and the fake Discord:
one clear reply per question, no traceback or server path, nobody pinged, and article markup
(mentions, code fences, bold, links, spoilers) quoted as text, never rendered or pinging."""

from __future__ import annotations

import asyncio
import re

import pytest

from .conftest import Discord, embed, make_seeds, play, text_of

FESTIVAL = """Quillby **festival** `opens` <@123> @everyone [here](http://x)

QUILLBY : The Quillby river festival will open on August 14, \
and @everyone near <@123> and <@&456> is invited to a **bold** parade, organisers said.

Organisers pinned ```rm -rf /``` and [the schedule](http://x) to ||the town board|| \
with ~~old~~ dates, said Mayor Odile Brannock.

> Brannock wrote # not a heading and - not a list to <#789> and @here about the festival; C:\\ and 5* hotels too.
"""
FESTIVAL_QUESTION = "When will the Quillby river festival open?"
# What the article says in markup; none of it may reach Discord unescaped.
ARTICLE_MARKUP = [
    "**festival**",
    "`opens`",
    "<@123>",
    "<@&456>",
    "<#789>",
    "@everyone",
    "@here",
    "**bold**",
    "```",
    "[the schedule](http://x)",
    "[here](http://x)",
    "||the town board||",
    "~~old~~",
]
LEAKS = ["Traceback", "/work", "/tmp", ".py", "site-packages", "Sorry, something went wrong"]

HOSTILE = [
    " ",
    "\u200b\u200b",
    "\x00\x07 when?",
    "```py\nprint('x')\n```",
    "**bold** _it_ ~~s~~ ||spoiler||",
    "@everyone when is the town hall meeting?",
    "<@123> who will chair the meeting?",
    "<@&456> where is it?",
    "会议什么时候举行？",
    "متى الاجتماع؟",
    "Когда встреча?",
    "🚀🔥",
    "> quote\n# heading\n- list",
    "[link](http://x) `code`",
    "\u202eevil\u202c when",
    "e\u0301" * 50,
    "a" * 1999,
    "?!",
]


@pytest.fixture(scope="module")
def hostile_engine(tmp_path_factory, encoder):
    """The usual Discord test articles plus one full of Discord markup."""
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    root = tmp_path_factory.mktemp("hostile-discord")
    seeds = make_seeds(root / "seeds")
    (seeds / "quillby.txt").write_text(FESTIVAL, encoding="utf-8")
    engine = Engine(EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds), encoder)
    engine.refresh()
    return engine


def unescaped(text: str) -> str:
    """``text`` with every backslash-escaped character removed: what Discord still reads as markup."""
    return re.sub(r"\\.", "", text, flags=re.S)


def shown(text: str) -> str:
    """``text`` as a reader sees it: escapes resolved."""
    return re.sub(r"\\(.)", r"\1", text, flags=re.S)


def assert_clean(messages: list[dict]) -> None:
    text = text_of(messages)
    for leak in LEAKS:
        assert leak not in text, (leak, text)
    for markup in ARTICLE_MARKUP:
        assert markup not in unescaped(text), (markup, text)
    assert unescaped(text).count("```") % 2 == 0, text


def assert_parse_nothing(d: Discord) -> None:
    for call in d.server.calls:  # whatever the bot sends says explicitly: ping nobody
        body = call.body.get("data") or call.body if isinstance(call.body, dict) else {}
        if body.get("content") or body.get("embeds"):
            assert body["allowed_mentions"]["parse"] == [], call
            assert not body["allowed_mentions"].get("replied_user"), call


def test_hostile_questions_by_slash_command_get_one_clear_reply_each(hostile_engine):
    async def scenario(d: Discord) -> None:
        for question in HOSTILE:
            ix = await d.server.slash(d.alice, "ask", question=question)
            await d.server.wait_for(lambda ix=ix: ix.original and not ix.loading)
            await asyncio.sleep(0.05)
            assert len(ix.messages) == 1, (question, ix.messages)
            message = ix.messages[0]
            assert_clean([message])
            if message.get("embeds"):
                assert embed(message)["title"], question
            else:
                assert message["content"] in ("Please ask a question: the message has no words in it.",), question
        assert_parse_nothing(d)

    play(hostile_engine, scenario)


def test_hostile_questions_by_mention_get_one_clear_reply_each(hostile_engine):
    async def scenario(d: Discord) -> None:
        bot = d.server.world.bot.id
        asked = []
        for question in [*HOSTILE, "a" * 10_000]:
            message = await d.server.post(d.bob, d.general, f"<@{bot}> {question}")
            replies = await d.server.wait_for(lambda message=message: d.server.replies_to(message))
            asked.append((question, message))
            assert_clean(replies)
            content = replies[0]["content"]
            # Only a mention with nothing after it gets the hint; anything else is asked.
            assert content.startswith("Ask me about the news articles") == (not question.split()), (question, content)
        await asyncio.sleep(0.3)
        for question, message in asked:
            assert len(d.server.replies_to(message)) == 1, question
        too_long = d.server.replies_to(asked[-1][1])[0]["content"]
        assert too_long == "That question is too long (10,000 characters); keep it under 2,000."
        assert_parse_nothing(d)

    play(hostile_engine, scenario)


def test_an_article_full_of_markup_is_quoted_as_text_in_answers(hostile_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "ask", question=FESTIVAL_QUESTION)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        answer = embed(ix.original)
        assert answer["title"] == "August 14"
        assert_clean([ix.original])
        # Quoted verbatim, only escaped: the reader sees the article's very characters.
        assert "@everyone near <@123> and <@&456> is invited to a **bold** parade" in shown(answer["description"])
        assert "Quillby **festival** `opens` <@123> @everyone" in shown(answer["fields"][0]["value"])

        message = await d.server.post(d.bob, d.newsdesk, FESTIVAL_QUESTION)
        reply = (await d.server.wait_for(lambda: d.server.replies_to(message)))[0]["content"]
        assert reply.startswith("**August 14**\n> ")
        assert_clean([{"content": reply}])
        assert "is invited to a **bold** parade" in shown(reply)
        assert_parse_nothing(d)

    server = play(hostile_engine, scenario)  # play() asserts that nobody was notified
    assert "@everyone" in shown(text_of(list(server.messages.values())))


def test_an_article_full_of_markup_is_quoted_as_text_in_summaries(hostile_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "summary", article="quillby")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        summary = embed(ix.original)
        assert shown(summary["title"]) == "Quillby **festival** `opens` <@123> @everyone [here](http://x)"
        assert "```rm -rf /```" in shown(summary["description"])
        assert "||the town board||" in shown(summary["description"])
        assert_clean(ix.messages)

        digest = await d.server.slash(d.alice, "summary", topic="**Quillby** river festival <@123> @everyone")
        await d.server.wait_for(lambda: digest.original and not digest.loading)
        assert_clean(digest.messages)
        assert shown(embed(digest.original)["title"]).startswith("Digest: **Quillby** river festival")
        assert "Quillby" in shown(text_of(digest.messages))
        assert_parse_nothing(d)

    play(hostile_engine, scenario)
