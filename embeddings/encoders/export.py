"""The model cache's folders: the fp32 ONNX export of a sentence-transformers model (the one
step that needs torch), and the rules every cached folder is written by.

A folder is written beside its final name (``.export-<rand>``) and renamed into place when
complete; its ``newsbot-onnx.json`` is written last, so a folder with it is whole. Writers of
one model take an exclusive ``flock`` on ``.<model>.lock`` in the cache, so two processes that
start at once export (and measure) once: the second waits and then finds the work done.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from embeddings.encoders.onnx import CONFIG
from embeddings.errors import NewsbotError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

EXPORT_VERSION = 2  # bump when the export recipe changes, so caches are redone
_POOLINGS = ("mean", "cls", "max")


def slug(name: str) -> str:
    """A file-name-safe form of a model name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_.")[:120] or "model"


def complete(folder: Path) -> bool:
    """Whether ``folder`` holds a whole export of the current recipe."""
    try:
        return bool(json.loads((folder / CONFIG).read_text(encoding="utf-8")).get("export_version") == EXPORT_VERSION)
    except (OSError, ValueError):
        return False


@contextmanager
def cache_lock(cache_dir: Path, name: str) -> Iterator[None]:
    """Hold the model's writers' lock in ``cache_dir`` (blocking; no lock where flock is missing)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: the atomic renames below still keep every folder whole
        yield
        return
    with open(cache_dir / f".{slug(name)}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def staging(folder: Path) -> Iterator[Path]:
    """A fresh folder beside ``folder`` to write into; renamed onto ``folder`` when the block
    ends without error (replacing an incomplete or outdated one), removed otherwise."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".export-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        yield tmp
        if complete(folder):  # another writer (without flock) finished the same folder meanwhile
            return
        shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_config(folder: Path, config: dict[str, Any]) -> None:
    """Write the folder's ``newsbot-onnx.json`` (last: it marks the folder complete)."""
    text = json.dumps({"export_version": EXPORT_VERSION, **config}, indent=2) + "\n"
    (folder / CONFIG).write_text(text, encoding="utf-8")


def export_fp32(name: str, folder: Path) -> None:
    """Export the sentence-transformers model ``name`` to an fp32 ONNX graph in ``folder``
    (needs torch). Raises NewsbotError for a model the ONNX path cannot run."""
    model = _load_sentence_transformer(name)
    pooling = _pooling_of(model, name)
    dimension, max_seq_length = model.get_embedding_dimension(), model.max_seq_length
    if dimension is None or max_seq_length is None:  # int(None) raised this TypeError before
        raise TypeError(f"The model {name!r} reports no embedding dimension or no input window")
    with staging(folder) as tmp:
        model.tokenizer.save_pretrained(str(tmp))
        if not (tmp / "tokenizer.json").is_file():
            raise NewsbotError(f"The model {name!r} has no fast tokenizer; use NEWSBOT_ENCODER_BACKEND=torch.")
        _export_transformer(model, tmp / "model.onnx")
        config = {
            "model": name,
            "variant": "fp32",
            "pooling": pooling,
            "dimension": int(dimension),
            "max_seq_length": int(max_seq_length),
            "pad_token_id": int(model.tokenizer.pad_token_id or 0),
        }
        write_config(tmp, config)
    log.info("exported %s to %s", name, folder)


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
