"""Start-up builds what is missing: a bot started over an empty (or damaged) data folder builds
the index from the seeds folder in the background once connected; questions meanwhile get the
indexing notice with its progress, and answers once it is done."""

from __future__ import annotations

import asyncio
import threading

import pytest

from embeddings.engine import Engine
from embeddings.settings import EngineSettings

from .conftest import Discord, make_seeds, play

QUESTION = "Who won the Portmere marathon?"


class _HeldAfterBegin:
    """The engine's progress, held at ``begin`` until the test lets indexing go on, so that a
    question is sure to arrive while the index is being built."""

    def __init__(self, progress, gate: threading.Event) -> None:
        self._progress, self._gate = progress, gate

    def begin(self, total_chunks: int) -> None:
        self._progress.begin(total_chunks)
        assert self._gate.wait(60), "the test never let indexing go on"

    def advance(self, chunks: int) -> None:
        self._progress.advance(chunks)


class HeldEngine(Engine):
    """The real engine, whose indexing waits at ``begin`` for ``gate``."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.builds: list[bool] = []  # rebuild flags of the index runs

    def index_corpus(self, corpus, *, rebuild=False, progress=None):
        self.builds.append(rebuild)
        return super().index_corpus(corpus, rebuild=rebuild, progress=_HeldAfterBegin(progress, self.gate))


@pytest.fixture
def settings(tmp_path):
    return EngineSettings(_env_file=None, data_dir=tmp_path / "data", seeds_dir=make_seeds(tmp_path / "seeds"))


async def until(check, timeout: float = 120.0) -> None:
    """Poll ``check`` (state of the bot, which the fake server's waits do not see change)."""
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise TimeoutError


async def _indexing_then_answers(d: Discord, engine: HeldEngine) -> None:
    await until(lambda: d.state.startup.total)  # the folder is read and chunked; indexing waits at the gate
    total = d.state.startup.total
    assert total > 0
    question = await d.server.post(d.alice, d.newsdesk, QUESTION)
    notice = (await d.server.wait_for(lambda: d.server.replies_to(question)))[0]["content"]
    assert notice == f"The articles are being indexed (0 of {total} passages)… Please ask again in a moment."
    ask = await d.server.slash(d.bob, "ask", question=QUESTION)
    await d.server.wait_for(lambda: ix_done(ask))
    assert ask.original["content"].startswith("The articles are being indexed (0 of")
    engine.gate.set()
    await until(lambda: not d.state.startup.running)
    later = await d.server.post(d.alice, d.newsdesk, QUESTION)
    assert (await d.server.wait_for(lambda: d.server.replies_to(later)))[0]["content"].startswith("**Grace Wanjiru**")


def ix_done(ix) -> bool:
    return ix.original is not None and not ix.loading


def test_serve_with_an_empty_data_folder_builds_the_index_and_meanwhile_says_how_far_it_got(settings, encoder):
    fresh_engine = HeldEngine(settings, encoder)

    async def scenario(d: Discord) -> None:
        assert d.state.startup.need == "build"
        await _indexing_then_answers(d, fresh_engine)

    play(fresh_engine, scenario)
    assert fresh_engine.builds == [False]


def test_serve_with_a_damaged_index_rebuilds_it_in_the_background(settings, encoder):
    Engine(settings, encoder).refresh()  # a complete index, then damaged
    vectors = next(settings.data_dir.glob("gen-*/vectors.faiss"))
    vectors.write_bytes(b"not a faiss index")
    fresh_engine = HeldEngine(settings, encoder)  # as a freshly started process has it

    async def scenario(d: Discord) -> None:
        assert d.state.startup.need == "rebuild"
        await _indexing_then_answers(d, fresh_engine)

    play(fresh_engine, scenario)
    assert fresh_engine.builds == [True]
