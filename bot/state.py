"""What the slash commands and the channel questions share: the engine, the settings and the
bot's running state (cooldowns, answer latencies, reloads, answered threads).

Built once by the composition root (``bot.serve``) and handed to the command cog and the
channel-question handler at construction, so neither reads anything off the Discord client.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from embeddings.errors import NewsbotError
from embeddings.feedback import FeedbackStore, open_feedback_store
from embeddings.models import Answer
from embeddings.requests import Reply, Request, fulfil

from .conversation import AnsweredThreads
from .guards import Cooldown, RateLimit
from .reload import Reloader
from .settings import AppSettings
from .startup import StartupIndexer
from .stats import LatencyTracker

if TYPE_CHECKING:
    from embeddings.engine import Engine

T = TypeVar("T")
log = logging.getLogger("newsbot.discord")


@dataclass(frozen=True)
class BotState:
    """The shared state; its parts keep their own (event-loop-only) mutable state."""

    settings: AppSettings
    engine: Engine
    cooldown: RateLimit
    latencies: LatencyTracker
    reloads: Reloader
    threads: AnsweredThreads
    startup: StartupIndexer
    feedback: FeedbackStore | None  # None when it could not be opened (logged): no vote buttons
    feedback_salt: bytes

    @classmethod
    def create(cls, settings: AppSettings, engine: Engine, *, cooldown: RateLimit | None = None) -> BotState:
        """Fresh state for one bot over ``engine``: nothing asked, reloaded or answered yet.
        ``cooldown`` replaces the token bucket of the settings (``benchmarks/conversation.py``
        replays the old limit, and human pauses on a clock that skips them)."""
        return cls(
            settings=settings,
            engine=engine,
            cooldown=cooldown
            if cooldown is not None
            else Cooldown(settings.cooldown_questions, settings.cooldown_seconds),
            latencies=LatencyTracker(),
            reloads=Reloader(engine),
            threads=AnsweredThreads(),
            startup=StartupIndexer(engine),
            **_feedback(settings, engine),
        )

    def close(self) -> None:
        """Close what the state opened (the feedback store)."""
        if self.feedback is not None:
            self.feedback.close()

    async def call(self, fn: Callable[..., T], /, *args, **kwargs) -> T:
        """``fn(*args, **kwargs)`` (an engine call) off the event loop; while the start-up index
        is being built, ``IndexingNotice`` instead (its message is the user's reply)."""
        self.startup.check()
        return await asyncio.to_thread(fn, *args, **kwargs)

    async def respond(self, request: Request, history: Sequence[str]) -> Reply:
        """What ``request`` asks for (a question, summary, timeline or help: see
        ``embeddings.requests``), computed off the event loop. An answer's latency is kept."""
        if request.kind == "question":
            return await self.answer(request.subject, history)
        return await self.call(fulfil, self.engine, request, tuple(history))

    async def answer(self, question: str, history: Sequence[str]) -> Answer:
        """The engine's answer, computed off the event loop; its latency is kept for /status."""
        self.startup.check()
        started = time.perf_counter()
        result = await asyncio.to_thread(self.engine.answer, question, tuple(history))
        self.latencies.record(time.perf_counter() - started)
        return result


def _feedback(settings: AppSettings, engine: Engine) -> dict:
    """The feedback store and salt; a store that cannot be opened (a full or read-only disk)
    turns feedback off with a warning instead of stopping the bot. In the engine's database,
    the store borrows the engine's connection pool: one pool per bot process."""
    try:
        store = open_feedback_store(settings, backend=engine.backend)
    except (sqlite3.Error, OSError, NewsbotError) as exc:
        log.warning("feedback buttons are off: the feedback store cannot be opened (%s)", exc)
        return {"feedback": None, "feedback_salt": b""}
    try:
        # The store's own salt: on PostgreSQL, every replica hashes a person the same way.
        return {"feedback": store, "feedback_salt": store.salt()}
    except (sqlite3.Error, OSError, NewsbotError) as exc:
        store.close()
        log.warning("feedback buttons are off: the feedback salt cannot be read (%s)", exc)
        return {"feedback": None, "feedback_salt": b""}
