"""Two bot processes (shards 0 and 1 of 2), one fake Discord, one real PostgreSQL: each shard
answers what Discord sends it (the server's events to the shard that has the server, direct
messages to shard 0), a /reload run through one is served by the other, with its record, and a
👍 clicked on one is counted in the other's /status (feedback lives in the database too); and
one bot process holds one connection pool to the database, whatever it uses it for."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.settings import AppSettings
from bot.state import BotState
from embeddings.engine import Engine
from embeddings.feedback import AnswerRecord
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
            # The reload record is shared too, at shard 0's next poll: the new index can be live
            # (and answering) a poll before shard 1 has written the record.
            for _ in range(30):
                status = await server.slash_dm(w.users["dave"], "status")
                if "1 added" in await answered(server, status):
                    break
                await asyncio.sleep(1)
            else:
                pytest.fail("shard 0 never showed the reload record shard 1 shared")

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


def newsbot_connections(url: str) -> int:
    """The connections newsbot processes hold to the database of ``url`` (this one's is not)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'newsbot'"
        ).fetchone()
    return int(row[0]) if row else 0


def settled_connections(url: str, expected: int, seconds: float = 5.0) -> int:
    """The count once it reaches ``expected`` (a closed connection's server process takes a
    moment to leave pg_stat_activity), or what it is after ``seconds``."""
    deadline = time.monotonic() + seconds
    while (count := newsbot_connections(url)) != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def test_one_bot_process_holds_one_pool_for_search_feedback_and_the_reload_record(tmp_path, pg_url, encoder):
    settings = AppSettings(
        _env_file=None,
        data_dir=tmp_path / "data",
        seeds_dir=make_seeds(tmp_path / "seeds"),
        database_url=pg_url,
        database_pool_size=1,
    )
    engine = Engine(settings, encoder)
    try:
        engine.refresh()
        state = BotState.create(settings, engine)
        assert state.feedback is not None
        try:
            answer = engine.answer(BRIDGE)
            record = AnswerRecord(BRIDGE, " ".join(answer.sentences), ("harbour-bridge",), 1, 2, datetime.now(UTC))
            assert state.feedback.vote(state.feedback.remember(record), "someone", "up", datetime.now(UTC))
            engine.backend.set_shared_state("probe", {"n": 1})  # as a /reload records itself
            assert settled_connections(pg_url, 1) == 1  # NEWSBOT_DATABASE_POOL_SIZE=1 for everything
        finally:
            state.close()
        assert engine.search("harbour bridge tolls")  # closing the feedback store left the engine's pool open
    finally:
        engine.backend.close()
    assert settled_connections(pg_url, 0) == 0
