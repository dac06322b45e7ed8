"""The ways the exported model can run on ONNX Runtime, each one folder of the model cache
(``<cache>/<model>-<variant>/``): the fp32 export, and variants derived from it without torch
(onnxruntime's graph fusions for BERT-like models, dynamic int8 quantisation).

Which is fastest depends on the CPU (int8 gains most with VNNI; without it, the u8×s8
products can saturate unless the weights keep to 7 bits, ``reduce_range``), so ``choice.py``
measures the candidates on the machine itself.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from embeddings.encoders.cpu import cpu_info
from embeddings.encoders.export import EXPORT_VERSION, cache_lock, complete, export_fp32, slug, staging, write_config
from embeddings.encoders.onnx import CONFIG, OnnxEncoder
from embeddings.errors import NewsbotError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Variant:
    """One recipe: ``fused`` applies onnxruntime's transformer fusions (attention, layer norm,
    GELU as single kernels); ``quantize`` stores int8 weights (``per_channel``; ``reduce_range``
    = 7-bit; ``every_op`` quantises all operators, not only the matrix products;
    ``fp32_ffn_down`` keeps the feed-forward down-projections, whose inputs are the skewed GELU
    outputs that per-tensor uint8 activations serve worst, in fp32)."""

    name: str
    summary: str
    quantize: bool = False
    fused: bool = False
    reduce_range: bool = False
    per_channel: bool = True
    every_op: bool = False
    fp32_ffn_down: bool = False


VARIANTS = {
    v.name: v
    for v in (
        Variant("fp32", "the fp32 export"),
        Variant("fp32-fused", "fp32 with fused attention, layer norm and GELU", fused=True),
        Variant("int8", "int8 weights per channel on the matrix products", quantize=True),
        Variant("int8-rr", "int8 (7-bit) weights per channel on the matrix products", quantize=True, reduce_range=True),
        # Full int8 measured 0.9937 mean cosine to fp32 on Wikinews text on an AVX2 CPU (below
        # the gate); with the down-projections in fp32, 0.9963 (``docs/BENCHMARKS.md``).
        Variant(
            "int8-mixed", "int8 matrix products except the FFN down-projections", quantize=True, fp32_ffn_down=True
        ),
        Variant(
            "int8-mixed-rr",
            "int8 (7-bit) matrix products except the FFN down-projections",
            quantize=True,
            reduce_range=True,
            fp32_ffn_down=True,
        ),
        # onnxruntime's default recipe: fast, but its vectors drift (mean cosine ~0.96 to fp32).
        # Not a candidate; the tests show the cosine gate turns it away.
        Variant("int8-tensor", "int8 per tensor on every operator", quantize=True, per_channel=False, every_op=True),
    )
}
CANDIDATES = ("fp32", "fp32-fused", "int8", "int8-rr", "int8-mixed", "int8-mixed-rr")


def int8_for_this_cpu() -> str:
    """The int8 variant NEWSBOT_ENCODER_BACKEND=onnx-int8 means: full 8-bit weights with VNNI,
    7-bit without (which cannot saturate the u8×s8 products)."""
    features = set(cpu_info().features)
    return (
        "int8" if features & {"avx512_vnni", "avx_vnni"} or cpu_info().machine not in ("x86_64", "AMD64") else "int8-rr"
    )


def variant_folder(cache_dir: Path, name: str, variant: str) -> Path:
    # The recipe's version is in the name: checkouts with another recipe share the user's cache
    # without replacing each other's folders.
    return cache_dir / f"{slug(name)}-e{EXPORT_VERSION}-{variant}"


def prepare(name: str, cache_dir: Path, variant: str) -> Path:
    """The folder of ``variant`` of model ``name``, exported or derived first if missing.
    The caller holds ``cache_lock``."""
    folder = variant_folder(cache_dir, name, variant)
    if complete(folder):
        return folder
    if variant == "fp32":
        export_fp32(name, folder)
    else:
        _derive(prepare(name, cache_dir, "fp32"), folder, VARIANTS[variant])
    return folder


def load_variant(name: str, cache_dir: Path, variant: str, *, threads: int = 0, reason: str = "") -> OnnxEncoder:
    """The encoder for ``variant`` of model ``name``, made in ``cache_dir`` on first use (a
    damaged folder is made again). Raises NewsbotError when the model cannot be exported."""
    if variant not in VARIANTS:
        raise NewsbotError(f"Unknown ONNX variant {variant!r}; known: {', '.join(VARIANTS)}.")
    try:
        with cache_lock(cache_dir, name):
            return _load_or_remake(name, cache_dir, variant, threads, reason)
    except NewsbotError:
        raise
    except Exception as exc:
        raise NewsbotError(
            f"Could not export the model {name!r} to ONNX in {cache_dir} ({exc.__class__.__name__}: {exc}). "
            "Set NEWSBOT_ENCODER_BACKEND=torch to run it without ONNX."
        ) from exc


def _load_or_remake(name: str, cache_dir: Path, variant: str, threads: int, reason: str) -> OnnxEncoder:
    # A damaged variant is made again; if that fails too, so is the fp32 export it came from.
    for damaged in (variant, "fp32", None):
        try:
            return OnnxEncoder(name, prepare(name, cache_dir, variant), threads=threads, reason=reason)
        except NewsbotError:
            raise
        except Exception as exc:  # onnxruntime, onnx, tokenizers and json raise their own types
            if damaged is None:
                raise
            log.warning("the %s export of %s is damaged (%s); making it again", variant, name, exc)
            discard(cache_dir, name, damaged)
            discard(cache_dir, name, variant)
    raise AssertionError("unreachable")


def discard(cache_dir: Path, name: str, variant: str) -> None:
    """Mark a variant's folder incomplete, so that it is made again."""
    (variant_folder(cache_dir, name, variant) / CONFIG).unlink(missing_ok=True)


