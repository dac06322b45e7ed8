"""Slash commands end to end: real discord.py against the fake Discord, the real engine behind."""

from __future__ import annotations

from ..fakediscord.payloads import EPHEMERAL, GUILD_MESSAGES, GUILDS, MESSAGE_CONTENT
from .conftest import Discord, embed, play, text_of

SCO_QUESTION = "When will the SCO security council secretaries meet?"
SCO_TITLE = "China invites Pakistan to SCO’s Security Council’s meeting"


def test_login_syncs_the_commands_to_the_configured_server_with_only_the_intents_it_needs(news_engine):
    async def scenario(d: Discord) -> None:
        pass

    server = play(news_engine, scenario)
    first = [(c.method, c.path) for c in server.calls[:3]]
    guild_commands = f"/applications/{server.world.app_id}/guilds/{server.world.guild_id}/commands"
    assert first == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me"), ("PUT", guild_commands)]
    commands = {c["name"]: c for c in server.calls[2].body}
    assert set(commands) == {"ask", "summary", "timeline", "articles", "status", "reload", "add", "remove"}
    for admin_only in ("reload", "add", "remove"):
        assert commands[admin_only]["default_member_permissions"] == 32  # Manage Server, by default
    assert not server.requests("PUT", r"/applications/\d+/commands")  # nothing global when guilds are set
    identify = next(d for direction, op, d in server.gateway_log if op == 2)
    assert identify["intents"] == GUILDS | GUILD_MESSAGES | MESSAGE_CONTENT
    assert identify["token"] == "<hidden>"


def test_without_guild_ids_the_commands_are_registered_globally_and_work(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "ask", question=SCO_QUESTION)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        assert embed(ix.original)["title"] == "May 21-22"

    server = play(news_engine, scenario, guild_ids="")
    assert [c.path for c in server.requests("PUT", r".*/commands")] == [f"/applications/{server.world.app_id}/commands"]


def test_ask_defers_at_once_and_answers_may_21_22_with_the_quote_and_the_article(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "ask", question=SCO_QUESTION)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        callback = d.server.requests("POST", rf"/interactions/{ix.id}/.+/callback")[0]
        assert callback.body["type"] == 5 and not callback.body.get("data", {}).get("flags")  # public "thinking…"
        answer = embed(ix.original)
        assert answer["title"] == "May 21-22"
        assert "to be held in Beijing on May 21-22" in answer["description"]
        assert answer["description"].startswith("> ")
        assert answer["fields"][0]["name"] == "Source" and "SCO" in answer["fields"][0]["value"]
        assert not ix.original["flags"] & EPHEMERAL

    play(news_engine, scenario)


def test_a_private_ask_is_answered_ephemerally(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.dave, "ask", question="Who won the Portmere marathon?", private=True)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        assert ix.original["flags"] & EPHEMERAL
        assert embed(ix.original)["title"] == "Grace Wanjiru"

    play(news_engine, scenario)


def test_a_question_the_articles_cannot_answer_says_so_and_lists_the_closest_articles(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "ask", question="What is the capital of France?")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        answer = embed(ix.original)
        assert answer["title"] == "Not found in the articles"
        assert answer["fields"][0]["name"] == "Closest articles"

    play(news_engine, scenario)


def test_an_engine_error_reaches_the_user_as_its_short_message(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "ask", question="?!")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        assert ix.original["content"] == "Please ask a question: the message has no words in it."
        assert not ix.original["embeds"]

    play(news_engine, scenario)


def test_an_unexpected_error_gets_an_apology_the_log_gets_the_traceback_and_the_bot_goes_on(news_engine, caplog):
    class Breakable:  # the engine, until it is repaired; the bot is given it at construction
        broken = True

        def __getattr__(self, name):
            return getattr(news_engine, name)

        def answer(self, question, history=()):
            if self.broken:
                raise RuntimeError("disk exploded at /srv/newsbot/data/gen-1/vectors.faiss")
            return news_engine.answer(question, history)

    engine = Breakable()

    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "ask", question=SCO_QUESTION)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        assert ix.original["content"].startswith("Sorry, something went wrong")
        assert "/srv" not in ix.original["content"] and "Traceback" not in ix.original["content"]
        engine.broken = False
        again = await d.server.slash(d.alice, "ask", question=SCO_QUESTION)
        await d.server.wait_for(lambda: again.original and not again.loading)
        assert embed(again.original)["title"] == "May 21-22"

    play(engine, scenario)
    failure = next(r for r in caplog.records if r.name == "newsbot.discord" and r.exc_info)
    assert "disk exploded" in str(failure.exc_info[1])


