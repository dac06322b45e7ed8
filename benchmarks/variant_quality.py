"""XQuAD quality of the encoder variant ``auto`` runs here against torch fp32, in one run on one
machine (issue 12's acceptance: recall@5 within 0.3 point of torch fp32).

    python -m benchmarks.variant_quality [--variants int8-mixed int8-mixed-rr] [--cache DIR]

Each encoder goes through ``run_evaluation`` (the code behind ``newsbot eval``: hybrid search,
every 5th article held out) on XQuAD English from ``../shared``; ``--variants`` adds ONNX
variants pinned by name (``auto`` may pick another one on a noisy machine). Prints the machine,
one JSON line per encoder, and each ONNX encoder's recall@5 difference to torch fp32. It asserts
nothing: the numbers are for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from embeddings.encoders import load_encoder
from embeddings.encoders.base import Encoder
from embeddings.encoders.variants import VARIANTS, load_variant
from embeddings.evaluation import load_squad, run_evaluation
from embeddings.settings import DEFAULT_MODEL, EngineSettings

from .machine import machine
from .realdata import XQUAD

BOUND = 0.003  # 0.3 point of recall@5


def encoders(settings: EngineSettings, variants: list[str]) -> dict[str, Encoder]:
    """torch fp32 first (the reference), then what ``auto`` picks, then the pinned variants."""
    chosen = load_encoder(settings)
    found: dict[str, Encoder] = {
        "torch-fp32": load_encoder(settings.model_copy(update={"encoder_backend": "torch"})),
        f"auto ({getattr(chosen, 'variant', '?')})": chosen,
    }
    for variant in variants:
        found[variant] = load_variant(DEFAULT_MODEL, settings.model_cache, variant, reason="pinned by the benchmark")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", nargs="*", default=[], choices=list(VARIANTS))
    parser.add_argument("--cache", type=Path, default=None, help="model cache (default: the user's)")
    args = parser.parse_args()
    settings = EngineSettings(_env_file=None, model_cache_dir=args.cache)
    print(json.dumps(machine()), flush=True)
    dataset = load_squad(XQUAD)
    results: dict[str, dict[str, float | str]] = {}
    for name, encoder in encoders(settings, args.variants).items():
        started = time.perf_counter()
        results[name] = run_evaluation(dataset, settings, encoder)
        row = {
            "encoder": name,
            "reason": getattr(encoder, "reason", ""),
            "seconds": round(time.perf_counter() - started),
        }
        print(json.dumps({**row, **results[name]}), flush=True)
    reference = float(results["torch-fp32"]["recall@5"])
    for name, result in results.items():
        if name != "torch-fp32":
            delta = float(result["recall@5"]) - reference
            verdict = "within" if abs(delta) <= BOUND else "OUTSIDE"
            print(
                f"{name}: recall@5 {result['recall@5']} vs torch fp32 {reference}: "
                f"{delta * 100:+.2f} points ({verdict} 0.3)"
            )


if __name__ == "__main__":
    main()
