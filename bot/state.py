"""What the slash commands and the channel questions share: the engine, the settings and the
bot's running state (cooldowns, answer latencies, reloads, answered threads).

Built once by the composition root (``bot.serve``) and handed to the command cog and the
channel-question handler at construction, so neither reads anything off the Discord client.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from embeddings.models import Answer

from .conversation import AnsweredThreads
from .guards import Cooldown
from .reload import Reloader
from .settings import AppSettings
from .stats import LatencyTracker

if TYPE_CHECKING:
    from embeddings.engine import Engine


@dataclass(frozen=True)
class BotState:
    """The shared state; its parts keep their own (event-loop-only) mutable state."""

    settings: AppSettings
    engine: Engine
    cooldown: Cooldown
    latencies: LatencyTracker
    reloads: Reloader
    threads: AnsweredThreads

    @classmethod
    def create(cls, settings: AppSettings, engine: Engine) -> BotState:
        """Fresh state for one bot over ``engine``: nothing asked, reloaded or answered yet."""
        return cls(
            settings=settings,
            engine=engine,
            cooldown=Cooldown(settings.cooldown_questions, settings.cooldown_seconds),
            latencies=LatencyTracker(),
            reloads=Reloader(engine),
            threads=AnsweredThreads(),
        )

    async def answer(self, question: str, history: Sequence[str]) -> Answer:
        """The engine's answer, computed off the event loop; its latency is kept for /status."""
        started = time.perf_counter()
        result = await asyncio.to_thread(self.engine.answer, question, tuple(history))
        self.latencies.record(time.perf_counter() - started)
        return result
