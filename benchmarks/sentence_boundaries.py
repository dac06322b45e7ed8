"""The fast sentence splitter against stock pysbd: equal boundaries, and the time each takes.

    python -m benchmarks.sentence_boundaries [--wikinews N] [--squad N]

Texts: the repository's seeds, the Wikinews corpus (the first N articles; all by default), the
SQuAD v1.1 dev paragraphs and XQuAD English's. ``split_sentences`` runs with the default
(``fast_segmenter``) in this process and with a stock ``pysbd.Segmenter`` in a child process
that never loads the speed-ups; every text's boundaries must be identical. Writes
``data/bench/sentence_boundaries.json``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from .machine import machine
from .realdata import SQUAD, WIKINEWS, XQUAD

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
RESULTS = Path("data/bench/sentence_boundaries.json")


def squad_paragraphs(data: dict) -> list[str]:
    return [p["context"] for article in data["data"] for p in article["paragraphs"]]


def texts(wikinews: int | None, squad: int | None) -> dict[str, list[str]]:
    from embeddings.ingest.corpus import read_corpus

    rows = [json.loads(line) for line in WIKINEWS.read_text(encoding="utf-8").splitlines() if line.strip()]
    with zipfile.ZipFile(SQUAD) as z:
        squad_data = json.loads(z.read(next(n for n in z.namelist() if n.endswith(".json"))))
    return {
        "seeds": [a.text for a in read_corpus(SEEDS).articles],
        "wikinews": [r["text"] for r in rows[:wikinews]],
        "squad-dev": squad_paragraphs(squad_data)[:squad],
        "xquad-en": squad_paragraphs(json.loads(XQUAD.read_text(encoding="utf-8"))),
    }


def boundaries(groups: dict[str, list[str]], stock: bool) -> tuple[dict[str, list], dict[str, float]]:
    import pysbd

    from embeddings.ingest.sentences import split_sentences

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False) if stock else None
    out, seconds = {}, {}
    for name, items in groups.items():
        started = time.perf_counter()
        out[name] = [[(s.start, s.end) for s in split_sentences(t, segmenter=segmenter)] for t in items]
        seconds[name] = round(time.perf_counter() - started, 2)
    return out, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wikinews", type=int, default=None)
    parser.add_argument("--squad", type=int, default=None)
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    groups = texts(args.wikinews, args.squad)
    if args.child:  # stock pysbd, in a process where the speed-ups were never installed
        found, seconds = boundaries(groups, stock=True)
        args.child.write_text(json.dumps({"boundaries": found, "seconds": seconds}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stock.json"
        command = [sys.executable, "-m", "benchmarks.sentence_boundaries", "--child", str(out)]
        command += [f"--{k}={v}" for k, v in (("wikinews", args.wikinews), ("squad", args.squad)) if v is not None]
        subprocess.run(command, check=True)
        stock = json.loads(out.read_text())
    fast, seconds = boundaries(groups, stock=False)
    fast = json.loads(json.dumps(fast))  # tuples → lists, as the child's came
    report = {"machine": machine(), "groups": {}}
    for name, items in groups.items():
        differ = [i for i, (a, b) in enumerate(zip(fast[name], stock["boundaries"][name])) if a != b]
        report["groups"][name] = {
            "texts": len(items),
            "chars": sum(map(len, items)),
            "sentences": sum(map(len, fast[name])),
            "texts_with_different_boundaries": len(differ),
            "first_differences": differ[:5],
            "stock_s": stock["seconds"][name],
            "fast_s": seconds[name],
        }
        g = report["groups"][name]
        print(
            f"{name:>10}: {g['texts']:5} texts, {g['sentences']:6} sentences, {len(differ)} differ; "
            f"stock pysbd {g['stock_s']} s, fast {g['fast_s']} s"
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
