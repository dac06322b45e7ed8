"""The bot token never shows up: not in any log record (discord.py's debug logs of every request
and gateway frame included), not on stdout or stderr of ``newsbot serve``, not in any message the
bot sends (/status included). ``.env``, where the token usually lives, is git-ignored. A missing
or rejected token, or an unreachable Discord, is one ``error:`` line."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import re
import subprocess
import sys
import urllib.parse

import pytest

from ..conftest import REPO
from ..fakediscord import FakeDiscord
from .conftest import Discord, embed, running, server_in_background, text_of

# Shaped like a real bot token (base64 of an id, a timestamp part, an HMAC part), and distinctive.
TOKEN = "MTE4NzY1NDMyMTk4NzY1NDMyMQ.Gq7Zx_.Zk3rT9wQ-secret-Pq81LmNv2XcVb6YhJ0sEaUoIdGf"
QUESTION = "When will the SCO security council secretaries meet?"


def leaks(text: str) -> list[str]:
    """Which forms of the token occur in ``text``: whole, any of its three parts, base64 or
    URL-encoded. Whitespace is ignored, so a token wrapped over two lines still counts."""
    flat = re.sub(r"\s+", "", text)
    forms = {
        "token": TOKEN,
        "base64": base64.b64encode(TOKEN.encode()).decode(),
        "urlsafe-base64": base64.urlsafe_b64encode(TOKEN.encode()).decode(),
        "url-encoded": urllib.parse.quote(TOKEN, safe=""),
    }
    forms.update({f"part {i}": part for i, part in enumerate(TOKEN.split("."))})
    return [name for name, form in forms.items() if form in flat]


class Everything(logging.Handler):
    """Keeps every record, formatted with its traceback and stack."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record) + " " + repr(record.args))
        self.names.add(record.name)


@pytest.fixture
def all_logs():
    root = logging.getLogger()
    handler, level = Everything(), root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_the_token_is_in_no_log_record_and_no_message_of_a_busy_session(news_engine, all_logs):
    async def scenario(d: Discord) -> None:
        ask = await d.server.slash(d.alice, "ask", question=QUESTION)
        await d.server.wait_for(lambda: ask.original and not ask.loading)
        d.server.rate_limit("POST", rf"/channels/{d.newsdesk.id}/messages", retry_after=0.2)
        first = await d.server.post(d.dave, d.newsdesk, QUESTION)
        await d.server.wait_for(lambda: d.server.replies_to(first))
        await d.server.drop_gateway(4000)  # the RESUME frame carries the token
        await d.server.wait_for(lambda: d.server.resumes == 1)
        d.server.fail("POST", rf"/channels/{d.newsdesk.id}/messages", 503, times=6)  # an error with traceback
        failed = await d.server.post(d.alice, d.newsdesk, QUESTION)
        await d.server.wait_for(lambda: d.server.faults[-1].hits == 6)
        assert not d.server.replies_to(failed)
        missing = await d.server.slash(d.bob, "summary", article="no such article about anything at all")
        await d.server.wait_for(lambda: missing.original and not missing.loading)
        status = await d.server.slash(d.bob, "status")
        await d.server.wait_for(lambda: status.original and not status.loading)
        shown = text_of([status.original])
        assert "Articles" in shown and leaks(shown) == [] and leaks(json.dumps(embed(status.original))) == []

    async def main() -> FakeDiscord:
        async with running(news_engine, FakeDiscord(token=TOKEN)) as d:
            await scenario(d)
            await asyncio.sleep(0.3)  # let the last error logs through
        return d.server

    server = asyncio.run(main())
    # The capture saw what it must have: discord.py's request and gateway debug logs, the resume
    # and a traceback, so that "no leak" means something.
    assert {"discord.http", "discord.gateway", "discord.client", "newsbot.discord"} <= all_logs.names
    everything = "\n".join(all_logs.lines)
    assert "has sent the RESUME payload" in everything and "Traceback" in everything
    assert "users/@me" in everything
    assert leaks(everything) == []
    assert leaks(json.dumps([c.body for c in server.calls], default=str)) == []
    assert leaks(json.dumps(list(server.messages.values()))) == []


def serve_process(tmp_path, news_engine, **env) -> subprocess.CompletedProcess:
    """``newsbot serve`` in a fresh process, from a folder without a .env, with ``env``."""
    # The test run's model cache stays: its export and measured encoder choice are ready.
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("NEWSBOT_", "DISCORD_")) or k == "NEWSBOT_MODEL_CACHE_DIR"
    }
    base.update(
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        COLUMNS="400",
        NEWSBOT_DATA_DIR=str(news_engine.settings.data_dir),
        NEWSBOT_SEEDS_DIR=str(news_engine.settings.seeds_dir),
    )
    base.update(env)
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli import main; main()", "serve"],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_serve_with_a_rejected_token_logs_at_debug_without_the_token(tmp_path, news_engine):
    with server_in_background(token="the-real-token") as (server, _loop):
        done = serve_process(
            tmp_path,
            news_engine,
            DISCORD_TOKEN=TOKEN,
            NEWSBOT_LOG_LEVEL="DEBUG",
            DISCORD_API_BASE_URL=server.api_base,
            DISCORD_GATEWAY_URL=server.gateway_url,
        )
    assert done.returncode == 1
    assert [(c.method, c.path, c.status) for c in server.calls] == [("GET", "/users/@me", 401)]
    assert "logging in using static token" in done.stderr  # the debug logs were on
    assert done.stderr.strip().splitlines()[-1].startswith("error: Discord rejected DISCORD_TOKEN")
    assert leaks(done.stdout) == [] and leaks(done.stderr) == []


def test_serve_with_discord_unreachable_says_so_in_one_line_without_the_token(tmp_path, news_engine):
    done = serve_process(
        tmp_path,
        news_engine,
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE_URL="http://127.0.0.1:9/api/v10",
        DISCORD_GATEWAY_URL="ws://127.0.0.1:9/gateway",
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]  # one line: no traceback, no log noise
    assert done.stderr.startswith("error: cannot reach Discord at http://127.0.0.1:9/api/v10")
    assert leaks(done.stdout) == [] and leaks(done.stderr) == []


def test_serve_without_a_token_is_one_line_and_loads_nothing(tmp_path, news_engine):
    done = serve_process(tmp_path, news_engine)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [done.stderr.strip()]
    assert done.stderr.startswith("error: DISCORD_TOKEN is not set")


def test_dot_env_is_git_ignored_and_the_example_is_not():
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=REPO, check=False)
    example = subprocess.run(["git", "check-ignore", "-q", ".env.example"], cwd=REPO, check=False)
    assert ignored.returncode == 0, ".env must be in .gitignore"
    assert example.returncode == 1
    tracked = subprocess.run(["git", "ls-files", "--error-unmatch", ".env"], cwd=REPO, capture_output=True, check=False)
    assert tracked.returncode != 0, ".env is committed"
