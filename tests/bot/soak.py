"""The soak: many simulated people asking the real bot (unmodified discord.py, the real engine)
over the fake Discord at once, with a /reload in the middle, and a flooding user.

Run by ``tests/bot/test_discord_soak.py``: a CI-sized run by default, any size when
``benchmarks/soak.py`` runs that test module with the sizes in the environment (``from_env``),
so the two measure exactly the same thing.

What a run does and checks:

* ``run_soak``: ``users`` people ask ``questions`` questions, at most ``concurrency`` waiting for
  an answer at any moment; each person asks one question at a time. Questions are mentions in
  #general, plain messages in the listed #newsdesk, /ask interactions, and follow-ups (a reply
  to the person's previous answer). Before the run an article is added to the seeds folder; an
  admin runs /reload when ``reload_at`` of the questions have been asked, so answers about that
  article go from "not found" (old index) to an answer citing it (new index).
  Every answer is matched to its question through the reply's message reference, or the
  interaction's token, and compared with what the engine answers over the old and over the new
  index: it must be exactly one of the two. Questions answered before /reload was sent must have
  the old answer; questions asked after its report arrived, the new one.
* Memory: three readings, each with no question in flight, after a forced garbage collection:
  the process RSS and the number of live Python objects, after the warm-up (``warmup`` of the
  questions), after the /reload (and a quarter of the questions that follow it), and at the
  end; a sampler keeps the peak RSS meanwhile. The limits are ``STEADY_RSS_MIB``,
  ``RUN_RSS_MIB`` and ``STEADY_OBJECTS_PER_QUESTION`` below. The fake Discord keeps every
  message, request and gateway event it ever saw (real Discord keeps them on its own servers,
  not in the bot's process), so what the soak has finished with is dropped from it as it goes,
  and the soak itself keeps no object per question that the garbage collector would count.
* ``run_flood``: a tight cooldown; a few people ask at a pace the cooldown allows, first alone,
  then while one person floods (mentions and /ask as fast as ``flood_hz``), then alone again.
  The flooder must get at most the cooldown's share of answers and one "slow down" per window;
  the others must never be refused, and their p95 latency with the flood must stay close to
  without it.

Everything runs on one event loop in one process (the fake server, discord.py and the bot), as
in the other Discord tests: latencies include the fake server's share of the CPU, and the RSS is
the whole process's.
"""

from __future__ import annotations

import asyncio
import ctypes
import dataclasses
import gc
import json
import math
import os
import random
import re
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import psutil

from bot.replies import answer_embeds, answer_text

from ..fakediscord import FakeDiscord
from ..fakediscord.payloads import User, snowflake
from .conftest import Discord, make_seeds, running

T = TypeVar("T")

# -- what is asked --

SPACEPORT_FILE = "spaceport.md"
SPACEPORT_TITLE = "Norland picks Kessa island for its first spaceport"
SPACEPORT = f"""---
title: {SPACEPORT_TITLE}
published: 2024-08-05
source: Norland Financial Times
---

KESSA : The government of Norland chose Kessa island for the country's first spaceport, \
the national space agency said on Monday.

The first rocket launch from the Kessa spaceport is planned for October 2026. \
Building the launch site will cost 800 million crowns, agency director Ines Marr said.
"""
NEW_QUESTION = "When is the first rocket launch from the Kessa spaceport?"  # only the new index knows

QUESTIONS = (
    "When will the SCO security council secretaries meet?",
    "Who will chair the SCO meeting?",
    "Where will the SCO security council meeting be held?",
    "Who won the Portmere marathon?",
    "How many runners started the Portmere marathon?",
    "When will next year's Portmere marathon take place?",
    "How much did the harbour bridge cost?",
    "Who cut the ribbon at the harbour bridge?",
    "When did the harbour bridge open?",
    "When is the next rate meeting of the Norland central bank?",
    "Who is the governor of the Norland central bank?",
    "How many hectares did the wildfire burn?",
    "How many villages were evacuated in the wildfire?",
    "When is the town hall on harbour bridge tolls?",
    "Who said residents would be asked about weekend tolls?",
    "Who won the Tour de France?",  # a refusal, in both indexes
)
FOLLOW_UPS = ("and where?", "and who said so?")

KINDS = ("mention", "channel", "ask", "followup")
KIND_WEIGHTS = (35, 30, 25, 10)
NEW_QUESTION_SHARE = 0.15

SOAK_COOLDOWN = {"cooldown_questions": 1000, "cooldown_seconds": 60.0}  # 40 questions a person fit easily

