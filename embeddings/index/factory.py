"""The search backend the settings choose (``NEWSBOT_SEARCH_BACKEND``): the one place that maps
a ``SearchBackendKind`` to its implementation."""

from __future__ import annotations

from collections.abc import Callable

from embeddings.encoders import Encoder
from embeddings.errors import IndexUnavailableError
from embeddings.index.backend import SearchBackend
from embeddings.index.local import LocalBackend
from embeddings.settings import EngineSettings, SearchBackendKind


def _local(settings: EngineSettings, encoder: Encoder) -> SearchBackend:
    return LocalBackend(settings.data_dir, ann_min_vectors=settings.ann_min_chunks, probe_encoder=encoder)


def _postgres(settings: EngineSettings, encoder: Encoder) -> SearchBackend:
    from embeddings.index.pg import PostgresBackend  # psycopg is loaded only by who uses it
    from embeddings.index.pg.connection import Database

    if settings.database_url is None:
        raise IndexUnavailableError("NEWSBOT_SEARCH_BACKEND=postgres needs NEWSBOT_DATABASE_URL=postgresql://...")
    database = Database(
        settings.database_url.get_secret_value(), settings.database_timeout, settings.database_pool_size
    )
    return PostgresBackend(database, encoder.dimension, ef_search=settings.database_ef_search)


_BACKENDS: dict[SearchBackendKind, Callable[[EngineSettings, Encoder], SearchBackend]] = {
    "local": _local,
    "postgres": _postgres,
}


def open_backend(settings: EngineSettings, encoder: Encoder) -> SearchBackend:
    """The backend ``settings.backend_kind`` names (postgres when ``NEWSBOT_DATABASE_URL`` is
    set), writing vectors of ``encoder``."""
    try:
        build = _BACKENDS[settings.backend_kind]
    except KeyError:  # pydantic already rejects unknown names; this is for a new Literal value
        raise ValueError(f"no search backend named {settings.backend_kind!r}") from None
    return build(settings, encoder)
