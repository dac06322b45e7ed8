"""Engine settings: environment variables prefixed ``NEWSBOT_`` and an optional ``.env`` file.

Nothing here is read at import time: build one ``EngineSettings()`` in ``main()`` and pass it on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"

RetrievalMode = Literal["hybrid", "dense", "bm25"]
EncoderBackend = Literal["auto", "onnx-int8", "onnx", "torch"]
SearchBackendKind = Literal["local", "postgres"]  # see embeddings.index.factory
AnswerWriterKind = Literal["extractive"]  # see embeddings.answer.answering
SentenceVectorsKind = Literal["pooled", "encoded", "none"]
AnswerEvidenceKind = Literal["lexical", "semantic"]  # see embeddings.answer.answering
AnswerEntitiesKind = Literal["spacy", "heuristic"]  # see embeddings.answer.entities
AnswerConfidenceKind = Literal["topic", "support"]  # see embeddings.answer.answering
FeedbackBackendKind = Literal["auto", "sqlite", "postgres"]  # see embeddings.feedback


class EngineSettings(BaseSettings):
    """Everything the engine needs to know; every field is documented in ``.env.example``."""

    model_config = SettingsConfigDict(env_prefix="NEWSBOT_", env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Where the index lives.")
    search_backend: SearchBackendKind = Field("local", description="Where chunks are kept and searched.")
    seeds_dir: Path = Field(Path("seeds"), description="The article folder to index.")
    embedding_model: str = Field(DEFAULT_MODEL, description="sentence-transformers name or path.")
    encoder_backend: EncoderBackend = Field("auto", description="How the model runs on the CPU.")
    encoder_threads: int = Field(0, ge=0, le=256, description="Encoder threads; 0 = one per core.")
    model_cache_dir: Path | None = Field(None, description="Exported models; default: the user's cache folder.")
    # 256 (the model's whole window) retrieves long articles better but changes an answer of the
    # seed article; docs/EVALUATION.md, "Long articles and chunk size".
    chunk_tokens: int = Field(160, ge=32, le=512, description="Chunk window in word pieces.")
    chunk_overlap_sentences: int = Field(1, ge=1, le=5)
    max_file_mb: float = Field(32.0, gt=0, description="Larger files are skipped.")
    max_article_chars: int = Field(1_000_000, gt=0, description="Longer articles are skipped.")
    encode_batch_size: int = Field(32, ge=1, le=1024)
    ann_min_chunks: int = Field(20_000, ge=1, description="From this many chunks on, dense search is approximate.")
    search_k: int = Field(5, ge=1, le=100)
    retrieval_mode: RetrievalMode = "hybrid"
    answer_writer: AnswerWriterKind = Field("extractive", description="How answers are written from the evidence.")
    # Semantic by default: better sentences, short answers and refusals than lexical on XQuAD and
    # the natural questions (docs/EVALUATION.md, "Sentence choice by meaning and by the asked-for kind").
    answer_evidence: AnswerEvidenceKind = Field("semantic", description="How evidence sentences are scored.")
    # Heuristic by default until the suite and the latency benchmark have run with the entity
    # model, which cuts better names (docs/EVALUATION.md) but loads in seconds per engine.
    answer_entities: AnswerEntitiesKind = Field("heuristic", description="How short answers that are names are cut.")
    # Topic by default: support refuses more questions whose fact no article states at the same
    # share of answerable ones refused on natural questions, but fewer of XQuAD's held-out ones
    # (docs/EVALUATION.md, "Refusing absent facts, session 7").
    answer_confidence: AnswerConfidenceKind = Field("topic", description="What the refusal's confidence weighs.")
    feedback_backend: FeedbackBackendKind = Field("auto", description="Where answers' 👍/👎 feedback is kept.")
    # How sentence vectors for the semantic evidence are made at index time (pooled: from the
    # chunk pass's token outputs, no extra model run); see embeddings/index/sentence_vectors.py.
    sentence_vectors: SentenceVectorsKind = Field("pooled", description="Sentence vectors made at index time.")
    feedback_retention_days: int = Field(365, ge=1, le=3650, description="Feedback older than this is deleted.")
    # PostgreSQL + pgvector (embeddings.index.pg): a URL selects it, unset keeps the local files.
    database_url: SecretStr | None = Field(None, description="postgresql://... ; selects the postgres backend.")
    database_pool_size: int = Field(4, ge=1, le=100, description="Connections per process to the database.")
    # 100 is pgvector's default; on a corpus of near-duplicates 400 found more (docs/BENCHMARKS.md, 1M chunks).
    database_ef_search: int = Field(
        100, ge=10, le=1000, description="HNSW candidate list length of the database's dense search."
    )
    database_timeout: float = Field(10.0, gt=0, le=600, description="Seconds to connect or run one query.")

    @property
    def backend_kind(self) -> SearchBackendKind:
        """The backend to use: postgres when a database URL is set, else ``search_backend``."""
        return "postgres" if self.database_url is not None else self.search_backend

    @property
    def feedback_kind(self) -> Literal["sqlite", "postgres"]:
        """Where feedback is kept: ``feedback_backend``, where ``auto`` is postgres when a database
        URL is set (every bot replica shares it), else sqlite in the data folder."""
        if self.feedback_backend == "auto":
            return "postgres" if self.database_url is not None else "sqlite"
        return self.feedback_backend

    @property
    def model_cache(self) -> Path:
        """Where exported (ONNX) models are cached: the configured folder, else one folder per
        user (``~/.cache/newsbot/models`` on Linux, honouring ``XDG_CACHE_HOME``), shared by
        every index, evaluation and test run, so the export is paid once per machine and user."""
        if self.model_cache_dir is not None:
            return self.model_cache_dir
        # Read when asked, not at import: the environment may change between settings objects.
        return platformdirs.user_cache_path("newsbot", appauthor=False) / "models"