def _derive(source: Path, folder: Path, variant: Variant) -> None:
    import json

    config = json.loads((source / CONFIG).read_text(encoding="utf-8"))
    with staging(folder) as tmp:
        shutil.copy2(source / "tokenizer.json", tmp / "tokenizer.json")
        model = source / "model.onnx"
        if variant.fused:
            model = _fuse(model, tmp / "model-fused.onnx")
        if variant.quantize:
            _quantize(model, tmp / "model.onnx", variant)
        elif variant.fused:
            model.rename(tmp / "model.onnx")
        else:
            shutil.copy2(model, tmp / "model.onnx")
        for scratch in tmp.glob("model-*.onnx"):
            scratch.unlink()
        write_config(tmp, {**config, "variant": variant.name})
    log.info("made the %s variant in %s", variant.name, folder)


def _fuse(source: Path, target: Path) -> Path:
    from onnxruntime.transformers.optimizer import optimize_model

    # num_heads/hidden_size 0: read from the graph. Only the pure graph rewrites: the result
    # must load on any CPU, so ORT's hardware-specific optimisations stay for session time.
    optimized = optimize_model(str(source), model_type="bert", num_heads=0, hidden_size=0, opt_level=0)
    optimized.save_model_to_file(str(target))
    return target


def _quantize(source: Path, target: Path, variant: Variant) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process

    prepared = source
    if not variant.fused:  # the fused graph's contrib operators defeat the pre-processing's shape inference
        prepared = target.with_name("model-prepared.onnx")
        quant_pre_process(str(source), str(prepared), skip_symbolic_shape=True)  # onnxruntime's advice
    ops = None if variant.every_op else ["MatMul", "Attention"] if variant.fused else ["MatMul"]
    quantize_dynamic(
        str(prepared),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=variant.per_channel,
        reduce_range=variant.reduce_range,
        op_types_to_quantize=ops,
        nodes_to_exclude=_ffn_down_projections(prepared) if variant.fp32_ffn_down else None,
    )


def _ffn_down_projections(model: Path) -> list[str]:
    """The feed-forward down-projections of a BERT-like export: the MatMuls that read the
    activation (GELU) output, found by the graph's edges rather than by the layers' names."""
    import onnx

    graph = onnx.load(str(model), load_external_data=False).graph
    producer = {out: node for node in graph.node for out in node.output}
    gelu_like = {"Erf", "Gelu", "FastGelu", "BiasGelu", "Tanh"}

    def after_activation(name: str, depth: int = 0) -> bool:
        node = producer.get(name)
        if node is None or depth > 4:
            return False
        return node.op_type in gelu_like or any(after_activation(i, depth + 1) for i in node.input)

    return [n.name for n in graph.node if n.op_type == "MatMul" and after_activation(n.input[0])]
