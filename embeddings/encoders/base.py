"""The ``Encoder`` protocol: what the index, retrieval and summaries need from an embedding
model. Implementations live beside it (``sentence_transformer``, ``onnx``); ``load_encoder`` in
this package picks one from settings."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

Progress = Callable[[int], None]


class Encoder(Protocol):
    """What the index needs from an embedding model."""

    name: str
    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the model's special tokens."""
        ...
