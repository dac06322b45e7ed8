"""The bot's small parts on their own: cooldowns, progress throttling, Discord settings."""

from __future__ import annotations

import asyncio
import threading

import pytest
from pydantic import ValidationError

from bot.guards import Cooldown
from bot.progress import ThrottledProgress
from bot.settings import AppSettings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_cooldown_is_a_token_bucket_a_burst_then_one_more_every_per_over_rate_seconds():
    clock = Clock()
    cooldown = Cooldown(rate=10, per=60, clock=clock)  # the default: 10 at once, then one every 6 s
    assert all(cooldown.try_use(1) == 0 for _ in range(10))
    assert cooldown.try_use(1) == pytest.approx(6)
    clock.now += 3
    assert cooldown.try_use(1) == pytest.approx(3)  # half a token back already
    assert cooldown.try_use(2) == 0  # another user has their own bucket
    clock.now += 3
    assert cooldown.try_use(1) == 0 and cooldown.try_use(1) == pytest.approx(6)
    clock.now += 600  # a long pause refills the burst, and no more than it
    assert all(cooldown.try_use(1) == 0 for _ in range(10)) and cooldown.try_use(1) > 0


def test_a_follow_up_costs_less_than_a_new_question():
    clock = Clock()
    cooldown = Cooldown(rate=2, per=60, clock=clock)
    assert cooldown.try_use(1) == 0
    assert cooldown.try_use(1, 0.5) == 0 and cooldown.try_use(1, 0.5) == 0
    assert cooldown.try_use(1, 0.5) == pytest.approx(15)  # half a token comes back in 15 s
    assert cooldown.try_use(1) == pytest.approx(30)


def test_cooldown_level_is_what_a_user_has_left_refilled_up_to_the_burst():
    clock = Clock()
    cooldown = Cooldown(rate=10, per=60, clock=clock)
    assert cooldown.level(1) == 10  # someone new has the whole burst
    cooldown.try_use(1)
    cooldown.try_use(1, 0.5)
    assert cooldown.level(1) == pytest.approx(8.5) and cooldown.level(2) == 10
    clock.now += 3
    assert cooldown.level(1) == pytest.approx(9.0)  # one token every 6 s
    clock.now += 600
    assert cooldown.level(1) == 10


def test_cooldown_warns_once_per_window_and_zero_rate_disables_it():
    clock = Clock()
    cooldown = Cooldown(rate=1, per=30, clock=clock)
    assert cooldown.should_warn(7) and not cooldown.should_warn(7)
    clock.now += 31
    assert cooldown.should_warn(7)
    unlimited = Cooldown(rate=0, per=30, clock=clock)
    assert all(unlimited.try_use(7) == 0 for _ in range(100))


def test_progress_from_a_worker_thread_is_throttled_and_drained_before_the_report():
    shown: list[tuple[int, int]] = []
    clock = Clock()

    async def main() -> None:
        async def show(done: int, total: int) -> None:
            await asyncio.sleep(0.01)
            shown.append((done, total))

        progress = ThrottledProgress(asyncio.get_running_loop(), show, interval=2.0, clock=clock)

        def worker() -> None:
            progress.begin(100)
            for _ in range(10):
                progress.advance(10)  # within the same 2 s: no edits
            clock.now += 2.5
            progress.advance(0)

        thread = threading.Thread(target=worker)
        thread.start()
        await asyncio.to_thread(thread.join)
        await progress.drain()
        progress.advance(1)  # after drain nothing more is scheduled
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert shown[0] == (0, 100) and len(shown) <= 2


def test_discord_settings_read_unprefixed_names_and_comma_separated_ids(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", "secret-token")
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:8080/api/v10/")
    monkeypatch.setenv("NEWSBOT_CHANNELS", "123, 456")
    monkeypatch.setenv("NEWSBOT_ADMIN_ROLE_IDS", "")
    settings = AppSettings(_env_file=None)
    assert settings.discord_token.get_secret_value() == "secret-token"
    assert "secret-token" not in repr(settings) and "secret-token" not in str(settings.model_dump())
    assert settings.discord_api_base_url == "http://127.0.0.1:8080/api/v10"
    assert settings.channels == (123, 456) and settings.admin_role_ids == () and settings.guild_ids == ()


@pytest.mark.parametrize(
    "name, value",
    [("NEWSBOT_GUILD_IDS", "12,abc"), ("DISCORD_GATEWAY_URL", "http://x"), ("NEWSBOT_COOLDOWN_SECONDS", "0")],
)
def test_bad_discord_settings_are_rejected(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        AppSettings(_env_file=None)


def test_question_text_leaves_mentions_and_mass_mentions_out():
    from types import SimpleNamespace

    from bot.conversation import question_text

    message = SimpleNamespace(content="<@42> @everyone who will chair the <#7> meeting, <@&9> @here?")
    assert question_text(message, SimpleNamespace(id=42)) == "who will chair the meeting, ?"
    assert (
        question_text(SimpleNamespace(content="email me@everyone.org"), SimpleNamespace(id=1))
        == "email me@everyone.org"
    )
