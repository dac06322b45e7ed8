"""newsbot's engine: reads articles, indexes them, answers searches and questions, summarises.

It never imports discord. The public surface is re-exported here; the subpackages follow the
data path: ``ingest`` → ``encoders`` → ``index`` → ``retrieval`` → ``answer`` / ``summaries``.
"""

from typing import TYPE_CHECKING

from embeddings.errors import (
    ArticleNotFoundError,
    IndexBusyError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    NewsbotError,
    QueryError,
)
from embeddings.models import (
    Answer,
    Article,
    Chunk,
    Citation,
    Corpus,
    Hit,
    IndexReport,
    IndexStatus,
    Sentence,
    SkippedFile,
    Summary,
    SummaryPoint,
)
from embeddings.settings import EngineSettings, RetrievalMode

if TYPE_CHECKING:
    from embeddings.engine import Engine


def __getattr__(name: str) -> object:
    # ``Engine`` pulls in FAISS, bm25s and the answer layer: load it when asked for, so that
    # ``import embeddings.models`` (or a settings check) stays light.
    if name == "Engine":
        from embeddings.engine import Engine

        return Engine
    raise AttributeError(f"module 'embeddings' has no attribute {name!r}")


__all__ = [
    "Answer",
    "Article",
    "ArticleNotFoundError",
    "Chunk",
    "Citation",
    "Corpus",
    "Engine",
    "EngineSettings",
    "Hit",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexReport",
    "IndexStatus",
    "IndexWriteError",
    "NewsbotError",
    "QueryError",
    "RetrievalMode",
    "Sentence",
    "SkippedFile",
    "Summary",
    "SummaryPoint",
]
