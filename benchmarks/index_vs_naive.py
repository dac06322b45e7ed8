"""``newsbot index`` against the naive script (``benchmarks.naive_ingest``), end to end as
processes, on the same articles, interleaved in the same run.

    python -m benchmarks.index_vs_naive [--articles 100] [--min-chars 3000] [--rounds 2]

The articles are the longest Wikinews articles of at least ``--min-chars`` characters, written
to a temporary seeds folder as one ``.jsonl`` file. Both sides first run once in a warm-up data
folder (the model export, if any, and the page cache are then warm, as for a user's second
index), then ``--rounds`` times each, alternating, every run in a fresh data folder. Prints and
writes ``data/bench/index_vs_naive.json`` with the machine, the variant that ran, each wall time
and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .machine import machine
from .realdata import WIKINEWS

RESULTS = Path("data/bench/index_vs_naive.json")


def write_longest(seeds: Path, articles: int, min_chars: int) -> dict:
    """The ``articles`` longest Wikinews articles (≥ ``min_chars``) as ``seeds/wikinews.jsonl``."""
    rows = [json.loads(line) for line in WIKINEWS.read_text(encoding="utf-8").splitlines() if line.strip()]
    long = sorted((r for r in rows if len(r["text"]) >= min_chars), key=lambda r: -len(r["text"]))[:articles]
    seeds.mkdir(parents=True, exist_ok=True)
    with open(seeds / "wikinews.jsonl", "w", encoding="utf-8") as fh:
        for r in long:
            fh.write(json.dumps({k: r[k] for k in ("id", "title", "published", "url", "source", "text")}) + "\n")
    return {"articles": len(long), "chars": sum(len(r["text"]) for r in long), "shortest": len(long[-1]["text"])}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if out.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.stderr[-3000:]}")
    return seconds, out.stdout


def newsbot(seeds: Path, data: Path, env: dict[str, str]) -> tuple[float, str]:
    exe = str(Path(sys.executable).parent / "newsbot")
    return timed([exe, "index"], {**env, "NEWSBOT_SEEDS_DIR": str(seeds), "NEWSBOT_DATA_DIR": str(data)})


def naive(seeds: Path, out: Path, env: dict[str, str]) -> tuple[float, str]:
    return timed([sys.executable, "-m", "benchmarks.naive_ingest", str(seeds), str(out)], env)


def variant(env: dict[str, str]) -> str:
    script = (
        "from embeddings.encoders import load_encoder\nfrom embeddings.settings import EngineSettings\n"
        "e = load_encoder(EngineSettings())\nprint(getattr(e, 'variant', '?'), '|', getattr(e, 'reason', ''))"
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100)
    parser.add_argument("--min-chars", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--no-warmup", action="store_true", help="skip the warm-up runs (when the model cache is already warm)"
    )
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    runs: dict[str, list[float]] = {"newsbot": [], "naive": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        corpus = write_longest(root / "seeds", args.articles, args.min_chars)
        print(f"corpus: {corpus}", flush=True)
        if not args.no_warmup:
            newsbot(root / "seeds", root / "warm-newsbot", env)
            naive(root / "seeds", root / "warm-naive", env)
        for r in range(args.rounds):
            for side in ("naive", "newsbot") if r % 2 == 0 else ("newsbot", "naive"):
                run = newsbot if side == "newsbot" else naive
                seconds, _ = run(root / "seeds", root / f"{side}-{r}", env)
                runs[side].append(round(seconds, 2))
                print(f"round {r + 1}: {side} {seconds:.1f} s", flush=True)
        chunks = json.loads((root / "naive-0" / "texts.json").read_text()).__len__()
    ratio = statistics.median(runs["naive"]) / statistics.median(runs["newsbot"])
    result = {
        "machine": machine(),
        "variant": variant(env),
        "warmup": not args.no_warmup,
        "corpus": corpus,
        "naive_windows": chunks,
        "seconds": runs,
        "speedup_median": round(ratio, 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    print(f"newsbot index ×{ratio:.2f} against the naive script (target ≥ 2) on {result['machine']['cpu_kind']}")


if __name__ == "__main__":
    main()
