"""Mean cosine of each ONNX variant's vectors to the fp32 export's, on real text.

    python -m benchmarks.variant_cosines [--texts 40] [--cache DIR]

The texts: the first N XQuAD English paragraphs and the first 100 words of the first N Wikinews
articles (read from ``../shared``). Complements the fixed batch ``auto`` gates on
(``embeddings/encoders/choice.py``); prints one line per variant and the machine it ran on.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from embeddings.encoders.choice import cosine_to, sample_texts
from embeddings.encoders.variants import VARIANTS, load_variant
from embeddings.settings import DEFAULT_MODEL, EngineSettings

from .machine import machine
from .realdata import WIKINEWS, XQUAD


def real_texts(count: int) -> dict[str, list[str]]:
    xquad = json.loads(XQUAD.read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in xquad["data"] for p in a["paragraphs"]][:count]
    rows = [json.loads(line)["text"] for line in WIKINEWS.read_text(encoding="utf-8").splitlines()[:count]]
    return {"fixed batch": sample_texts(), "xquad": paragraphs, "wikinews": [" ".join(r.split()[:100]) for r in rows]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=40)
    parser.add_argument("--cache", type=Path, default=None)
    args = parser.parse_args()
    cache = args.cache or EngineSettings(_env_file=None).model_cache
    print(json.dumps(machine()))
    groups = real_texts(args.texts)
    fp32 = load_variant(DEFAULT_MODEL, cache, "fp32")
    reference = {name: fp32.encode(texts) for name, texts in groups.items()}
    for variant in VARIANTS:
        encoder = load_variant(DEFAULT_MODEL, cache, variant)
        cosines = {name: round(cosine_to(reference[name], encoder.encode(texts)), 4) for name, texts in groups.items()}
        print(f"{variant:>14}: " + ", ".join(f"{name} {value}" for name, value in cosines.items()), flush=True)


if __name__ == "__main__":
    main()
