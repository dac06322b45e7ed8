"""Embedding models: the ``Encoder`` protocol and its implementations, chosen by settings."""

from __future__ import annotations

from ..settings import EngineSettings
from .base import Encoder, Progress

__all__ = ["Encoder", "Progress", "load_encoder"]


def load_encoder(settings: EngineSettings) -> Encoder:
    """The encoder ``settings`` ask for: sentence-transformers on torch, or the same model on
    ONNX Runtime (fp32 or int8), exported once into the model cache folder."""
    if settings.encoder_backend == "torch":
        from .sentence_transformer import SentenceTransformerEncoder

        return SentenceTransformerEncoder(settings.embedding_model)
    from .onnx import load_onnx_encoder  # heavy: only for the ONNX backends

    return load_onnx_encoder(
        settings.embedding_model,
        settings.model_cache,
        quantize=settings.encoder_backend == "onnx-int8",
        threads=settings.encoder_threads,
    )
