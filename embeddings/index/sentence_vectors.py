"""Sentence vectors made at index time, so that answering can weigh every candidate sentence by
its meaning without running the model per question.

Three ways (``NEWSBOT_SENTENCE_VECTORS``), measured in docs/EVALUATION.md:

- ``pooled`` (default): the mean of the chunk pass's own token outputs over each sentence's
  span. MiniLM's sentence vector *is* a mean of its token outputs, so the chunk pass already
  computed what a sentence vector is made of: no extra model run at index time. Needs an
  encoder with ``encode_spans`` (the ONNX one); with another, nothing is stored.
- ``encoded``: every distinct sentence encoded on its own (an extra model pass at index time).
- ``none``: nothing stored; the semantic evidence encodes its few best candidates per question.

Stored int8, one scale per row (388 bytes a sentence for MiniLM's 384 dimensions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

from embeddings.encoders import Encoder, Progress
from embeddings.models import Chunk
from embeddings.settings import SentenceVectorsKind

__all__ = ["SentenceVectorsKind", "SpanEncoder", "can_pool", "embed_chunks", "pack", "sentence_spans", "unpack"]


@runtime_checkable
class SpanEncoder(Protocol):
    """An encoder that also pools its token outputs over parts of each text."""

    def encode_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' unit vectors and, per text, one unit vector per character span."""
        ...


def can_pool(encoder: object) -> bool:
    """Whether ``encoder`` pools span vectors (a wrapper says so by ``pools_spans``)."""
    return isinstance(encoder, SpanEncoder) and bool(getattr(encoder, "pools_spans", True))


def sentence_spans(chunk: Chunk) -> list[tuple[int, int]]:
    """Each sentence of ``chunk`` as a character range of its ``embed_text``."""
    shift = len(chunk.heading) + 1 if chunk.heading else 0
    return [(shift + s.start - chunk.start, shift + s.end - chunk.start) for s in chunk.sentences]


def embed_chunks(
    encoder: Encoder,
    chunks: Sequence[Chunk],
    how: SentenceVectorsKind,
    *,
    batch_size: int = 32,
    progress: Progress | None = None,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """The chunks' vectors and, unless ``how`` is ``none`` (or ``pooled`` with an encoder that
    cannot pool spans), one matrix of sentence vectors per chunk (a row per sentence)."""
    texts = [c.embed_text for c in chunks]
    if how == "pooled" and can_pool(encoder):
        assert isinstance(encoder, SpanEncoder)
        spans = [sentence_spans(c) for c in chunks]
        return encoder.encode_spans(texts, spans, batch_size=batch_size, progress=progress)
    matrix = encoder.encode(texts, batch_size=batch_size, progress=progress)
    if how != "encoded" or not chunks:
        return matrix, None
    return matrix, _encoded(encoder, chunks, batch_size)


def _encoded(encoder: Encoder, chunks: Sequence[Chunk], batch_size: int) -> list[np.ndarray]:
    # Neighbouring chunks share sentences: each distinct sentence is encoded once.
    per_chunk = [[c.text[s.start - c.start : s.end - c.start] for s in c.sentences] for c in chunks]
    distinct = list(dict.fromkeys(t for texts in per_chunk for t in texts))
    vectors = encoder.encode(distinct, batch_size=batch_size)
    row = {text: i for i, text in enumerate(distinct)}
    empty = np.zeros((0, vectors.shape[1]), dtype=np.float32)
    return [vectors[[row[t] for t in texts]] if texts else empty for texts in per_chunk]


def check_rows(article: Any, chunks: Sequence[Chunk], vectors: np.ndarray, sentences: Sequence[Any] | None) -> None:
    """ValueError unless there is one vector (and, when given, one sentence matrix) per chunk:
    what every ``GenerationWriter.add_article`` checks before storing anything."""
    if len(chunks) != len(vectors) or (sentences is not None and len(sentences) != len(chunks)):
        raise ValueError(f"{len(chunks)} chunks but {len(vectors)} vectors for article {article.id!r}")


def pack(matrix: np.ndarray) -> bytes:
    """``matrix`` (rows of unit vectors) as bytes: float32 scales, then int8 rows."""
    rows = np.asarray(matrix, dtype=np.float32)
    scale = np.abs(rows).max(axis=1, initial=0.0) / 127.0
    safe = np.where(scale > 0, scale, 1.0)
    quantised = np.rint(rows / safe[:, None]).astype(np.int8)
    return bytes(scale.astype(np.float32).tobytes()) + bytes(quantised.tobytes())


def unpack(blob: bytes, dimension: int) -> np.ndarray:
    """The unit rows ``pack`` stored (renormalised after the rounding)."""
    count = len(blob) // (4 + dimension)
    scale = np.frombuffer(blob, dtype=np.float32, count=count)
    quantised = np.frombuffer(blob, dtype=np.int8, offset=4 * count).reshape(count, dimension)
    rows = quantised.astype(np.float32) * scale[:, None]
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: np.ndarray = rows / np.clip(norms, 1e-12, None)
    return unit
