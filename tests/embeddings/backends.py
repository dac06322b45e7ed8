"""Both search backends behind one helper, for the tests that run on each: the local files and
a real PostgreSQL (``pg_url``, a fresh database)."""

from __future__ import annotations

from pathlib import Path

from embeddings.engine import Engine
from embeddings.index.local import LocalBackend
from embeddings.settings import EngineSettings

BACKENDS = ["local", "postgres"]


def make_backend(kind: str, root: Path, encoder, request):
    """A fresh, empty backend of ``kind`` under ``root`` (local) or in a new database."""
    if kind == "local":
        return LocalBackend(root / "data", probe_encoder=encoder)
    from embeddings.index.pg import PostgresBackend
    from embeddings.index.pg.connection import Database

    backend = PostgresBackend(Database(request.getfixturevalue("pg_url"), timeout=10.0), encoder.dimension)
    request.addfinalizer(backend.close)
    return backend


def backend_env(kind: str, root: Path, backend) -> dict[str, str]:
    """The environment that points a ``newsbot`` subprocess at the same backend."""
    if kind == "local":
        return {"NEWSBOT_DATA_DIR": str(root / "data")}
    return {"NEWSBOT_DATABASE_URL": backend.database.url, "NEWSBOT_DATA_DIR": str(root / "unused-data")}


def engine_on(backend, seeds: Path, root: Path, encoder, **overrides) -> Engine:
    settings = EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds, **overrides)
    return Engine(settings, encoder, backend=backend)
