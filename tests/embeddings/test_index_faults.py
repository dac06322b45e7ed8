"""Faults of the index on disk: damaged files at start-up, a full disk and a read-only data
folder during a reload.

The damaged-file tests run the real `newsbot` command line. The disk-full and read-only tests
use real file systems: a small tmpfs mounted for the test, remounted read-only where needed
(they skip when this machine does not allow mounts). A file-size limit (RLIMIT_FSIZE, EFBIG)
on a real `newsbot index` process covers write failures on machines without mounts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from embeddings.errors import IndexCorruptError, IndexWriteError
from embeddings.index.generations import BM25_DIR, CURRENT, MANIFEST, STORE, VECTORS

from ..conftest import SEED, open_live
from .test_crash_safety import write_articles

NEWSBOT = [sys.executable, "-c", "from bot.cli import main; main()"]
QUESTION = "Who will chair the SCO security council secretaries meeting?"


def newsbot(args: list[str], root: Path, stdin: str | None = None, preexec=None, **env_extra: str):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") or k == "NEWSBOT_MODEL_CACHE_DIR"}
    env.update(
        {
            "HF_HUB_OFFLINE": "1",
            "NEWSBOT_DATA_DIR": str(root / "data"),
            "NEWSBOT_SEEDS_DIR": str(root / "seeds"),
            "COLUMNS": "200",
            **env_extra,
        }
    )
    return subprocess.run(
        NEWSBOT + args, cwd=root, env=env, input=stdin, capture_output=True, text=True, timeout=120, preexec_fn=preexec
    )


def snapshot_of(data: Path) -> dict[str, bytes]:
    """Every file under ``data`` (but the model cache) with its content: to show nothing changed."""
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and "models" not in p.relative_to(data).parts
    }


# -- damaged files at start-up --------------------------------------------------------------


@pytest.fixture(scope="module")
def pristine(tmp_path_factory, encoder) -> Path:
    """A real index over the seed article, built by `newsbot index`, to copy and damage."""
    root = tmp_path_factory.mktemp("pristine")
    (root / "seeds").mkdir()
    shutil.copy(SEED, root / "seeds" / SEED.name)
    result = newsbot(["index"], root)
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def workdir(pristine, tmp_path) -> Path:
    root = tmp_path / "work"
    shutil.copytree(pristine, root)
    return root


def index_files(data: Path) -> list[str]:
    generation = data / (data / CURRENT).read_text().strip()
    files = [MANIFEST, STORE, VECTORS] + sorted(f"{BM25_DIR}/{p.name}" for p in (generation / BM25_DIR).iterdir())
    return [f"{generation.name}/{f}" for f in files]


def damage(path: Path, how: str) -> None:
    raw = path.read_bytes()
    if how == "empty":
        path.write_bytes(b"")
    elif how == "half":
        path.write_bytes(raw[: len(raw) // 2])
    else:  # garbled: the head of the file overwritten with noise, its length kept
        noise = bytes((7 * i + 0x89) % 256 for i in range(min(len(raw), 96)))
        path.write_bytes(noise + raw[len(noise) :])


def assert_one_line_error(result, *names: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "newsbot index --rebuild" in lines[0], lines[0]
    for name in names:
        assert name in lines[0], (name, lines[0])


def shown_name(name: str) -> str:
    """How an error names the damaged file: the store and vectors as files, a bm25 file by its
    folder (bm25s loads the folder whole)."""
    return name if BM25_DIR not in name else name.split("/" + BM25_DIR)[0] + "/" + BM25_DIR


@pytest.mark.parametrize("how", ["empty", "half", "garbled"])
def test_every_damaged_index_file_is_an_index_corrupt_error_naming_it(workdir, how):
    data = workdir / "data"
    files = index_files(data)
    assert len(files) >= 9, files  # manifest, store, vectors and at least six bm25 files
    backup = snapshot_of(data)
    for name in files:
        damage(data / name, how)
        with pytest.raises(IndexCorruptError) as caught:  # a NewsbotError: one line from the CLI
            open_live(data).close()
        assert shown_name(name) in str(caught.value) and "newsbot index --rebuild" in str(caught.value)
        (data / name).write_bytes(backup[name])
    open_live(data).close()


def test_every_truncated_index_file_stops_status_with_one_line_naming_it(workdir):
    data = workdir / "data"
    backup = snapshot_of(data)
    for name in index_files(data):
        damage(data / name, "empty")
        assert_one_line_error(newsbot(["status"], workdir), shown_name(name))
        (data / name).write_bytes(backup[name])
    assert newsbot(["status"], workdir).returncode == 0


def test_a_damaged_pointer_is_an_error_or_falls_back_to_the_newest_whole_index(workdir):
    data = workdir / "data"
    live = (data / CURRENT).read_text().strip()
    (data / CURRENT).write_bytes(b"\x89\xff\xfe not text")
    assert_one_line_error(newsbot(["status"], workdir), f"{data / CURRENT}")
    # A pointer cut short names no complete generation: the newest whole one is used, with a warning.
    (data / CURRENT).write_text(live[: len(live) // 2])
    result = newsbot(["status", "--json"], workdir)
    assert result.returncode == 0, result.stderr
    assert live in result.stdout and "CURRENT" in result.stderr and "not a complete" in result.stderr


def test_ask_with_a_damaged_file_is_one_line_too(workdir):
    data = workdir / "data"
    damage(data / index_files(data)[-1], "empty")  # a bm25 .npy or .json cut to nothing
    assert_one_line_error(newsbot(["ask", QUESTION], workdir), BM25_DIR)
    damage(data / index_files(data)[2], "garbled")  # vectors.faiss
    assert_one_line_error(newsbot(["ask", QUESTION, "--json"], workdir), VECTORS)


def test_make_run_rebuilds_a_damaged_index_and_answers(workdir):
    """`make run` without a token is `newsbot index` then `newsbot chat`: both must rebuild a
    damaged index from the seeds (with a warning naming the damage) instead of failing."""
    data = workdir / "data"
    before = (data / CURRENT).read_text().strip()
    damage(data / before / STORE, "garbled")
    indexed = newsbot(["index"], workdir)
    assert indexed.returncode == 0, indexed.stderr
    assert STORE in indexed.stderr and "Rebuilding it from" in indexed.stderr and "Traceback" not in indexed.stderr
    assert "1 added" in indexed.stdout
    assert (data / CURRENT).read_text().strip() != before

    damage(data / (data / CURRENT).read_text().strip() / VECTORS, "half")
    chat = newsbot(["chat"], workdir, stdin=QUESTION + "\n\n")
    assert chat.returncode == 0, chat.stderr
    assert VECTORS in chat.stderr and "Rebuilding it from" in chat.stderr and "Traceback" not in chat.stderr
    assert "newsbot: 1 articles" in chat.stdout and "Zhao Kezhi" in chat.stdout
    assert newsbot(["status"], workdir).returncode == 0


def test_chat_rebuilds_an_index_built_with_other_settings(workdir):
    chat = newsbot(["chat"], workdir, stdin=QUESTION + "\n\n", NEWSBOT_CHUNK_TOKENS="64")
    assert chat.returncode == 0, chat.stderr
    assert "different settings" in chat.stderr and "Rebuilding it from" in chat.stderr
    assert "Zhao Kezhi" in chat.stdout
    status = newsbot(["status", "--json"], workdir, NEWSBOT_CHUNK_TOKENS="64")
    assert status.returncode == 0 and '"chunk_tokens": 64' in status.stdout


# -- a full disk or a read-only data folder during a reload --------------------------------


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def remount(where: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(where)], check=True)


def fill(disk: Path, leave_kb: int) -> Path:
    """A ballast file taking all but ``leave_kb`` KiB of ``disk``."""
    fs = os.statvfs(disk)
    ballast = disk / "ballast"
    ballast.write_bytes(b"\0" * (fs.f_bavail * fs.f_frsize - leave_kb * 1024))
    return ballast


@pytest.fixture
def articles(tmp_path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_articles(seeds, 0, 5)
    return seeds


def deleted_but_open(data: Path) -> list[str]:
    """Files under ``data`` this process still holds open after they were deleted (their space
    is not given back while they are)."""
    links = []
    for fd in Path("/proc/self/fd").iterdir():
        with contextlib.suppress(OSError):
            links.append(os.readlink(fd))
    return [link for link in links if link.startswith(str(data)) and link.endswith("(deleted)")]


def assert_old_index_serves(engine, data: Path, before: dict[str, bytes]) -> None:
    assert snapshot_of(data) == before  # CURRENT, every generation: untouched; no .tmp-* left
    assert not list(data.glob(".tmp-*")) and not (data / ".CURRENT.tmp").exists()
    assert deleted_but_open(data) == []
    answer = engine.answer("How many contractors were involved in the railway project number 1?")
    assert answer.answered and "railway" in answer.sources[0].title.lower()
    assert len(engine.articles()) == 5
    loaded = open_live(data)  # and a fresh process would load the same whole index
    assert loaded.manifest["articles"] == 5
    loaded.close()


# 4 KiB: the copy of the old SQLite store fails at once. 150 KiB: the store fits, and a later
# file (the vectors or the BM25 arrays) finds the disk full after the embedding.
@pytest.mark.parametrize("leave_kb", [4, 150])
def test_a_full_disk_during_a_reload_keeps_the_old_index_and_says_why(tmp_path, articles, make_engine, leave_kb):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data = disk / "data"
        engine = make_engine(articles, data)
        engine.refresh()
        write_articles(articles, 5, 25)
        ballast = fill(disk, leave_kb)
        before = snapshot_of(data)

        with pytest.raises(IndexWriteError) as caught:
            engine.refresh()
        print(f"leave {leave_kb} KiB: {caught.value.__cause__!r}")
        assert caught.value.code == errno.ENOSPC
        message = str(caught.value)
        assert message.startswith("Could not write the new index: no space left on the device")
        assert str(data) in message and "previous index is unchanged" in message
        assert_old_index_serves(engine, data, before)

        ballast.unlink()  # space again: the next reload completes
        report = engine.refresh()
        assert len(report.added) == 25 and len(engine.articles()) == 30
        assert not list(data.glob(".tmp-*"))


def test_a_read_only_data_folder_during_a_reload_keeps_the_old_index_and_says_why(tmp_path, articles, make_engine):
    with tmpfs(tmp_path / "disk", "4m") as disk:
        data = disk / "data"
        engine = make_engine(articles, data)
        engine.refresh()
        write_articles(articles, 5, 3)
        before = snapshot_of(data)
        remount(disk, "ro")
        try:
            with pytest.raises(IndexWriteError) as caught:
                engine.refresh()
            assert caught.value.code == errno.EROFS
            assert str(caught.value).startswith("Could not write the new index: the file system is read-only")
            assert_old_index_serves(engine, data, before)
            with pytest.raises(IndexWriteError):  # a rebuild too
                engine.refresh(rebuild=True)
            assert_old_index_serves(engine, data, before)
        finally:
            remount(disk, "rw")
        assert len(engine.refresh().added) == 3 and len(engine.articles()) == 8


def _limit_file_size() -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (24 * 1024, 24 * 1024))


def test_a_file_size_limit_stops_newsbot_index_with_one_line_and_nothing_left(pristine, tmp_path):
    """Needs no mount: a real `newsbot index` under RLIMIT_FSIZE, where the new store outgrows
    the limit (the write fails with EFBIG, as on a full disk or quota)."""
    root = tmp_path / "work"
    shutil.copytree(pristine, root)
    write_articles(root / "seeds", 0, 20)
    data = root / "data"
    before = snapshot_of(data)
    result = newsbot(["index"], root, preexec=_limit_file_size)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.strip().startswith("error: Could not write the new index: a file would exceed the size limit")
    assert snapshot_of(data) == before and not list(data.glob(".tmp-*"))
    assert newsbot(["index"], root).returncode == 0  # without the limit it completes
    assert "21 articles" in newsbot(["articles"], root).stdout
