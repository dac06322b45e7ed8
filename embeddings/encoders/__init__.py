"""Embedding models: the ``Encoder`` protocol and its implementations, chosen by settings."""

from __future__ import annotations

from ..settings import EngineSettings
from .base import Encoder, Progress

__all__ = ["Encoder", "Progress", "load_encoder"]


def load_encoder(settings: EngineSettings) -> Encoder:
    """The encoder ``settings`` ask for: by default (``auto``) the ONNX Runtime variant measured
    fastest on this CPU among those whose vectors match fp32's; ``onnx`` (fp32) or
    ``onnx-int8`` pin one; ``torch`` runs sentence-transformers itself."""
    backend = settings.encoder_backend
    if backend == "torch":
        from .sentence_transformer import SentenceTransformerEncoder

        return SentenceTransformerEncoder(settings.embedding_model)
    # heavy: only for the ONNX backends
    from .choice import load_auto_encoder
    from .variants import int8_for_this_cpu, load_variant

    name, cache, threads = settings.embedding_model, settings.model_cache, settings.encoder_threads
    if backend == "auto":
        return load_auto_encoder(name, cache, threads=threads)
    variant = "fp32" if backend == "onnx" else int8_for_this_cpu()
    return load_variant(name, cache, variant, threads=threads, reason=f"NEWSBOT_ENCODER_BACKEND={backend}")
