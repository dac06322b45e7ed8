"""Two bot processes (shards 0 and 1 of 2), one fake Discord, one real PostgreSQL: each shard
answers what Discord sends it (the server's events to the shard that has the server, direct
messages to shard 0), a /reload run through one is served by the other, with its record, and a
👍 clicked on one is counted in the other's /status (feedback lives in the database too)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.index.pg import PostgresBackend
from embeddings.index.pg.connection import Database

from ..embeddings.backends import engine_on
from ..fakediscord import FakeDiscord
from ..fakediscord.world import World
from .conftest import make_seeds, text_of

BRIDGE = "How much did the Portmere harbour bridge cost?"
FERRY = "When did the Portmere ferry workers end their strike?"


def serve(server: FakeDiscord, url: str, seeds: Path, shards: str, cwd: Path) -> subprocess.Popen:
    world = server.world
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "DISCORD_TOKEN": server.token,
        "DISCORD_API_BASE_URL": server.api_base,
        "DISCORD_GATEWAY_URL": server.gateway_url,
        "NEWSBOT_DATABASE_URL": url,
        "NEWSBOT_DATA_DIR": str(cwd / f"data-{shards}"),  # nothing shared through files, as on two machines
        "NEWSBOT_SEEDS_DIR": str(seeds),
        "NEWSBOT_GUILD_IDS": str(world.guild_id),
        "NEWSBOT_ADMIN_ROLE_IDS": str(world.roles["news-admins"].id),
        "NEWSBOT_COOLDOWN_QUESTIONS": "0",
        "NEWSBOT_SHARD_COUNT": "2",
        "NEWSBOT_SHARD_IDS": shards,
        "NEWSBOT_FOLLOW_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "serve"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def vote_button(message: dict, vote: str) -> str:
    ids = [c["custom_id"] for row in message["components"] for c in row["components"] if "custom_id" in c]
    return next(i for i in ids if i.startswith(f"newsbot:vote:{vote}:"))


def feedback_field(message: dict) -> str:
    return next(f["value"] for f in message["embeds"][0]["fields"] if f["name"] == "Feedback")


async def answered(server: FakeDiscord, ix) -> str:
    await server.wait_for(lambda: ix.original and not ix.loading, timeout=60)
    return text_of([ix.original])


@pytest.mark.slow
def test_two_shards_on_one_database_both_answer_and_a_reload_on_one_reaches_the_other(
    tmp_path, pg_url, encoder, request
):
    seeds = make_seeds(tmp_path / "seeds")
    backend = PostgresBackend(Database(pg_url), encoder.dimension)
    request.addfinalizer(backend.close)
    engine_on(backend, seeds, tmp_path, encoder).refresh()

    async def main() -> FakeDiscord:
        server = FakeDiscord()
        while (server.world.guild_id >> 22) % 2 != 1:  # the server on shard 1, direct messages on shard 0
            server.world = World.default()
        await server.start()
        procs = [serve(server, pg_url, seeds, shard, tmp_path) for shard in ("0", "1")]
        try:
            await server.wait_for(lambda: len([s for s in server.sessions if s.ready.is_set()]) == 2, timeout=240)
            assert sorted(s.shard for s in server.sessions) == [(0, 2), (1, 2)]
            w = server.world
            in_server = await server.slash(w.users["alice"], "ask", question=BRIDGE)  # to shard 1
            in_dm = await server.slash_dm(w.users["dave"], "ask", question=BRIDGE)  # to shard 0
            assert "310 million euros" in await answered(server, in_server)
            assert "310 million euros" in await answered(server, in_dm)

            (seeds / "ferry.txt").write_text(
                "Ferry strike ends\n\nThe ferry workers of Portmere ended their strike on Monday after talks."
            )
            reload = await server.slash(w.users["carol"], "reload")  # carol is a news admin; shard 1 runs it
            await server.wait_for(lambda: "1 added" in text_of(reload.messages), timeout=180)
            for _ in range(30):  # shard 0 follows the database's live generation (every second)
                ix = await server.slash_dm(w.users["dave"], "ask", question=FERRY)
                if "Ferry strike ends" in await answered(server, ix):
                    break
                await asyncio.sleep(1)
            else:
                pytest.fail("shard 0 never served the reloaded index")
            status = await server.slash_dm(w.users["dave"], "status")
            assert "1 added" in await answered(server, status)  # the reload record is shared too

            up = await server.click(w.users["bob"], in_server.original, vote_button(in_server.original, "up"))
            await server.wait_for(lambda: up.original, timeout=60)  # shard 1 said thanks: stored
            assert up.original["content"].startswith("Thanks")
            status = await server.slash_dm(w.users["dave"], "status")  # shard 0 counts it
            await answered(server, status)
            assert feedback_field(status.original).startswith("👍 1 · 👎 0")
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
            await server.stop()
        for proc in procs:
            assert proc.returncode == 0, proc.stderr.read()
        return server

    server = asyncio.run(main())
    assert not server.errors, server.errors