# -- what a run must keep to (``SoakResult.problems``, ``FloodResult.problems``) --
#
# Memory. At the first reading every cache of the bot is full (discord.py's 1,000 messages, the
# engine's query vectors of the ~50 distinct questions) and the /reload that follows is the one
# allocation the run expects: a second index is loaded while the first still answers, and
# glibc keeps freed memory in its arenas. Measured on the 2-core machine (2,000 questions):
# +8 to +14 MiB across the reload, +0.4 to +2 MiB from after the reload to the end, and about
# +1 live object per question in that stretch (which messages discord.py's cache holds varies).
# A leak of one message or answer per question costs 5-10 KiB and 10 or more objects per
# question: over the 750 questions after the reload that is 4-7 MiB, and at least 7,500 objects.
# Since the session that added feedback, timelines, the Postgres backend and measured encoder
# variants (2026-12-02, AVX2 machine) the reload itself costs +31 to +41 MiB, with the growth after
# it unchanged (+0.4 to +0.5 MiB over 750 questions): a one-time allocation whose source is
# still to be found (an open point of that session's note), not a per-question leak, which the
# STEADY_* limits catch.
STEADY_RSS_MIB = 8.0  # after the reload to the end
RUN_RSS_MIB = 48.0  # after the warm-up to the end, the reload included
STEADY_OBJECTS_PER_QUESTION = 3.0  # live Python objects, after the reload to the end
# Flooding: the others' p95 with the flood within this of their p95 without (the worse of the
# calm phase before and the one after, which absorbs the machine's own noise).
FLOOD_P95_FACTOR = 1.5
FLOOD_P95_SLACK = 0.05  # seconds


def seeds_for_soak(folder: Path) -> Path:
    """The Discord tests' seed folder (``make_seeds``); the soak adds SPACEPORT before /reload."""
    return make_seeds(folder)


def add_new_article(seeds: Path) -> None:
    (seeds / SPACEPORT_FILE).write_text(SPACEPORT, encoding="utf-8")


# -- the fake Discord, watched --


@dataclass
class Reply:
    """One message the bot sent in answer to a question (or a slash command)."""

    at: float  # perf_counter when the fake server handled the request
    kind: str  # "message" (channel reply), "initial" (callback type 4), "edit", "followup"
    body: dict | None  # the request body the bot sent, dropped once checked
    message_id: str | None


