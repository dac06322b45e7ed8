"""Soak the Discord bot: many simulated people asking at once over the local Discord-compatible
server, a /reload in the middle, memory across the run, and a flooding user held back by the
cooldown. Runs the soak test module (``tests/bot/test_discord_soak.py``) through pytest, at any
size; prints its figures.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/soak.py --questions 2000 --users 50 --concurrency 20

The soak needs the fake Discord server, which is test machinery and stays in ``tests/``; so
this script imports nothing from there and runs the tests' own entry point (pytest) in a
subprocess instead, with the sizes in the environment (read by ``tests/bot/soak.py``'s
``from_env``). The exit code is pytest's: 0 when every check of the soak held.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOAK_TESTS = REPO / "tests" / "bot" / "test_discord_soak.py"

# option -> environment variable read by the soak test module
SIZES = {
    "questions": "SOAK_QUESTIONS",
    "users": "SOAK_USERS",
    "concurrency": "SOAK_CONCURRENCY",
    "reload_at": "SOAK_RELOAD_AT",
    "warmup": "SOAK_WARMUP",
    "seed": "SOAK_SEED",
    "flood_people": "FLOOD_PEOPLE",
    "flood_questions": "FLOOD_QUESTIONS",
    "flood_hz": "FLOOD_FLOOD_HZ",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The run's sizes; anything left unset keeps the soak test's own (CI) size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, help="default 2000")
    parser.add_argument("--users", type=int, help="default 50")
    parser.add_argument("--concurrency", type=int, help="default 20")
    parser.add_argument("--reload-at", type=float, help="share of the questions asked before /reload (0.5)")
    parser.add_argument("--warmup", type=float, help="share of the questions before the first memory reading (0.25)")
    parser.add_argument("--seed", type=int, help="default 7")
    parser.add_argument("--no-flood", action="store_true", help="skip the flooding-user run")
    parser.add_argument("--flood-people", type=int, help="default 10")
    parser.add_argument("--flood-questions", type=int, help="per person and phase (10)")
    parser.add_argument("--flood-hz", type=float, help="default 20")
    parser.add_argument(
        "--backend",
        choices=("onnx-int8", "onnx", "torch"),
        help="the encoder backend (NEWSBOT_ENCODER_BACKEND; default as newsbot's)",
    )
    return parser.parse_args(argv)


def soak_environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment of the pytest run: ours, offline, with the sizes that were given."""
    env = dict(
        os.environ,
        HF_HUB_OFFLINE=os.environ.get("HF_HUB_OFFLINE", "1"),
        TRANSFORMERS_OFFLINE=os.environ.get("TRANSFORMERS_OFFLINE", "1"),
    )
    env.update(
        {name: str(getattr(args, option)) for option, name in SIZES.items() if getattr(args, option) is not None}
    )
    if args.backend:
        env["NEWSBOT_ENCODER_BACKEND"] = args.backend
    return env


def main(argv: list[str] | None = None) -> int:
    """Run the soak (and the flood unless ``--no-flood``) and return pytest's exit code."""
    args = parse_args(argv)
    command = [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", str(SOAK_TESTS)]
    if args.no_flood:
        command += ["-k", "not flooding"]
    return subprocess.run(command, cwd=REPO, env=soak_environment(args), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
