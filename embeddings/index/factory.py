"""The search backend the settings choose (``NEWSBOT_SEARCH_BACKEND``): the one place that maps
a ``SearchBackendKind`` to its implementation."""

from __future__ import annotations

from collections.abc import Callable

from embeddings.encoders import Encoder
from embeddings.index.backend import SearchBackend
from embeddings.index.local import LocalBackend
from embeddings.settings import EngineSettings, SearchBackendKind


def _local(settings: EngineSettings, encoder: Encoder) -> SearchBackend:
    return LocalBackend(settings.data_dir, ann_min_vectors=settings.ann_min_chunks, probe_encoder=encoder)


_BACKENDS: dict[SearchBackendKind, Callable[[EngineSettings, Encoder], SearchBackend]] = {"local": _local}


def open_backend(settings: EngineSettings, encoder: Encoder) -> SearchBackend:
    """The backend ``settings.search_backend`` names, writing vectors of ``encoder``."""
    try:
        build = _BACKENDS[settings.search_backend]
    except KeyError:  # pydantic already rejects unknown names; this is for a new Literal value
        raise ValueError(f"no search backend named {settings.search_backend!r}") from None
    return build(settings, encoder)
