"""Soak the Discord bot: many simulated people asking at once over the local Discord-compatible
server, a /reload in the middle, memory across the run, and a flooding user held back by the
cooldown. The same code as ``tests/bot/test_discord_soak.py`` (``tests/bot/soak.py``), at any
size; prints a table.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/soak.py --questions 2000 --users 50 --concurrency 20
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # the tests package, run from anywhere


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--reload-at", type=float, default=0.5, help="share of the questions asked before /reload")
    parser.add_argument("--warmup", type=float, default=0.25, help="share of the questions before the first memory reading")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-flood", action="store_true", help="skip the flooding-user run")
    parser.add_argument("--flood-people", type=int, default=10)
    parser.add_argument("--flood-questions", type=int, default=10, help="per person and phase")
    parser.add_argument("--flood-hz", type=float, default=20.0)
    parser.add_argument("--backend", choices=("onnx-int8", "onnx", "torch"), default="onnx-int8",
                        help="the encoder backend (NEWSBOT_ENCODER_BACKEND; default as newsbot's)")
    parser.add_argument("--model-cache", type=Path, default=REPO / "data" / "models",
                        help="where the ONNX export is kept (default as newsbot's from the project root)")
    args = parser.parse_args()

    from embeddings.encoders import load_encoder
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings
    from tests.bot.soak import (
        FloodConfig,
        SoakConfig,
        run_flood,
        run_soak,
        seeds_for_soak,
    )

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="newsbot-soak-") as tmp:
        root = Path(tmp)
        started = time.perf_counter()
        seeds = seeds_for_soak(root / "seeds")
        settings = EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds,
                                  encoder_backend=args.backend, model_cache_dir=args.model_cache)
        engine = Engine(settings, load_encoder(settings))
        engine.refresh()
        print(f"engine ({args.backend}) ready in {time.perf_counter() - started:.1f} s")

        config = SoakConfig(questions=args.questions, users=args.users, concurrency=args.concurrency,
                            reload_at=args.reload_at, warmup=args.warmup, seed=args.seed)
        started = time.perf_counter()
        result = run_soak(engine, seeds, root, config)
        print(f"\nsoak ({time.perf_counter() - started:.1f} s with setting up the bot and the expected answers)")
        print(result.summary())
        problems = result.problems()
        for line in problems[:20]:
            print("  !", line)

        if not args.no_flood:
            started = time.perf_counter()
            flood = run_flood(engine, FloodConfig(people=args.flood_people, questions=args.flood_questions,
                                                  flood_hz=args.flood_hz))
            print(f"\nflood ({time.perf_counter() - started:.1f} s)")
            print(flood.summary())
            for line in flood.problems():
                print("  !", line)
            problems += flood.problems()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
