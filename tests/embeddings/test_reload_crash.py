"""Kill -9 the bot's /reload at random moments: a real process builds the engine the way the
command line does and runs ``bot.reload.Reloader.run`` (what /reload runs: ``Engine.refresh``
off the event loop), with the articles changing between runs. After every kill the live index
must load and answer; the next reload must complete and clean up."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ..conftest import open_live
from .test_crash_safety import write_articles

# What /reload does, minus Discord: the CLI's composition root builds the engine, the bot's
# start-up loads the index, then the Reloader refreshes it from the seeds folder.
DRIVER = """
import asyncio, json, sys, types
from bot.cli import _engine
from bot.reload import Reloader
from bot.settings import AppSettings

class Progress:
    def begin(self, total): print("begin", total, flush=True)
    def advance(self, n): pass

engine = _engine(types.SimpleNamespace(obj={"settings": AppSettings(_env_file=None)}))
engine.load()
reloader = Reloader(engine)
assert reloader.claim("crash-test")
report, titles = asyncio.run(reloader.run(Progress()))
print("done", json.dumps(sorted(titles)), flush=True)
"""


def reload_process(root: Path) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") or k == "NEWSBOT_MODEL_CACHE_DIR"}
    env.update(
        {"HF_HUB_OFFLINE": "1", "NEWSBOT_DATA_DIR": str(root / "data"), "NEWSBOT_SEEDS_DIR": str(root / "seeds")}
    )
    return subprocess.Popen(
        [sys.executable, "-c", DRIVER], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def kill_at(proc: subprocess.Popen, data: Path, rng: random.Random) -> str:
    """SIGKILL at a random time (sometimes after the reload finished), or, half the time, in
    the write phase: a random moment after the new generation's folder appears (mostly while
    it is embedded), or just after its last files appear (around the rename and the switch)."""
    roll = rng.random()
    if roll < 0.5:
        delay = rng.uniform(0.1, 10.0)
        time.sleep(delay)
        moment = f"after {delay:.1f}s"
    else:
        final = roll > 0.8
        deadline = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < deadline:
            tmp = list(data.glob(".tmp-*"))
            if tmp and (not final or (tmp[0] / "bm25").exists()):
                break
            time.sleep(0.001)
        delay = rng.uniform(0.0, 0.05 if final else 1.0)
        time.sleep(delay)
        moment = f"{delay:.3f}s after {'the BM25 files appeared' if final else 'the write began'}"
    if proc.poll() is not None:
        moment += " (it had already finished)"
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    return moment


def change_articles(seeds: Path, attempt: int, rng: random.Random) -> None:
    """Add a few articles, rewrite one and delete one, so each reload has real work."""
    existing = sorted(p for p in seeds.glob("article-*.txt") if p.name != "article-001.txt")  # asked about
    write_articles(seeds, 100 + attempt * 6, 6)
    changed = rng.choice(existing)
    changed.write_text(changed.read_text() + f"\nUpdate {attempt}: the harbour reopened on Friday.\n")
    rng.choice([p for p in existing if p != changed]).unlink()


def corpus_ids(seeds: Path) -> frozenset[str]:
    return frozenset(p.stem for p in seeds.glob("article-*.txt"))


def check_live_index(data: Path, engine, allowed: list[frozenset[str]], label: str) -> frozenset[str]:
    """The live index loads whole, holds one of the allowed corpora, and answers."""
    snapshot = open_live(data)
    try:
        ids = frozenset(a.id for a in snapshot.articles)
        assert ids in allowed, f"{label}: the index holds neither corpus ({len(ids)} articles)"
        m = snapshot.manifest
        assert m["articles"] == len(ids) == snapshot.store.count("articles"), label
        assert m["chunks"] == len(snapshot.vectors) == len(snapshot.lexical) == snapshot.store.count("chunks"), label
    finally:
        snapshot.close()
    engine.load()
    answer = engine.answer("How many contractors were involved in the railway project number 1?")
    assert answer.answered and "Railway project 1 " in answer.sources[0].title, (label, answer)
    return ids


@pytest.mark.slow
def test_killing_a_reload_never_breaks_the_live_index(tmp_path, make_engine):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    write_articles(seeds, 0, 12)
    engine = make_engine(seeds, data)  # the checker: loads what a restarted bot would load
    engine.refresh()
    live = corpus_ids(seeds)

    rng = random.Random(int(os.environ.get("NEWSBOT_CRASH_SEED", "20261128")))
    for attempt in range(8):
        change_articles(seeds, attempt, rng)
        wanted = corpus_ids(seeds)
        moment = kill_at(reload_process(tmp_path), data, rng)
        leftovers = len(list(data.glob(".tmp-*")))
        live = check_live_index(data, engine, [live, wanted], f"attempt {attempt}, killed {moment}")
        print(f"attempt {attempt}: killed {moment}; {len(live)} articles live; {leftovers} .tmp-* left")

    started = time.monotonic()
    finished = reload_process(tmp_path)
    out, errors = finished.communicate(timeout=120)
    print(f"the last reload took {time.monotonic() - started:.1f}s")
    assert finished.returncode == 0, errors
    assert "done" in out
    assert check_live_index(data, engine, [corpus_ids(seeds)], "after the last reload") == corpus_ids(seeds)
    assert not list(data.glob(".tmp-*")) and len(list(data.glob("gen-*"))) <= 2
