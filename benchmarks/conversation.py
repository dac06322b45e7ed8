"""What a real back-and-forth needs from the cooldown: scripted conversations in a thread, and a
flood, replayed against the real bot (unmodified discord.py and the real engine over the Discord
tests' seed articles) talking to the tests' fake Discord over a real socket, under several limits.

    nice -n 15 .venv/bin/python -m benchmarks.conversation [--seed 7] [--brisk 3 8] [--human 8 20]

For each limit and script, at three paces:

* **fast**: the next message as soon as the bot's answer is there (the most a person can do);
* **brisk** and **human**: after each answer, a pause drawn uniformly from ``--brisk`` (3-8 s: a
  glance at the answer, a two-word follow-up) or ``--human`` (8-20 s: reading the answer and
  typing the next message); seeded, the same pauses under every limit. The pauses are not
  slept: the bot's cooldown runs on a clock that skips them (``SkippingClock``), which is all
  that the passing of time changes in the bot; everything else runs in real time.

it prints the messages answered and throttled, the lowest cooldown level any person of the
script reached, and the bot's answer time (message posted to reply received, p50 / p95). Then
one person floods (100 questions in 10 s, real time) a listed channel, and a thread the bot
answers in (where every message is a cheaper follow-up): answers and "slow down" notices.

The limits: the old one (at most 5 questions in any 60 s, a sliding window, follow-ups full
price: ``SlidingWindow``, as ``bot/guards.py`` had it before issue 14), today's default (a token
bucket of 10, refilled over 60 s, follow-ups 0.5) and two variants. Nothing is asserted: the
numbers are for reading (README, "Discord bot").
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.guards import Cooldown
from tests.bot.conftest import Discord, make_seeds, running

from .machine import machine


@dataclass(frozen=True)
class Script:
    """A conversation in one thread: (who, message) turns; the first one mentions the bot."""

    name: str
    turns: tuple[tuple[str, str], ...]


SCRIPTS = (
    Script(
        "sco",
        tuple(
            ("alice", t)
            for t in (
                "When will the SCO security council secretaries meet?",
                "and where?",
                "who will chair the meeting?",
                "summarize the article",
                "what is the SCO?",
                "who was invited?",
                "timeline of the SCO meeting",
                "what is the primary task?",
                "who represents India?",
                "what's new on the SCO",
                "when is the Qingdao summit?",
                "thanks, and who announced it?",
            )
        ),
    ),
    Script(
        "portmere",
        tuple(
            ("dave", t)
            for t in (
                "Who won the Portmere marathon?",
                "in what time?",
                "how many runners started?",
                "when is next year's race?",
                "summarize the article",
                "How much did the new harbour bridge cost?",
                "who cut the ribbon?",
                "how long is it?",
                "will there be tolls?",
                "timeline of the harbour bridge tolls",
                "When is the town hall on the bridge tolls?",
                "who is invited?",
                "what's new on Portmere",
                "summary of the harbour bridge",
            )
        ),
    ),
    Script(
        "two people",
        (
            ("alice", "What did the central bank of Norland decide on interest rates?"),
            ("bob", "why did it hold?"),
            ("alice", "who is the governor?"),
            ("bob", "when is the next rate meeting?"),
            ("alice", "what was inflation in May?"),
            ("bob", "summarize the article"),
            ("alice", "and in April?"),
            ("bob", "Where did the wildfire force evacuations?"),
            ("alice", "how many villages?"),
            ("bob", "how many firefighters?"),
            ("alice", "how many hectares burned?"),
            ("bob", "were there injuries?"),
            ("alice", "timeline of the Sarn wildfire"),
            ("bob", "when will the winds ease?"),
        ),
    ),
    Script(
        "catching up",
        tuple(
            ("carol", t)
            for t in (
                "what's new on the harbour bridge",
                "summarize the town hall article",
                "when is the town hall?",
                "who said residents would be asked?",
                "about what?",
                "timeline of Portmere",
                "Who won the Portmere marathon?",
                "summary of the marathon",
            )
        ),
    ),
)

FLOOD_QUESTIONS = tuple(text for script in SCRIPTS for who, text in script.turns[:1]) + (
    "How much did the new harbour bridge cost?",
    "Where did the wildfire force evacuations?",
)


class SkippingClock:
    """``time.monotonic``, moved on by the pauses a benchmark skips instead of sleeping them."""

    def __init__(self) -> None:
        self.skipped = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.skipped

    def skip(self, seconds: float) -> None:
        self.skipped += seconds


class SlidingWindow:
    """The limit before issue 14: at most ``rate`` questions in any ``per`` seconds per user,
    whatever their cost (``bot/guards.py``'s ``Cooldown`` as it was), warned once per window."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float]) -> None:
        self.rate, self.per, self._clock = rate, per, clock
        self._uses: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    def _window(self, user_id: int) -> deque[float]:
        now, uses = self._clock(), self._uses.setdefault(user_id, deque())
        while uses and now - uses[0] >= self.per:
            uses.popleft()
        return uses

    def try_use(self, user_id: int, cost: float = 1.0) -> float:
        uses = self._window(user_id)
        if len(uses) >= self.rate:
            return max(0.1, self.per - (self._clock() - uses[0]))
        uses.append(self._clock())
        return 0.0

    def level(self, user_id: int) -> float:
        return float(self.rate - len(self._window(user_id)))

    def should_warn(self, user_id: int) -> bool:
        now = self._clock()
        if now - self._warned.get(user_id, -self.per) < self.per:
            return False
        self._warned[user_id] = now
        return True


@dataclass(frozen=True)
class Limit:
    """One cooldown setting: the bot's settings, and the limiter it runs with."""

    name: str
    questions: int
    seconds: float
    follow_up_cost: float
    sliding: bool = False  # the old sliding window instead of the token bucket

    def limiter(self, clock: Callable[[], float]) -> SlidingWindow | Cooldown:
        if self.sliding:
            return SlidingWindow(self.questions, self.seconds, clock)
        return Cooldown(self.questions, self.seconds, clock=clock)

    @property
    def overrides(self) -> dict[str, float]:
        return {
            "cooldown_questions": self.questions,
            "cooldown_seconds": self.seconds,
            "cooldown_follow_up_cost": self.follow_up_cost,
        }


LIMITS = (
    Limit("old: 5 in any 60 s, follow-ups 1", 5, 60, 1.0, sliding=True),
    Limit("default: bucket 10 / 60 s, follow-ups 0.5", 10, 60, 0.5),
    Limit("bucket 10 / 60 s, follow-ups 1", 10, 60, 1.0),
    Limit("bucket 5 / 30 s, follow-ups 0.5", 5, 30, 0.5),
)


@dataclass
class Metered:
    """A limiter that counts what it refused and the lowest level each person reached."""

    inner: SlidingWindow | Cooldown
    refused: int = 0
    lowest: dict[int, float] = field(default_factory=dict)

    def try_use(self, user_id: int, cost: float = 1.0) -> float:
        wait = self.inner.try_use(user_id, cost)
        self.refused += bool(wait)
        level = self.inner.level(user_id)
        self.lowest[user_id] = min(self.lowest.get(user_id, level), level)
        return wait

    def should_warn(self, user_id: int) -> bool:
        return self.inner.should_warn(user_id)


@dataclass(frozen=True)
class Run:
    """What became of one script (or flood) under one limit."""

    answered: int
    throttled: int
    notices: int  # "slow down" replies
    lowest: float
    times: tuple[float, ...]  # seconds from posting to the bot's first reply, answered messages
    seconds: float = 0.0  # a flood: from its first message to its last

    def time_ms(self, q: float) -> str:
        if not self.times:
            return "-"
        ordered = sorted(self.times)
        return f"{ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000:.0f}"


async def outcome(d: Discord, message: dict, meter: Metered, refused_before: int, timeout: float = 60) -> bool:
    """Whether ``message`` was answered (True) or refused by the cooldown (False)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if meter.refused > refused_before:
            return False
        if _answered(d, message):
            return True
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no answer and no refusal for {message['content']!r}")


async def joined(d: Discord) -> None:
    """Wait until the bot counts the thread as one it answered in, which it notes just after its
    reply is sent: a next message in the same instant (no person is that fast, and the pauses
    are skipped, not slept) would otherwise be taken for a message not meant for the bot."""
    while d.thread.id not in d.state.threads:
        await asyncio.sleep(0.005)


def _answered(d: Discord, message: dict) -> bool:
    return any(not _is_notice(r) for r in d.server.replies_to(message))


def _is_notice(reply: dict) -> bool:
    return (reply.get("content") or "").startswith("Slow down")


def mention(d: Discord, text: str) -> str:
    return f"<@{d.server.world.bot.id}> {text}"


async def replay(engine, limit: Limit, script: Script, pauses: list[float] | None) -> Run:
    """``script`` in a thread, against a fresh bot under ``limit``; ``pauses`` skipped after
    each answer (None: the next message at once)."""
    clock = SkippingClock()
    meter = Metered(limit.limiter(clock))
    async with running(engine, cooldown=meter, **limit.overrides) as d:
        await d.bot.wait_until_ready()
        answered, times, posted = 0, [], []
        for n, (who, text) in enumerate(script.turns):
            before, started = meter.refused, time.perf_counter()
            message = await d.server.post(getattr(d, who), d.thread, mention(d, text) if n == 0 else text)
            posted.append(message)
            if await outcome(d, message, meter, before):
                answered += 1
                times.append(time.perf_counter() - started)
                await joined(d)
            if pauses:
                clock.skip(pauses[n])
        notices = sum(1 for m in posted for r in d.server.replies_to(m) if _is_notice(r))
    return Run(answered, meter.refused, notices, min(meter.lowest.values()), tuple(times))


async def flood(engine, limit: Limit, in_thread: bool, count: int = 100, seconds: float = 10.0) -> Run:
    """One person sends ``count`` questions in ``seconds`` (real time) to a listed channel or,
    after one mention, to a thread the bot answers in."""
    meter = Metered(limit.limiter(time.monotonic))
    async with running(engine, cooldown=meter, **limit.overrides) as d:
        await d.bot.wait_until_ready()
        channel, posted = d.newsdesk, []
        if in_thread:  # the bot takes a thread's messages as follow-ups once it has answered there
            channel = d.thread
            posted.append(await d.server.post(d.carol, channel, mention(d, FLOOD_QUESTIONS[0])))
            await outcome(d, posted[0], meter, 0)
            await joined(d)
        started = time.perf_counter()
        for n in range(len(posted), count):
            posted.append(await d.server.post(d.carol, channel, FLOOD_QUESTIONS[n % len(FLOOD_QUESTIONS)]))
            await asyncio.sleep(max(0.0, started + (n + 1) * seconds / count - time.perf_counter()))  # on schedule
        took = time.perf_counter() - started
        deadline = time.perf_counter() + 120
        while sum(1 for m in posted if _answered(d, m)) + meter.refused < count:
            if time.perf_counter() > deadline:
                raise TimeoutError("the flood was neither answered nor refused in full")
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # a last notice on its way
        replies = [(m, r) for m in posted for r in d.server.replies_to(m)]
    answered = len({m["id"] for m, r in replies if not _is_notice(r)})
    notices = sum(1 for _, r in replies if _is_notice(r))
    return Run(answered, meter.refused, notices, min(meter.lowest.values()), (), took)


def build_engine(root: Path):
    """A real engine indexed over the Discord tests' seed articles (``make_seeds``)."""
    from embeddings.encoders import load_encoder
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    settings = EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=make_seeds(root / "seeds"))
    engine = Engine(settings, load_encoder(settings))
    engine.refresh()
    return engine


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7, help="the pauses' seed (7)")
    parser.add_argument("--brisk", type=float, nargs=2, default=(3.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--human", type=float, nargs=2, default=(8.0, 20.0), metavar=("MIN", "MAX"))
    parser.add_argument("--no-flood", action="store_true", help="skip the floods")
    parser.add_argument("--no-scripts", action="store_true", help="skip the conversations")
    return parser.parse_args(argv)


async def measure(engine, args: argparse.Namespace) -> None:
    rng = random.Random(args.seed)
    paces = {"fast": None, "brisk": tuple(args.brisk), "human": tuple(args.human)}
    pauses = {
        (pace, s.name): [rng.uniform(*bounds) for _ in s.turns] if bounds else None
        for pace, bounds in paces.items()
        for s in SCRIPTS
    }
    print("| limit | script | pace | answered | throttled | notices | lowest level | answer p50 / p95 ms |")
    print("|---|---|---|---|---|---|---|---|")
    for limit in () if args.no_scripts else LIMITS:
        for script in SCRIPTS:
            for pace in paces:
                run = await replay(engine, limit, script, pauses[pace, script.name])
                print(
                    f"| {limit.name} | {script.name} ({len(script.turns)}) | {pace} | {run.answered} | "
                    f"{run.throttled} | {run.notices} | {run.lowest:.1f} | {run.time_ms(0.5)} / {run.time_ms(0.95)} |",
                    flush=True,
                )
    if args.no_flood:
        return
    print("\n| limit | flood | sent in | answered | throttled | notices |")
    print("|---|---|---|---|---|---|")
    for limit in LIMITS:
        for in_thread in (False, True):
            run = await flood(engine, limit, in_thread)
            where = "thread (follow-ups)" if in_thread else "listed channel"
            print(
                f"| {limit.name} | 100 in 10 s, {where} | {run.seconds:.1f} s | {run.answered} | "
                f"{run.throttled} | {run.notices} |",
                flush=True,
            )


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is the bundled package
    info = machine()
    print(f"# load average at the start: {os.getloadavg()[0]:.1f}")
    print(f"# {info['cpu']} ({info['cpu_kind']}), {info['cores']} cores, {info['date']}")
    print(
        f"# pauses after each answer: brisk {args.brisk[0]:g}-{args.brisk[1]:g} s, "
        f"human {args.human[0]:g}-{args.human[1]:g} s (uniform, seed {args.seed}; skipped, not slept)"
    )
    with tempfile.TemporaryDirectory(prefix="newsbot-conversation-") as root:
        started = time.perf_counter()
        engine = build_engine(Path(root))
        asyncio.run(measure(engine, args))
        print(f"\n# {time.perf_counter() - started:.0f} s in all; load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
