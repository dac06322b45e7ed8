"""Kill -9 a real `newsbot index` process at random moments: the live index must always load
and answer, and the next run must complete and clean up."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embeddings.ingest.chunking import ChunkingConfig
from embeddings.ingest.corpus import read_corpus

from ..conftest import open_live, update_folder

TOPICS = ["harbour", "railway", "hospital", "library", "stadium", "airport", "museum", "school"]


def write_articles(folder: Path, start: int, count: int) -> None:
    for n in range(start, start + count):
        topic = TOPICS[n % len(TOPICS)]
        body = "\n\n".join(
            f"The {topic} project number {n} in district {n * 7 % 31} reached stage {s} on day {n + s}. "
            f"Officials said {s * 3 + n} workers and {n % 5 + 2} contractors were involved, and the budget "
            f"of {n * 11 + s} million was unchanged. Residents of district {n * 7 % 31} welcomed the news."
            for s in range(1, 6)
        )
        (folder / f"article-{n:03d}.txt").write_text(f"{topic.title()} project {n} reaches new stage\n\n{body}\n")


def index_process(workdir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "NEWSBOT_DATA_DIR": str(workdir / "data"),
        "NEWSBOT_SEEDS_DIR": str(workdir / "seeds"),
    }
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", "index"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_at(proc: subprocess.Popen, data: Path, rng: random.Random) -> str:
    """SIGKILL either at a random time, or at a random moment after the new generation's
    folder appears (the write phase, where a crash would do most harm)."""
    if rng.random() < 0.5:
        delay = rng.uniform(0.2, 9.0)
        time.sleep(delay)
        moment = f"after {delay:.1f}s"
    else:
        deadline = time.monotonic() + 60
        while not list(data.glob(".tmp-*")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        delay = rng.uniform(0.0, 1.5)
        time.sleep(delay)
        moment = f"{delay:.2f}s into the write"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    return moment


@pytest.mark.slow
def test_killing_the_indexer_never_breaks_the_live_index(tmp_path, encoder):
    seeds, data = tmp_path / "seeds", tmp_path / "data"
    seeds.mkdir()
    write_articles(seeds, 0, 10)
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    write_articles(seeds, 10, 40)  # the next run has 40 new articles to embed and write

    rng = random.Random(int(os.environ.get("NEWSBOT_CRASH_SEED", "20261127")))
    for attempt in range(6):
        moment = kill_at(index_process(tmp_path), data, rng)
        snapshot = open_live(data)  # must load, whatever the moment
        articles = snapshot.manifest["articles"]
        print(f"attempt {attempt}: killed {moment}; live index has {articles} articles")
        assert articles in (10, 50), f"attempt {attempt} killed {moment}: {articles} articles"
        assert snapshot.vectors.search(encoder.encode(["railway project"])[0], 3)
        assert snapshot.lexical.search("railway project", 3)
        snapshot.close()

    finished = index_process(tmp_path)
    assert finished.wait(timeout=300) == 0, finished.stderr.read().decode()
    assert open_live(data).manifest["articles"] == 50
    assert not list(data.glob(".tmp-*"))
