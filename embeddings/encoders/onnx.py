"""The embedding model on ONNX Runtime: faster than torch on a CPU, and a process that finds
the exported model cached starts without importing torch at all.

An exported variant is one folder of the model cache (``export.py`` writes it, ``variants.py``
derives the quantised and fused ones, ``choice.py`` picks the fastest for this CPU):

    model.onnx          the transformer, dynamic batch and sequence axes
    tokenizer.json      the model's own fast tokenizer (identical word pieces to the torch path)
    newsbot-onnx.json   pooling, window, dimension, variant; written last, so its presence
                        means the folder is complete

Pooling (mean, CLS or max over tokens) and normalisation are done here in numpy, exactly as
sentence-transformers does them for models made of Transformer → Pooling (→ Normalize).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from embeddings.encoders.base import Progress

if TYPE_CHECKING:
    from tokenizers import Encoding

log = logging.getLogger(__name__)

CONFIG = "newsbot-onnx.json"


class OnnxEncoder:
    """A sentence-transformers model run by ONNX Runtime. Load once per process and share it:
    ``encode`` is safe to call from several threads at once."""

    def __init__(self, name: str, folder: Path, *, threads: int = 0, reason: str = "") -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        self.name = name
        self.folder = folder
        self.variant = str(config["variant"])
        self.reason = reason  # why this variant runs (the measured choice, or the setting)
        self.dimension = int(config["dimension"])
        self.max_tokens = int(config["max_seq_length"])
        self._pooling = str(config["pooling"])
        self._counter = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(self.max_tokens)
        self._tokenizer.no_padding()  # padded per batch below, to the batch's own longest text
        self._pad_id = int(config.get("pad_token_id", 0))
        model = str(folder / "model.onnx")
        self._batch_session = _session(ort, model, threads or (os.cpu_count() or 1))
        # One short question runs faster on one thread than split across two (2.5 vs 2.9 ms
        # p50 here): the threads' hand-offs cost more than they save on so little work.
        self._single_session = _session(ort, model, 1)
        self._inputs = {i.name for i in self._batch_session.get_inputs()}

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        """Unit-length float32 vectors, one row per text, in the order given."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        # Batches of similar length waste little time on padding (sentence-transformers does the same).
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            out[rows] = self._embed([encodings[i] for i in rows])
            if progress:
                progress(len(rows))
        return out

    def encode_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """The texts' vectors (as ``encode``) and, from the same run of the model, one unit
        vector per character span of each text: the mean of the token outputs inside the span
        (the model's own pooling, over a part of the text). A span whose tokens were all cut
        off by the window gets its text's vector."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        parts: list[np.ndarray] = [np.zeros((len(s), self.dimension), dtype=np.float32) for s in spans]
        encodings = self._tokenizer.encode_batch(list(texts)) if texts else []
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = [encodings[i] for i in rows]
            tokens, mask = self._run(batch)
            out[rows] = _normalise(_pool(tokens, mask, self._pooling))
            for row, i in enumerate(rows):
                parts[i] = span_vectors(tokens[row], batch[row], spans[i], out[i])
            if progress:
                progress(len(rows))
        return out, parts

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the special tokens (same numbers as the torch path)."""
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def _embed(self, encodings: Sequence[Encoding]) -> np.ndarray:
        tokens, mask = self._run(encodings)
        return _normalise(_pool(tokens, mask, self._pooling))

    def _run(self, encodings: Sequence[Encoding]) -> tuple[np.ndarray, np.ndarray]:
        """The model's token outputs (batch, width, dimension) and the attention mask."""
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, 1, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        session = self._single_session if len(encodings) == 1 else self._batch_session
        tokens: np.ndarray = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        return tokens, mask


def span_vectors(
    tokens: np.ndarray, encoding: Encoding, spans: Sequence[tuple[int, int]], whole: np.ndarray
) -> np.ndarray:
    """Unit vectors of ``spans`` (character ranges of the encoded text): the mean of the token
    outputs (``tokens``: width x dimension) whose characters start inside each span; special
    tokens are left out. A span with no token in the window gets ``whole``."""
    offsets = np.array(encoding.offsets, dtype=np.int64).reshape(-1, 2)
    real = np.array(encoding.special_tokens_mask, dtype=bool) == 0
    starts = offsets[:, 0]
    out = np.empty((len(spans), tokens.shape[-1]), dtype=np.float32)
    for row, (begin, end) in enumerate(spans):
        inside = real & (starts >= begin) & (starts < end)
        out[row] = tokens[: len(starts)][inside].mean(axis=0) if inside.any() else whole
    return _normalise(out)


def _session(ort: ModuleType, model: str, threads: int) -> Any:  # an ort.InferenceSession (untyped)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle worker threads would otherwise spin for a while after each run, taking the cores
    # that BM25, FAISS and answer composition need next (on a busy 2-core machine here the
    # answer p50 went from 21 ms with spinning off to 25-53 ms with it on).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def _pool(tokens: np.ndarray, mask: np.ndarray, how: str) -> np.ndarray:
    pooled: np.ndarray  # numpy types these reductions and the indexing as Any
    if how == "cls":
        pooled = tokens[:, 0]
        return pooled
    weights = mask[..., None].astype(np.float32)
    if how == "max":
        pooled = np.where(weights > 0, tokens, -1e9).max(axis=1)
        return pooled
    pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    return pooled


def _normalise(vectors: np.ndarray) -> np.ndarray:
    norms: np.ndarray = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit: np.ndarray = vectors / np.clip(norms, 1e-12, None)
    return unit.astype(np.float32)
