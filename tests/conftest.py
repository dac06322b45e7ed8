"""Shared fixtures: the real embedding model (loaded once per run) and small real corpora."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "seeds" / "000_bb6286341943b110.txt"
FIXTURES = REPO / "tests" / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def model_cache(tmp_path_factory) -> Path:
    """Where this test run exports the ONNX model (once); subprocesses (``newsbot ...``) are
    pointed at it too, so none of them exports again."""
    folder = tmp_path_factory.mktemp("models")
    os.environ["NEWSBOT_MODEL_CACHE_DIR"] = str(folder)
    return folder


@pytest.fixture(scope="session")
def encoder(model_cache: Path):
    """The real all-MiniLM-L6-v2 model on the default backend (ONNX Runtime, int8), shared by
    every test."""
    from embeddings.encoders import load_encoder
    from embeddings.settings import EngineSettings

    return load_encoder(EngineSettings(_env_file=None, model_cache_dir=model_cache))


@pytest.fixture(scope="session")
def torch_encoder():
    """The same model on sentence-transformers' own torch path (the reference)."""
    from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder

    return SentenceTransformerEncoder()


def copy_seeds(folder: Path) -> Path:
    """Fill ``folder`` with the project's seed article and the fixture articles."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(SEED, folder / SEED.name)
    for item in (FIXTURES / "news").iterdir():
        shutil.copy(item, folder / item.name)
    return folder


def indexed_engine(root: Path, encoder):
    """A real engine over ``copy_seeds(root / "seeds")``, indexed, with its data under ``root``."""
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    seeds = copy_seeds(root / "seeds")
    engine = Engine(EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds), encoder)
    engine.refresh()
    return engine


@pytest.fixture(scope="module")
def seed_only(tmp_path_factory, encoder):
    """An engine over the seed article alone, answered as the bot answers: four chunks that all
    carry the headline, so dense scores are near ties (issue 11's small-corpus case)."""
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    root = tmp_path_factory.mktemp("seed-only")
    (root / "seeds").mkdir()
    shutil.copy(SEED, root / "seeds" / SEED.name)
    engine = Engine(EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=root / "seeds"), encoder)
    engine.refresh()
    return engine


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A seeds folder holding the project's seed article and a few more real-format articles."""
    return copy_seeds(tmp_path / "seeds")


@pytest.fixture
def make_engine(tmp_path: Path, encoder):
    """Build an Engine over a seeds folder with its own data directory."""
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    def build(seeds_dir: Path, data_dir: Path | None = None, **overrides):
        settings = EngineSettings(
            _env_file=None, data_dir=data_dir or tmp_path / "data", seeds_dir=seeds_dir, **overrides
        )
        return Engine(settings, encoder)

    return build


def open_live(data_dir: Path):
    """The live generation of ``data_dir``, loaded by the local backend (a ``LocalSnapshot``)."""
    from embeddings.index.local import LocalBackend

    return LocalBackend(data_dir).open_snapshot()


def update_folder(data_dir: Path, corpus, encoder, config, **options):
    """``update_index`` into the local backend over ``data_dir``, writing ``encoder``'s vectors."""
    from embeddings.index.indexer import update_index
    from embeddings.index.local import LocalBackend

    return update_index(LocalBackend(data_dir, probe_encoder=encoder), corpus, encoder, config, **options)


from .postgres import pg_url, postgres_server  # noqa: E402,F401  (fixtures: a real PostgreSQL)
