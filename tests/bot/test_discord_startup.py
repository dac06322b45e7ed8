"""``serve``: the exit code and the one-line reason when the bot cannot run, and a clean stop."""

from __future__ import annotations

import asyncio
import os
import signal
import threading

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.serve import serve

from .conftest import bot_settings, server_in_background


def test_a_missing_token_exits_non_zero_saying_where_to_get_one(news_engine, capsys):
    with server_in_background() as (server, _loop):
        settings = bot_settings(server, news_engine, discord_token=None)
        assert serve(settings, news_engine) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: DISCORD_TOKEN is not set") and "Reset Token" in err
    assert not server.calls


def test_a_bad_token_exits_non_zero_with_a_clear_message(news_engine, capsys):
    with server_in_background() as (server, _loop):
        settings = bot_settings(server, news_engine, discord_token="not-the-token")
        assert serve(settings, news_engine) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()]  # one line, no traceback
    assert err.startswith("error: Discord rejected DISCORD_TOKEN") and "not-the-token" not in err
    assert [(c.method, c.path, c.status) for c in server.calls] == [("GET", "/users/@me", 401)]


def test_a_missing_message_content_intent_exits_non_zero_with_the_portal_steps(news_engine, capsys):
    with server_in_background(message_content_intent=False) as (server, _loop):
        settings = bot_settings(server, news_engine)
        assert serve(settings, news_engine) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: Discord refused the Message Content intent")
    assert "Privileged Gateway Intents → Message Content Intent" in err


def test_an_unreachable_discord_exits_non_zero_naming_the_address(news_engine, capsys):
    with server_in_background() as (server, _loop):
        settings = bot_settings(server, news_engine, discord_api_base_url="http://127.0.0.1:9/api/v10")
        assert serve(settings, news_engine) == 1
    assert capsys.readouterr().err.startswith("error: cannot reach Discord at http://127.0.0.1:9/api/v10")


def test_sigterm_stops_the_bot_cleanly_and_the_endpoints_are_restored(news_engine):
    defaults = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    with server_in_background() as (server, loop):

        def stop_when_connected() -> None:
            asyncio.run_coroutine_threadsafe(server.ready(), loop).result(30)
            os.kill(os.getpid(), signal.SIGTERM)  # the bot's handler is installed before it connects

        stopper = threading.Thread(target=stop_when_connected)
        stopper.start()
        code = serve(bot_settings(server, news_engine), news_engine)
        stopper.join()
    assert code == 0
    assert defaults == (Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY)
    assert defaults[1] == yarl.URL("wss://gateway.discord.gg/")
