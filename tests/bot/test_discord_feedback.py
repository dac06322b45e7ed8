"""Feedback and sources under every answer, end to end: 👍/👎 by two people, the 👎 modal,
storage that survives a bot restart, the export; link buttons and "More passages"."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest
from typer.testing import CliRunner

from bot.cli import app

from .conftest import Discord, play

QUESTION = "Who won the Portmere marathon?"
BRIDGE = "How much did the new harbour bridge cost?"


def buttons(message: dict) -> list[dict]:
    return [c for row in message.get("components") or [] for c in row["components"]]


def custom_ids(message: dict) -> dict[str, str]:
    """The message's buttons with a custom_id, by emoji name or label."""
    return {
        (b.get("emoji") or {}).get("name") or b["label"]: b["custom_id"] for b in buttons(message) if "custom_id" in b
    }


async def answer_to(d: Discord, message: dict) -> dict:
    return (await d.server.wait_for(lambda: d.server.replies_to(message)))[-1]


async def clicked(d: Discord, ix):
    await d.server.wait_for(lambda: ix.acked is not None)
    return ix


def test_every_answer_carries_feedback_buttons_and_links_to_its_sources(news_engine):
    async def scenario(d: Discord) -> None:
        reply = await answer_to(d, await d.server.post(d.alice, d.newsdesk, BRIDGE))
        ids = custom_ids(reply)
        assert set(ids) == {"👍", "👎", "More passages"}
        assert all(i.startswith("newsbot:") and len(i) <= 100 for i in ids.values())
        links = [b for b in buttons(reply) if b.get("style") == 5]
        assert [b["url"] for b in links] == ["https://example.org/portmere/harbour-bridge"]
        ask = await d.server.slash(d.bob, "ask", question=QUESTION)
        await d.server.wait_for(lambda: ask.original and not ask.loading)
        assert {"👍", "👎", "More passages"} == set(custom_ids(ask.original))
        assert not [b for b in buttons(ask.original) if b.get("style") == 5]  # the marathon story has no URL

    play(news_engine, scenario)


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_votes_of_two_people_are_stored_with_a_reason_and_survive_a_restart(news_engine, tmp_path, store, request):
    state: dict = {}
    # On PostgreSQL (NEWSBOT_DATABASE_URL set) the feedback goes to the database, not the data folder.
    where = {"database_url": request.getfixturevalue("pg_url")} if store == "postgres" else {}

    async def first_run(d: Discord) -> None:
        reply = await answer_to(d, await d.server.post(d.alice, d.newsdesk, QUESTION))
        state["reply"], ids = reply, custom_ids(reply)
        state["people"] = [d.alice.id, d.bob.id]
        up = await clicked(d, await d.server.click(d.alice, reply, ids["👍"]))
        assert up.acked == 4 and up.original["content"].startswith("Thanks")
        down = await clicked(d, await d.server.click(d.bob, reply, ids["👎"]))
        assert down.acked == 9 and down.modal["title"] == "What was wrong with the answer?"
        submitted = await d.server.submit_modal(down, dict(_inputs(down.modal, "wrong person", "Grace Wanjiru")))
        await d.server.wait_for(lambda: submitted.original)
        assert submitted.original["content"].startswith("Thanks")

        await d.restart()  # a new bot, the same data folder
        reply = state["reply"]
        again = await clicked(d, await d.server.click(d.dave, reply, custom_ids(reply)["👎"]))
        assert again.acked == 9  # the old message's button still works
        status = await d.server.slash(d.alice, "status")
        await d.server.wait_for(lambda: status.original and not status.loading)
        fields = {f["name"]: f["value"] for f in status.original["embeds"][0]["fields"]}
        assert fields["Feedback"].startswith("👍 1 · 👎 2 (1 with a reason)")

    before = _votes_in_sqlite(news_engine.settings.data_dir)
    play(news_engine, first_run, **where)

    hashes = _user_hashes(store, news_engine.settings.data_dir, where)
    assert len(set(hashes)) == 3 and all(len(h) == 32 for h in hashes)
    assert _votes_in_sqlite(news_engine.settings.data_dir) == before + (3 if store == "sqlite" else 0)

    out = tmp_path / "feedback.jsonl"
    env = {
        "NEWSBOT_DATA_DIR": str(news_engine.settings.data_dir),
        "NEWSBOT_SEEDS_DIR": str(news_engine.settings.seeds_dir),
        "NEWSBOT_DATABASE_URL": where.get("database_url"),  # unset (None) for SQLite
    }
    result = CliRunner().invoke(app, ["feedback", "--export", str(out)], env=env)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    mine = [r for r in rows if r["question"] == QUESTION]
    assert {r["vote"] for r in mine} == {"up", "down"}
    explained = next(r for r in mine if r["reason"])
    assert explained["reason"] == "wrong person" and explained["correction"] == "Grace Wanjiru"
    assert explained["cited"] == ["marathon-2024"] and explained["guild_id"] and explained["channel_id"]
    raw = out.read_text(encoding="utf-8")
    assert state["people"] and not any(str(person) in raw for person in state["people"])  # hashes only


def _votes_in_sqlite(data_dir) -> int:
    path = data_dir / "feedback.sqlite"
    if not path.exists():
        return 0
    with sqlite3.connect(path) as con:
        return int(con.execute("SELECT count(*) FROM votes").fetchone()[0])


def _user_hashes(store: str, data_dir, where: dict) -> list[str]:
    if store == "sqlite":
        with sqlite3.connect(data_dir / "feedback.sqlite") as con:
            return [row[0] for row in con.execute("SELECT user_hash FROM votes")]
    with psycopg.connect(where["database_url"]) as con:
        return [row[0] for row in con.execute("SELECT user_hash FROM newsbot_feedback_votes")]


def _inputs(modal: dict, reason: str, right: str):
    found = []
    for row in modal["components"]:
        inner = row.get("components") or [row.get("component")]
        found += [c["custom_id"] for c in inner if c and c.get("type") == 4]
    return zip(found, (reason, right))


def test_more_passages_shows_the_next_passages_to_the_clicker_only(news_engine):
    async def scenario(d: Discord) -> None:
        reply = await answer_to(d, await d.server.post(d.alice, d.newsdesk, BRIDGE))
        more = await d.server.click(d.bob, reply, custom_ids(reply)["More passages"])
        await d.server.wait_for(lambda: more.original and not more.loading)
        assert more.original["flags"] & 64  # ephemeral
        passages = more.original["embeds"][0]
        assert passages["title"] == "More passages" and passages["fields"]
        quoted = reply["content"].split("\n")[1].removeprefix("> ")
        assert all(quoted not in f["value"] for f in passages["fields"])

    play(news_engine, scenario)
