"""Fit the answer confidence (a logistic combination of the best sentence's coverage, cosine,
the best dense score and the lists' agreement) on feature dumps of ``benchmarks.answer_lab
--dump`` (present questions = 1, held-out and near-miss = 0; each set weighs the same), and
print the weights and the refusal curve of each set.

    .venv/bin/python -m benchmarks.fit_confidence /tmp/lab/xquad.jsonl /tmp/lab/natural-dev.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

FEATURES = ("coverage", "cosine", "dense", "agree")


def load(paths: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    rows = [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]
    x = np.array([[1.0] + [float(r[f]) for f in FEATURES] for r in rows])
    y = np.array([float(r["present"]) for r in rows])
    sets = [r["set"] for r in rows]
    weight = np.array([1.0 / sets.count(s) for s in sets])  # every set counts the same
    return x, y, weight, sets


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, steps: int = 20_000) -> np.ndarray:
    """Weighted logistic regression by gradient descent (a handful of features: plenty)."""
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-x @ w))
        w -= 2.0 * (x.T @ (weight * (p - y))) / weight.sum()
    return w


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dumps", type=Path, nargs="+")
    args = parser.parse_args()
    x, y, weight, sets = load(args.dumps)
    w = fit(x, y, weight)
    print("weights (bias, " + ", ".join(FEATURES) + "):", [round(float(v), 2) for v in w])
    p = 1 / (1 + np.exp(-x @ w))
    for name in sorted(set(sets)):
        mask = np.array([s == name for s in sets])
        pos, neg = p[mask & (y == 1)], p[mask & (y == 0)]
        print(f"{name}: {len(pos)} present, {len(neg)} absent")
        for t in (0.3, 0.4, 0.5, 0.6, 0.7):
            print(f"  threshold {t:.2f}: absent refused {np.mean(neg < t):.3f}, present refused {np.mean(pos < t):.3f}")


if __name__ == "__main__":
    main()