def test_summary_of_an_article_found_by_autocomplete(news_engine):
    async def scenario(d: Discord) -> None:
        choices = await d.server.autocomplete(d.alice, "summary", focused="article", article="harbour brid")
        bridge = next(c for c in choices if c["name"].startswith("New harbour bridge opens to traffic in Portmere"))
        assert bridge["name"].endswith("(2024-03-14)")
        ix = await d.server.slash(d.alice, "summary", article=bridge["value"])
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        summary = embed(ix.original)
        assert summary["title"] == "New harbour bridge opens to traffic in Portmere"
        assert summary["url"] == "https://example.org/portmere/harbour-bridge"
        assert summary["description"].startswith("• ") and "bridge" in summary["description"]
        assert summary["fields"][0]["name"] == "Article"

    play(news_engine, scenario)


def test_summary_of_a_topic_cites_its_sources(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.bob, "summary", topic="Portmere harbour bridge")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        digest = embed(ix.original)
        assert "[1]" in digest["description"]
        assert digest["fields"][0]["name"] == "Sources" and "1. " in digest["fields"][0]["value"]

    play(news_engine, scenario)


def test_summary_needs_exactly_one_of_article_and_topic(news_engine):
    async def scenario(d: Discord) -> None:
        both = await d.server.slash(d.alice, "summary", article="harbour", topic="bridges")
        neither = await d.server.slash(d.alice, "summary")
        await d.server.wait_for(lambda: both.original and neither.original)
        for ix in (both, neither):
            assert ix.original["content"] == "Give either an article or a topic, one of the two."
            assert ix.original["flags"] & EPHEMERAL

    play(news_engine, scenario)


def test_articles_lists_title_date_and_source(news_engine):
    async def scenario(d: Discord) -> None:
        ix = await d.server.slash(d.alice, "articles")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        page = embed(ix.original)
        assert (
            "[New harbour bridge opens to traffic in Portmere](https://example.org/portmere/harbour-bridge)"
            " — 2024-03-14 · Portmere Gazette" in page["description"]
        )
        assert page["footer"]["text"] == "Page 1/1 · 6 articles"
        assert ix.original["components"] == []  # one page: no buttons

    play(news_engine, scenario)


def test_status_reports_the_index_and_answer_latency(news_engine):
    async def scenario(d: Discord) -> None:
        ask = await d.server.slash(d.alice, "ask", question=SCO_QUESTION)
        await d.server.wait_for(lambda: ask.original and not ask.loading)
        ix = await d.server.slash(d.alice, "status")
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        fields = {f["name"]: f["value"] for f in embed(ix.original)["fields"]}
        assert fields["Articles"] == "6" and fields["Model"] == "sentence-transformers/all-MiniLM-L6-v2"
        assert fields["Index built"].startswith("<t:") and fields["Last reload"] == "none since the bot started"
        assert fields["Answer latency"].startswith("p50 ") and "(1 answers)" in fields["Answer latency"]

    play(news_engine, scenario)


def test_an_article_quoting_everyone_and_a_question_with_role_mentions_ping_nobody(news_engine):
    async def scenario(d: Discord) -> None:
        role = d.server.world.roles["moderators"].id
        question = f"@everyone <@&{role}> when is the town hall meeting about the bridge tolls?"
        ix = await d.server.slash(d.alice, "ask", question=question)
        await d.server.wait_for(lambda: ix.original and not ix.loading)
        assert embed(ix.original)["title"] == "June 3"
        msg = await d.server.post(d.alice, d.general, f"<@{d.server.world.bot.id}> {question}")
        reply = (await d.server.wait_for(lambda: d.server.replies_to(msg)))[0]
        assert "@everyone living near the harbour" in reply["content"]
        for call in d.server.calls:  # whatever carries text says explicitly: parse nothing
            body = call.body.get("data") or call.body if isinstance(call.body, dict) else {}
            if body.get("content"):
                assert body["allowed_mentions"]["parse"] == [], call
                assert not body["allowed_mentions"].get("replied_user"), call

    server = play(news_engine, scenario)  # play() asserts that the fake saw nobody notified
    assert "@everyone" in text_of(list(server.messages.values()))
