"""The embedding model on ONNX Runtime, optionally int8-quantised: faster than torch on a CPU,
and a process that finds the exported model cached starts without importing torch at all.

The first use of a model exports it once (with torch and sentence-transformers, which must be
installed) into ``<cache>/<model>-<variant>/`` and every later process just loads that folder:

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
import re
import secrets
import shutil
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np

from embeddings.encoders.base import Progress
from embeddings.errors import NewsbotError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Encoding

log = logging.getLogger(__name__)

CONFIG = "newsbot-onnx.json"
EXPORT_VERSION = 1  # bump when the export recipe changes, so caches are redone
_POOLINGS = ("mean", "cls", "max")


def cpu_flavor() -> str:
    """The int8 kernel family this CPU runs best: ``avx512_vnni``, ``avx2`` or ``generic``."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").split())
    except OSError:
        flags = set()
    if "avx512_vnni" in flags or "avx_vnni" in flags:
        return "avx512_vnni"
    return "avx2" if "avx2" in flags else "generic"


def variant_name(quantize: bool, flavor: str | None = None) -> str:
    return f"int8-{flavor or cpu_flavor()}" if quantize else "fp32"


class OnnxEncoder:
    """A sentence-transformers model run by ONNX Runtime. Load once per process and share it:
    ``encode`` is safe to call from several threads at once."""

    def __init__(self, name: str, folder: Path, *, threads: int = 0) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        config = json.loads((folder / CONFIG).read_text(encoding="utf-8"))
        self.name = name
        self.folder = folder
        self.variant = str(config["variant"])
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

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word pieces per text, without the special tokens (same numbers as the torch path)."""
        if not texts:
            return []
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]

    def _embed(self, encodings: Sequence[Encoding]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros((len(encodings), width), dtype=np.int64)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = e.ids, 1, e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        session = self._single_session if len(encodings) == 1 else self._batch_session
        tokens = session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        return _normalise(_pool(tokens, mask, self._pooling))


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


# -- export (once per model and variant; needs torch and sentence-transformers) --


def load_onnx_encoder(name: str, cache_dir: Path, *, quantize: bool = True, threads: int = 0) -> OnnxEncoder:
    """The ONNX encoder for ``name``, exported into ``cache_dir`` on first use (a few seconds)
    and loaded from there afterwards. Raises NewsbotError when the model cannot be exported."""
    folder = cache_dir / f"{_slug(name)}-{variant_name(quantize)}"
    if _complete(folder):
        try:
            return OnnxEncoder(name, folder, threads=threads)
        except Exception as exc:  # onnxruntime, tokenizers and json raise their own types
            log.warning("the exported model in %s is damaged (%s); exporting it again", folder, exc)
            (folder / CONFIG).unlink(missing_ok=True)  # mark it incomplete, so it is replaced
    try:
        export_model(name, folder, quantize=quantize)
        return OnnxEncoder(name, folder, threads=threads)
    except NewsbotError:
        raise
    except Exception as exc:
        raise NewsbotError(
            f"Could not export the model {name!r} to ONNX in {folder} ({exc.__class__.__name__}: {exc}). "
            "Set NEWSBOT_ENCODER_BACKEND=torch to run it without ONNX."
        ) from exc


def _complete(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / CONFIG).read_text(encoding="utf-8")).get("export_version") == EXPORT_VERSION)
    except (OSError, ValueError):
        return False


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.")[:120] or "model"


def export_model(name: str, folder: Path, *, quantize: bool) -> None:
    """Export the sentence-transformers model ``name`` to ONNX in ``folder`` (int8 weights when
    ``quantize``), written beside it first and renamed into place when complete."""
    model = _load_sentence_transformer(name)
    pooling = _pooling_of(model, name)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".export-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        model.tokenizer.save_pretrained(str(tmp))
        if not (tmp / "tokenizer.json").is_file():
            raise NewsbotError(f"The model {name!r} has no fast tokenizer; use NEWSBOT_ENCODER_BACKEND=torch.")
        _export_transformer(model, tmp / "model-fp32.onnx")
        variant = variant_name(quantize)
        dimension, max_seq_length = model.get_embedding_dimension(), model.max_seq_length
        if dimension is None or max_seq_length is None:  # int(None) raised this TypeError before
            raise TypeError(f"The model {name!r} reports no embedding dimension or no input window")
        if quantize:
            _quantize(tmp / "model-fp32.onnx", tmp / "model.onnx", variant)
            (tmp / "model-fp32.onnx").unlink()
        else:
            (tmp / "model-fp32.onnx").rename(tmp / "model.onnx")
        config = {
            "export_version": EXPORT_VERSION,
            "model": name,
            "variant": variant,
            "pooling": pooling,
            "dimension": int(dimension),
            "max_seq_length": int(max_seq_length),
            "pad_token_id": int(model.tokenizer.pad_token_id or 0),
        }
        (tmp / CONFIG).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        if _complete(folder):  # another process finished the same export meanwhile
            shutil.rmtree(tmp, ignore_errors=True)
            return
        shutil.rmtree(folder, ignore_errors=True)  # an incomplete or outdated earlier export
        tmp.rename(folder)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s to %s (%s)", name, folder, variant)


def _load_sentence_transformer(name: str) -> SentenceTransformer:
    from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder

    return SentenceTransformerEncoder(name).model


def _pooling_of(model: SentenceTransformer, name: str) -> str:
    modules: list[Any] = list(model)  # sentence-transformers modules, told apart by duck typing
    kinds = [type(m).__name__ for m in modules]
    pooling = getattr(modules[1], "pooling_mode", None) if len(modules) > 1 else None
    if pooling is None and len(modules) > 1 and hasattr(modules[1], "get_pooling_mode_str"):
        pooling = modules[1].get_pooling_mode_str()
    if kinds[:2] != ["Transformer", "Pooling"] or pooling not in _POOLINGS or kinds[2:] not in ([], ["Normalize"]):
        raise NewsbotError(
            f"The model {name!r} ({' → '.join(kinds)}, pooling {pooling}) is not one the ONNX backend "
            "can run; use NEWSBOT_ENCODER_BACKEND=torch."
        )
    return str(pooling)


def _export_transformer(model: SentenceTransformer, path: Path) -> None:
    import torch

    first: Any = model[0]  # a sentence-transformers Transformer module (torch types it as Module)
    transformer = first.auto_model.eval()
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in model.tokenizer.model_input_names]

    class LastHiddenState(torch.nn.Module):
        # Keyword arguments: the models' forward() signatures differ in positional order.
        def __init__(self) -> None:
            super().__init__()
            self.inner = transformer

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            hidden: torch.Tensor = self.inner(**dict(zip(names, inputs))).last_hidden_state
            return hidden

    sample = tuple(torch.ones(2, 16, dtype=torch.long) for _ in names)
    axes = {n: {0: "batch", 1: "sequence"} for n in [*names, "token_embeddings"]}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about shape-dependent Python branches
        torch.onnx.export(
            LastHiddenState(),
            sample,
            str(path),
            input_names=names,
            output_names=["token_embeddings"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )


def _quantize(source: Path, target: Path, variant: str) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    # Per-channel int8 weights on the matrix products only: mean cosine 0.995 to the fp32
    # vectors on 400 XQuAD texts here, and the fastest variant tried (per-tensor weights on all
    # operators, onnxruntime's default: 0.959). Without
    # VNNI the u8×s8 products can saturate, which a reduced 7-bit range avoids.
    prepared = source.with_name("model-prepared.onnx")
    quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)  # onnxruntime's advice
    quantize_dynamic(
        str(prepared),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=not variant.endswith("vnni"),
        op_types_to_quantize=["MatMul"],
    )
    prepared.unlink()