class SoakDiscord(FakeDiscord):
    """The fake Discord, noting every bot answer as it is sent: keyed by the question's message
    id (from the message reference the bot sent) or by the interaction's token.

    Additive only: it watches ``_route``'s results and never changes them.
    """

    def __init__(self, *, extra_users: int = 0, keep_all: bool = False, **options: Any) -> None:
        super().__init__(**options)
        self.people: list[User] = []
        for i in range(extra_users):  # in the server's member list before the bot connects
            person = User(snowflake(), f"reader{i:03}")
            self.world.users[person.name] = person
            self.people.append(person)
        # How many answer messages each key got. Only the first reply itself is kept, until it is
        # taken (``first_reply``), so that the soak holds no Python object per question that
        # would look like a leak; ``keep_all`` keeps every reply (the flood run reads them all).
        self.reply_counts: dict[tuple[str, str], int] = {}
        self.all_replies: dict[tuple[str, str], list[Reply]] | None = {} if keep_all else None
        self.strays: list[tuple[str, str]] = []  # bot messages that answer no known question
        self._first: dict[tuple[str, str], Reply] = {}
        self._waiters: dict[tuple[str, str], asyncio.Future] = {}

    async def _route(self, request, call):
        response = await super()._route(request, call)
        if 200 <= response.status < 300:
            self._observe(call, response)
        return response

    def _observe(self, call, response) -> None:
        now = time.perf_counter()
        path, body = call.path, call.body if isinstance(call.body, dict) else {}
        if call.method == "POST" and (m := re.fullmatch(r"/channels/\d+/messages", path)):
            ref = body.get("message_reference") or {}
            message_id = _response_id(response)
            if "message_id" in ref:
                self._note(("m", str(ref["message_id"])), Reply(now, "message", body, message_id))
            else:
                self.strays.append(("message", (body.get("content") or "")[:80]))
        elif m := re.fullmatch(r"/interactions/\d+/(?P<token>[^/]+)/callback", path):
            if body.get("type") == 4:
                self._note(("i", m["token"]), Reply(now, "initial", body.get("data") or {}, None))
        elif call.method == "PATCH" and (m := re.fullmatch(r"/webhooks/\d+/(?P<token>[^/]+)/messages/@original", path)):
            self._note(("i", m["token"]), Reply(now, "edit", body, None))
        elif call.method == "POST" and (m := re.fullmatch(r"/webhooks/\d+/(?P<token>[^/]+)", path)):
            self._note(("i", m["token"]), Reply(now, "followup", body, None))

    def _note(self, key: tuple[str, str], reply: Reply) -> None:
        count = self.reply_counts[key] = self.reply_counts.get(key, 0) + 1
        if self.all_replies is not None:
            self.all_replies.setdefault(key, []).append(reply)
        if count > 1:
            return
        waiter = self._waiters.pop(key, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(reply)
        else:
            self._first[key] = reply

    async def first_reply(self, key: tuple[str, str], timeout: float) -> Reply:
        """The first answer to ``key`` (taken: a second call waits for nothing), waiting for it
        when it has not come yet."""
        if key in self._first:
            return self._first.pop(key)
        waiter = self._waiters.setdefault(key, asyncio.get_running_loop().create_future())
        try:
            return await asyncio.wait_for(asyncio.shield(waiter), timeout)
        finally:
            self._waiters.pop(key, None)

    def forget(self, *message_ids: str | int | None, token: str | None = None) -> None:
        """Drop what the soak has finished with: messages, an interaction, successful calls."""
        for mid in message_ids:
            if mid is not None:
                self.messages.pop(int(mid), None)
        if token is not None:
            ix = self.interactions.pop(token, None)
            if ix is not None and ix.original is not None:
                self.messages.pop(int(ix.original["id"]), None)

    def compact(self) -> None:
        """Forget the REST calls that succeeded (unfinished and rejected ones stay for the
        checks), and the gateway events that connected sessions have been sent (kept for a
        RESUME; the soak drops no connection)."""
        self.calls[:] = [c for c in self.calls if c.status == 0 or c.status >= 400]
        for session in self.sessions:
            backlog = getattr(session, "backlog", None)
            if backlog is not None and session.ready.is_set() and not getattr(self, "detached", None):
                backlog.clear()


def _response_id(response) -> str | None:
    try:
        return json.loads(response.body)["id"]
    except (TypeError, ValueError, KeyError):
        return None


# -- expected answers --


@dataclass(frozen=True)
class Expected:
    """What one question, in one of the two channel forms, renders to over an index."""

    text: str  # the channel reply (one message)
    embeds: tuple  # the /ask reply's first message, as comparable embed parts


def _embed_parts(embed: dict) -> tuple:
    fields = tuple((f.get("name"), f.get("value")) for f in embed.get("fields") or [])
    return (embed.get("title"), embed.get("description"), fields, (embed.get("footer") or {}).get("text"))


def expected_for(engine, question: str, history: tuple[str, ...] = ()) -> Expected:
    answer = engine.answer(question, history)
    chunks = answer_text(answer)
    groups = answer_embeds(answer)
    if len(chunks) != 1 or len(groups) != 1:
        raise AssertionError(f"the soak expects one-message answers; {question!r} needs more")
    return Expected(chunks[0], tuple(_embed_parts(e.to_dict()) for e in groups[0]))


def expectations(engine) -> dict[tuple[str, tuple[str, ...]], Expected]:
    """Every (question, history) the soak can ask, rendered over ``engine``'s current index."""
    wanted = [(q, ()) for q in (*QUESTIONS, NEW_QUESTION)]
    wanted += [(f, (q,)) for q in (*QUESTIONS, NEW_QUESTION) for f in FOLLOW_UPS]
    return {(q, h): expected_for(engine, q, h) for q, h in wanted}


def preview_engine(engine, seeds: Path, root: Path):
    """What ``engine`` will answer after /reload, known before the soak starts: an engine over a
    copy of its index and of ``seeds`` with the new article, updated the way /reload updates.

    A copy rather than a fresh build, because a fresh build is not the same index: with the
    int8 ONNX encoder an article's vectors depend slightly on the other texts of its batch, so
    a rebuild of all articles scores a little differently from an incremental update.
    """
    from embeddings.engine import Engine

    folder, data = root / "preview-seeds", root / "preview-data"
    shutil.copytree(seeds, folder)
    shutil.copytree(engine.settings.data_dir, data, ignore=shutil.ignore_patterns(".lock", "models"))
    add_new_article(folder)
    settings = engine.settings.model_copy(update={"data_dir": data, "seeds_dir": folder})
    preview = Engine(settings, engine.encoder)
    preview.refresh()
    return preview


# -- the run --


def from_env(config: T, prefix: str) -> T:
    """``config`` with each field that the environment names as ``PREFIX_FIELD`` (``SOAK_USERS``)
    read from it: how ``benchmarks/soak.py`` sizes a run without importing the tests."""
    changes = {}
    for field in dataclasses.fields(config):
        raw = os.environ.get(f"{prefix}{field.name.upper()}")
        if raw is not None:
            changes[field.name] = type(getattr(config, field.name))(raw)
    return dataclasses.replace(config, **changes)


@dataclass
class SoakConfig:
    questions: int = 2000
    users: int = 50
    concurrency: int = 20
    reload_at: float = 0.5  # share of the questions asked when /reload is sent
    warmup: float = 0.25  # share of the questions before the first memory reading
    seed: int = 7
    answer_timeout: float = 60.0


@dataclass(slots=True)
class Asked:
    """One question of the soak and what became of it."""

    n: int
    user: int
    kind: str
    text: str
    history: tuple[str, ...]
    key: tuple[str, str] | None = None
    sent: float = 0.0
    answered: float | None = None
    outcome: str = "lost"  # "old", "new", or what was wrong with the answer
    parent: str | None = None  # a follow-up: the answer message it replies to

    @property
    def latency(self) -> float | None:
        return None if self.answered is None else self.answered - self.sent


@dataclass
class MemoryReading:
    rss: int
    objects: int


@dataclass
class SoakResult:
    config: SoakConfig
    asked: list[Asked]
    seconds: float
    warm: MemoryReading  # after the warm-up
    mid: MemoryReading  # after /reload and a quarter of what follows it
    end: MemoryReading
    peak_rss: int
    peak_at: float  # perf_counter of the peak sample
    started: float  # perf_counter at the first question
    reload_sent: float | None  # perf_counter when /reload was sent
    reload_done: float | None  # ... and when its report arrived
    reload_report: str
    replies: dict[tuple[str, str], int]  # number of answer messages per question key
    strays: list
    bot_latencies: Any
    questions_after: tuple[int, int]  # questions between warm and mid, and mid and end

    # The figures the test asserts on and the benchmark prints.

    @property
    def latencies(self) -> list[float]:
        return sorted(a.latency for a in self.asked if a.latency is not None)

    @property
    def lost(self) -> list[Asked]:
        return [a for a in self.asked if a.answered is None]

    @property
    def duplicated(self) -> list[Asked]:
        return [a for a in self.asked if a.key is not None and self.replies.get(a.key, 0) > 1]

    @property
    def wrong(self) -> list[Asked]:
        return [a for a in self.asked if a.answered is not None and a.outcome not in ("old", "new", "same")]

    @property
    def out_of_order(self) -> list[Asked]:
        """Answered before /reload was sent yet from the new index, or asked after its report and
        from the old one."""
        bad = []
        for a in self.asked:
            if a.answered is None or self.reload_sent is None:
                continue
            if a.answered < self.reload_sent and a.outcome == "new":
                bad.append(a)
            if self.reload_done is not None and a.sent > self.reload_done and a.outcome == "old":
                bad.append(a)
        return bad

    def count(self, outcome: str, text: str | None = None) -> int:
        return sum(1 for a in self.asked if a.outcome == outcome and (text is None or a.text == text))

    @property
    def rss_growth(self) -> int:
        """From the end of the warm-up to the end, the reload included."""
        return self.end.rss - self.warm.rss

    @property
    def steady_rss_growth(self) -> int:
        """From after the reload to the end: questions only."""
        return self.end.rss - self.mid.rss

    @property
    def object_growth(self) -> int:
        return self.end.objects - self.warm.objects

    def table(self) -> list[tuple[str, str]]:
        lat = self.latencies
        c = self.config
        kinds = {k: sum(1 for a in self.asked if a.kind == k) for k in KINDS}
        return [
            ("questions", f"{len(self.asked)} ({', '.join(f'{k} {v}' for k, v in kinds.items())})"),
            ("users / concurrency", f"{c.users} / {c.concurrency}"),
            (
                "answered",
                f"{len(lat)}; lost {len(self.lost)}, duplicated {len(self.duplicated)}, "
                f"wrong {len(self.wrong)}, stray {len(self.strays)}",
            ),
            (
                "old / new / same in both",
                f"{self.count('old')} / {self.count('new')} / {self.count('same')} "
                f"(new-article question: {self.count('old', NEW_QUESTION)} not found, "
                f"{self.count('new', NEW_QUESTION)} answered)",
            ),
            (
                "reload",
                f"sent at {self.reload_sent - self.started:.1f} s, report at "
                f"{(self.reload_done or self.started) - self.started:.1f} s"
                if self.reload_sent is not None
                else "none",
            ),
            ("wall time", f"{self.seconds:.1f} s ({len(lat) / self.seconds:.1f} answers/s)"),
            (
                "latency p50 / p95 / max",
                f"{percentile(lat, 0.5) * 1000:.0f} / {percentile(lat, 0.95) * 1000:.0f} / "
                f"{(lat[-1] if lat else 0) * 1000:.0f} ms",
            ),
            (
                "bot's engine p50 / p95",
                f"{self.bot_latencies.p50 * 1000:.0f} / {self.bot_latencies.p95 * 1000:.0f} ms"
                if self.bot_latencies
                else "n/a",
            ),
            ("peak RSS", f"{mib(self.peak_rss)} (at {self.peak_at - self.started:.1f} s)"),
            ("RSS warm-up / after reload / end", f"{mib(self.warm.rss)} / {mib(self.mid.rss)} / {mib(self.end.rss)}"),
            (
                "RSS growth, whole run after warm-up",
                f"{self.rss_growth / 2**20:+.1f} MiB over {sum(self.questions_after)} "
                f"questions ({self.rss_growth / max(1, sum(self.questions_after)) / 1024:+.2f} KiB each)",
            ),
            (
                "RSS growth, after reload",
                f"{self.steady_rss_growth / 2**20:+.1f} MiB over {self.questions_after[1]} "
                f"questions ({self.steady_rss_growth / max(1, self.questions_after[1]) / 1024:+.2f} KiB each)",
            ),
            (
                "live objects warm-up / reload / end",
                f"{self.warm.objects:,} / {self.mid.objects:,} / {self.end.objects:,} ({self.object_growth:+,})",
            ),
        ]

    def summary(self) -> str:
        return "\n".join(f"  {name:<36} {value}" for name, value in self.table())

    def problems(self) -> list[str]:
        """Everything the run got wrong; empty for a good run."""
        found = [
            *(f"lost: #{a.n} {a.kind} {a.text!r}" for a in self.lost),
            *(f"answered {self.replies[a.key]} times: #{a.n} {a.kind} {a.text!r}" for a in self.duplicated),
            *(f"wrong answer: #{a.n} {a.kind} {a.text!r}: {a.outcome}" for a in self.wrong),
            *(f"{a.outcome} index at the wrong time: #{a.n} {a.kind} {a.text!r}" for a in self.out_of_order),
            *(f"a bot message that answers nothing: {s}" for s in self.strays),
        ]
        if self.config.reload_at < 1:
            if not self.reload_report.startswith("**Reload finished**") or "1 added" not in self.reload_report:
                found.append(f"/reload did not report the added article: {self.reload_report[:200]!r}")
            if not self.count("old", NEW_QUESTION) or not self.count("new", NEW_QUESTION):
                found.append("the new-article question was not seen answered by both indexes")
        if self.steady_rss_growth > STEADY_RSS_MIB * 2**20:
            found.append(
                f"RSS grew {self.steady_rss_growth / 2**20:.1f} MiB after the reload (limit {STEADY_RSS_MIB} MiB)"
            )
        if self.rss_growth > RUN_RSS_MIB * 2**20:
            found.append(f"RSS grew {self.rss_growth / 2**20:.1f} MiB after the warm-up (limit {RUN_RSS_MIB} MiB)")
        steady_objects = self.end.objects - self.mid.objects
        if steady_objects > STEADY_OBJECTS_PER_QUESTION * self.questions_after[1]:
            found.append(
                f"{steady_objects:+,} live objects over the last {self.questions_after[1]} questions "
                f"(limit {STEADY_OBJECTS_PER_QUESTION} each)"
            )
        return found


def percentile(ordered: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def memory_now() -> MemoryReading:
    gc.collect()
    gc.collect()
    return MemoryReading(psutil.Process().memory_info().rss, len(gc.get_objects()))


def release_garbage() -> None:
    """Collect garbage and hand free heap memory back to the system (glibc only), so that what
    the set-up left behind (the expected answers, the preview index) is not the soak's peak."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def plan(config: SoakConfig) -> list[Asked]:
    """Who asks what, in which form: person n % users asks question n."""
    rng = random.Random(config.seed)
    asked = []
    for n in range(config.questions):
        text = NEW_QUESTION if rng.random() < NEW_QUESTION_SHARE else rng.choice(QUESTIONS)
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        asked.append(Asked(n, n % config.users, kind, text, ()))
    return asked


class _PeakRss:
    """Samples the process RSS every ``every`` seconds while running."""

    def __init__(self, every: float = 0.2) -> None:
        self.every, self.peak, self.at = every, 0, 0.0
        self._task: asyncio.Task | None = None

    def __enter__(self) -> _PeakRss:
        async def sample() -> None:
            process = psutil.Process()
            while True:
                rss = process.memory_info().rss
                if rss > self.peak:
                    self.peak, self.at = rss, time.perf_counter()
                await asyncio.sleep(self.every)

        self._task = asyncio.get_running_loop().create_task(sample())
        return self

    def __exit__(self, *exc) -> None:
        self._task.cancel()


class _Soak:
    """One soak run against a connected bot."""

    def __init__(self, d: Discord, config: SoakConfig, old: dict, new: dict, seeds: Path) -> None:
        self.d, self.server, self.config = d, d.server, config
        self.old, self.new, self.seeds = old, new, seeds
        self.people = self.server.people
        self.mention = f"<@{self.server.world.bot.id}> "
        self.sem = asyncio.Semaphore(config.concurrency)
        self.started = 0.0
        self.posted = 0
        self.finished = 0
        self.last_answer: dict[int, tuple[Asked, str, str]] = {}  # person -> (question, its id, answer id)
        self.reload_task: asyncio.Task | None = None
        self.reload_sent: float | None = None
        self.reload_done: float | None = None
        self.reload_report = ""

    async def run(self, asked: list[Asked]) -> SoakResult:
        c, n = self.config, len(asked)
        warm_at = max(1, min(n, int(c.questions * c.warmup)))
        # The second reading comes a quarter of the rest after /reload is sent, once it is done.
        mid_at = max(warm_at, min(n, int(c.questions * (c.reload_at + (1 - c.reload_at) / 4))))
        readings: list[MemoryReading] = []
        paused = 0.0
        release_garbage()
        with _PeakRss() as peak:
            self.started = time.perf_counter()
            for batch in (asked[:warm_at], asked[warm_at:mid_at], asked[mid_at:]):
                await self._batch(batch)
                if self.reload_task is not None:
                    await self.reload_task
                pause = time.perf_counter()
                await asyncio.sleep(0.5)  # anything late (a duplicate) arrives now
                self.server.compact()
                readings.append(memory_now())
                paused += time.perf_counter() - pause
            seconds = time.perf_counter() - self.started - paused
        self._drop_kept()
        replies = {a.key: self.server.reply_counts.get(a.key, 0) for a in asked if a.key is not None}
        return SoakResult(
            config=c,
            asked=asked,
            seconds=seconds,
            warm=readings[0],
            mid=readings[1],
            end=readings[2],
            peak_rss=peak.peak,
            peak_at=peak.at,
            started=self.started,
            reload_sent=self.reload_sent,
            reload_done=self.reload_done,
            reload_report=self.reload_report,
            replies=replies,
            strays=list(self.server.strays),
            bot_latencies=self.d.state.latencies.summary(),
            questions_after=(mid_at - warm_at, n - mid_at),
        )

    async def _batch(self, asked: list[Asked]) -> None:
        by_person: dict[int, list[Asked]] = {}
        for a in asked:
            by_person.setdefault(a.user, []).append(a)
        await asyncio.gather(*(self._person(items) for items in by_person.values()))

    async def _person(self, items: list[Asked]) -> None:
        for a in items:
            async with self.sem:
                self.posted += 1
                if self.reload_task is None and self.posted >= self.config.questions * self.config.reload_at:
                    self.reload_task = asyncio.create_task(self._reload())
                await self._ask(a)

    async def _ask(self, a: Asked) -> None:
        s, person = self.server, self.people[a.user]
        parent = self.last_answer.get(a.user) if a.kind == "followup" else None
        if a.kind == "followup" and parent is None:
            a.kind = "mention"  # nothing to follow up yet
        if a.kind == "followup":
            first, _, answer_id = parent
            a.history = (first.text,)
            a.text = FOLLOW_UPS[a.n % len(FOLLOW_UPS)]
            a.parent = answer_id
        a.sent = time.perf_counter()
        if a.kind == "ask":
            ix = await s.slash(person, "ask", s.world.channels["general"], question=a.text)
            a.key = ("i", ix.token)
        else:
            channel = s.world.channels["newsdesk" if a.kind == "channel" else "general"]
            content = self.mention + a.text if a.kind == "mention" else a.text
            reply_to = s.messages.get(int(a.parent)) if a.parent else None
            msg = await s.post(person, channel, content, reply_to=reply_to)
            a.key = ("m", msg["id"])
        try:
            reply = await s.first_reply(a.key, self.config.answer_timeout)
        except TimeoutError:
            return
        a.answered = reply.at
        a.outcome = self._judge(a, reply)
        self._done(a, reply)

    def _judge(self, a: Asked, reply: Reply) -> str:
        """ "old" or "new": the answer the old or the new index gives ("same" when both give the
        same one); else what is wrong with it."""
        key = (a.text, a.history)
        old, new = self.old.get(key), self.new.get(key)
        if reply.kind == "message":
            got, forms = reply.body.get("content"), (old and old.text, new and new.text)
        elif reply.kind == "edit":
            got = tuple(_embed_parts(e) for e in reply.body.get("embeds") or [])
            forms = (old and old.embeds, new and new.embeds)
        else:
            got, forms = None, (None, None)
        if got is not None and got in forms:
            return "same" if forms[0] == forms[1] else "old" if got == forms[0] else "new"
        shown = reply.body.get("content") or json.dumps(reply.body.get("embeds"))[:300]
        return f"unexpected {reply.kind}: {shown[:300]!r}"

    def _done(self, a: Asked, reply: Reply) -> None:
        """Forget, in the fake, what this question no longer needs; keep a person's last plain
        answer (and so its question) for a follow-up."""
        reply.body = None
        s = self.server
        if a.key[0] == "i":
            s.forget(token=a.key[1])
        elif a.kind == "followup":
            s.forget(a.key[1], reply.message_id)
        else:
            previous = self.last_answer.get(a.user)
            self.last_answer[a.user] = (a, a.key[1], reply.message_id)
            if previous is not None:
                s.forget(previous[1], previous[2])
        self.finished += 1
        if self.finished % 200 == 0:
            s.compact()

    def _drop_kept(self) -> None:
        for _, question_id, answer_id in self.last_answer.values():
            self.server.forget(question_id, answer_id)
        self.last_answer.clear()

    async def _reload(self) -> None:
        s = self.server
        add_new_article(self.seeds)  # the seeds change, then an admin reloads
        self.reload_sent = time.perf_counter()
        ix = await s.slash(s.world.users["carol"], "reload")  # carol has an admin role
        finished = await s.wait_for(
            lambda: ix.original and (ix.original.get("content") or "").startswith("**Reload finished**"), timeout=120
        )
        self.reload_done = time.perf_counter()
        self.reload_report = ix.original["content"]
        assert finished
        s.forget(token=ix.token)


def run_soak(engine, seeds: Path, workdir: Path, config: SoakConfig) -> SoakResult:
    """Run the soak against a fresh fake Discord and bot over ``engine`` (built over ``seeds``,
    which gets the new article just before /reload). Raises when the fake saw anything that
    every Discord test forbids (pings, rejected requests, bugs in the fake)."""
    old = expectations(engine)
    preview = preview_engine(engine, seeds, workdir)
    new = expectations(preview)
    if old[(NEW_QUESTION, ())] == new[(NEW_QUESTION, ())]:
        raise AssertionError("the new article does not change the answer to NEW_QUESTION")
    asked = plan(config)

    async def main() -> tuple[SoakResult, SoakDiscord]:
        server = SoakDiscord(extra_users=config.users)
        async with running(engine, server, **SOAK_COOLDOWN) as d:
            result = await _Soak(d, config, old, new, seeds).run(asked)
        return result, server

    result, server = asyncio.run(main())
    check_rules(server)
    return result


def check_rules(server: FakeDiscord, allow_status: Sequence[int] = ()) -> None:
    """What ``play`` checks after every Discord test."""
    assert not server.errors, server.errors
    assert server.pings == [], f"pinged: {[(c.path, who) for c, who in server.pings]}"
    rejected = [
        (c.method, c.path, c.status, c.body) for c in server.calls if c.status >= 400 and c.status not in allow_status
    ]
    assert not rejected, f"Discord would have rejected: {rejected[:10]}"


# -- flooding --


@dataclass
class FloodConfig:
    people: int = 10  # who ask at a pace the cooldown allows
    questions: int = 10  # each, per phase (100 latencies a phase)
    cooldown_questions: int = 4
    cooldown_seconds: float = 2.0
    flood_hz: float = 20.0  # the flooder's messages (and /ask) per second
    seed: int = 11

    @property
    def pace(self) -> float:
        """Seconds between one person's questions: (rate - 1) questions per window, never over."""
        return self.cooldown_seconds / (self.cooldown_questions - 1) * 1.05


@dataclass
class FloodResult:
    config: FloodConfig
    calm: list[float]  # others' latencies before and after the flood (sorted)
    flooded: list[float]  # others' latencies during it (sorted)
    calm_p95s: tuple[float, float]
    others_refused: int
    others_lost: int
    flood_sent: int
    flood_answered: int  # real answers to the flooder
    flood_warned: int  # "slow down" replies (channel) to the flooder
    flood_refused_ask: int  # ephemeral "slow down" to the flooder's /ask
    flood_seconds: float

    @property
    def calm_p95(self) -> float:
        return max(self.calm_p95s)

    @property
    def flooded_p95(self) -> float:
        return percentile(self.flooded, 0.95)

    @property
    def allowed_answers(self) -> int:
        """The most answers a sliding window of ``rate`` per ``per`` lets through in the flood."""
        c = self.config
        return c.cooldown_questions * (math.ceil(self.flood_seconds / c.cooldown_seconds) + 1)

    @property
    def allowed_warnings(self) -> int:
        return math.ceil(self.flood_seconds / self.config.cooldown_seconds) + 1

    def table(self) -> list[tuple[str, str]]:
        c = self.config
        return [
            ("cooldown", f"{c.cooldown_questions} per {c.cooldown_seconds:g} s; others ask every {c.pace:.2f} s"),
            (
                "others, calm p50 / p95",
                f"{percentile(self.calm, 0.5) * 1000:.0f} / {self.calm_p95 * 1000:.0f} ms "
                f"(p95 before {self.calm_p95s[0] * 1000:.0f}, after {self.calm_p95s[1] * 1000:.0f})",
            ),
            (
                "others, flooded p50 / p95",
                f"{percentile(self.flooded, 0.5) * 1000:.0f} / {self.flooded_p95 * 1000:.0f} ms",
            ),
            ("others refused / lost", f"{self.others_refused} / {self.others_lost}"),
            (
                "flooder",
                f"{self.flood_sent} sent in {self.flood_seconds:.1f} s; {self.flood_answered} answered "
                f"(at most {self.allowed_answers}), {self.flood_warned} told to slow down "
                f"(at most {self.allowed_warnings}), {self.flood_refused_ask} /ask refused",
            ),
        ]

    def summary(self) -> str:
        return "\n".join(f"  {name:<36} {value}" for name, value in self.table())

    def problems(self) -> list[str]:
        c, found = self.config, []
        if self.others_refused or self.others_lost:
            found.append(
                f"people within the cooldown were refused {self.others_refused} times, lost {self.others_lost} answers"
            )
        if not c.cooldown_questions <= self.flood_answered <= self.allowed_answers:
            found.append(
                f"the flooder got {self.flood_answered} answers (expected {c.cooldown_questions} to "
                f"{self.allowed_answers})"
            )
        if not 1 <= self.flood_warned <= self.allowed_warnings:
            found.append(
                f"the flooder was told to slow down {self.flood_warned} times in the channel "
                f"(expected 1 to {self.allowed_warnings})"
            )
        if not self.flood_refused_ask:
            found.append("the flooder's /ask was never refused")
        if self.flooded_p95 > FLOOD_P95_FACTOR * self.calm_p95 + FLOOD_P95_SLACK:
            found.append(
                f"the others' p95 went from {self.calm_p95 * 1000:.0f} ms to {self.flooded_p95 * 1000:.0f} ms "
                f"with the flood (limit {FLOOD_P95_FACTOR} × + {FLOOD_P95_SLACK * 1000:.0f} ms)"
            )
        return found


SLOW_DOWN = "Slow down a little, please"


def run_flood(engine, config: FloodConfig) -> FloodResult:
    """Others alone, others with a flooder, others alone again, against one bot with a tight
    cooldown."""

    for question in QUESTIONS:  # the first encoding of a question is not what is measured
        engine.answer(question)

    async def main() -> tuple[FloodResult, SoakDiscord]:
        server = SoakDiscord(extra_users=config.people + 1, keep_all=True)
        overrides = {"cooldown_questions": config.cooldown_questions, "cooldown_seconds": config.cooldown_seconds}
        async with running(engine, server, **overrides) as d:
            flood = _Flood(d, config)
            before = await flood.others()
            await asyncio.sleep(config.cooldown_seconds)  # every window empty again
            stop = asyncio.Event()
            flooder = asyncio.create_task(flood.flooder(stop))
            flooded = await flood.others()
            stop.set()
            await flooder
            await asyncio.sleep(config.cooldown_seconds)
            after = await flood.others()
            await asyncio.sleep(0.5)
            result = flood.result(before, flooded, after)
        return result, server

    result, server = asyncio.run(main())
    check_rules(server)
    return result


class _Flood:
    def __init__(self, d: Discord, config: FloodConfig) -> None:
        self.d, self.server, self.config = d, d.server, config
        self.others_people = self.server.people[: config.people]
        self.flooder_person = self.server.people[config.people]
        self.mention = f"<@{self.server.world.bot.id}> "
        self.refused = self.lost = 0
        self.flood_keys: list[tuple[str, str]] = []
        self.flood_started = self.flood_stopped = 0.0
        self.rng = random.Random(config.seed)

    async def others(self) -> list[float]:
        latencies: list[float] = []

        async def person(p: User, offset: float) -> None:
            await asyncio.sleep(offset)  # spread the people over one pace
            for _ in range(self.config.questions):
                started = time.perf_counter()
                text = self.rng.choice(QUESTIONS)
                msg = await self.server.post(p, self.server.world.channels["newsdesk"], text)
                try:
                    reply = await self.server.first_reply(("m", msg["id"]), 30)
                except TimeoutError:
                    self.lost += 1
                else:
                    if (reply.body.get("content") or "").startswith(SLOW_DOWN):
                        self.refused += 1
                    else:
                        latencies.append(reply.at - started)
                await asyncio.sleep(max(0.0, self.config.pace - (time.perf_counter() - started)))

        pace = self.config.pace
        await asyncio.gather(*(person(p, pace * i / len(self.others_people)) for i, p in enumerate(self.others_people)))
        return latencies

    async def flooder(self, stop: asyncio.Event) -> None:
        s, p = self.server, self.flooder_person
        self.flood_started = time.perf_counter()
        n = 0
        while not stop.is_set():
            text = self.rng.choice(QUESTIONS)
            if n % 4 == 3:
                ix = await s.slash(p, "ask", s.world.channels["general"], question=text)
                self.flood_keys.append(("i", ix.token))
            else:
                msg = await s.post(p, s.world.channels["general"], self.mention + text)
                self.flood_keys.append(("m", msg["id"]))
            n += 1
            await asyncio.sleep(1 / self.config.flood_hz)
        self.flood_stopped = time.perf_counter()

    def result(self, before: list[float], flooded: list[float], after: list[float]) -> FloodResult:
        answered = warned = refused_ask = 0
        for key in self.flood_keys:
            for reply in self.server.all_replies.get(key, []):
                if reply.kind == "initial":
                    refused_ask += SLOW_DOWN in ((reply.body or {}).get("content") or "")
                elif reply.kind == "message" and (reply.body.get("content") or "").startswith(SLOW_DOWN):
                    warned += 1
                elif reply.kind in ("message", "edit"):
                    answered += 1
        return FloodResult(
            config=self.config,
            calm=sorted(before + after),
            flooded=sorted(flooded),
            calm_p95s=(percentile(sorted(before), 0.95), percentile(sorted(after), 0.95)),
            others_refused=self.refused,
            others_lost=self.lost,
            flood_sent=len(self.flood_keys),
            flood_answered=answered,
            flood_warned=warned,
            flood_refused_ask=refused_ask,
            flood_seconds=self.flood_stopped - self.flood_started,
        )
