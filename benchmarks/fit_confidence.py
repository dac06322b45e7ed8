"""Fit the answer confidence (a logistic combination of the signals of
``embeddings.answer.writer.CONFIDENCE_SIGNALS``: the best sentence's coverage and cosine, the
best dense score, the lists' agreement and each list's margin) on feature dumps of
``benchmarks.answer_lab --dump`` and ``benchmarks.natural_lab --dump`` (present questions = 1,
held-out and near-miss = 0; each set weighs the same), and print the weights, the
``AnswerPolicy.confidence_weights`` that put the chosen threshold at ``min_confidence``, and
the refusal curve of each set (``--held`` dumps are scored, never fitted on: the test split).
``--signals`` fits only those signals (the others weigh 0); ``--budget-set`` bounds the share of
that set's present questions refused instead of all sets' (each weighing the same).

    .venv/bin/python -m benchmarks.fit_confidence /tmp/lab/xquad.jsonl /tmp/lab/natural-dev.jsonl \\
        --held /tmp/lab/natural-test.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from embeddings.answer.policy import AnswerPolicy
from embeddings.answer.writer import CONFIDENCE_SIGNALS

THRESHOLDS = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8)


def load(
    paths: list[Path], signals: tuple[str, ...] = CONFIDENCE_SIGNALS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], np.ndarray]:
    """Signals (with a bias column), labels, per-row weights, set names, and the factor the
    writer multiplies the confidence by (``AnswerPolicy.unfilled_slot`` for a when/how-many
    question whose sentence holds no date or number: dumps of ``benchmarks.evidence_lab``)."""
    rows = [json.loads(line) for path in paths for line in path.read_text().splitlines() if line.strip()]
    x = np.array([[1.0] + [float(r[f]) for f in signals] for r in rows])
    y = np.array([float(r["present"]) for r in rows])
    sets = [r["set"] for r in rows]
    weight = np.array([1.0 / sets.count(s) for s in sets])  # every set counts the same
    factor = np.array([AnswerPolicy().unfilled_slot if r.get("unfilled") else 1.0 for r in rows])
    return x, y, weight, sets, factor


def fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, steps: int = 20_000) -> np.ndarray:
    """Weighted logistic regression by gradient descent (a handful of features: plenty), on
    standardised signals (their scales differ tenfold: the margins are small numbers), the
    weights given back for the raw ones."""
    mean, scale = x[:, 1:].mean(axis=0), x[:, 1:].std(axis=0) + 1e-9
    z = np.column_stack([x[:, 0], (x[:, 1:] - mean) / scale])
    w = np.zeros(x.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-z @ w))
        w -= 2.0 * (z.T @ (weight * (p - y))) / weight.sum()
    return np.concatenate([[w[0] - np.sum(w[1:] * mean / scale)], w[1:] / scale])


def choose(p: np.ndarray, y: np.ndarray, weight: np.ndarray, budget: float, only: np.ndarray | None = None) -> float:
    """The highest threshold at which at most ``budget`` of the present questions (each set
    weighing the same; of the rows ``only`` when given) are refused."""
    present = (y == 1) & (only if only is not None else True)
    for t in np.arange(0.95, 0.0, -0.01):
        if np.sum(weight[present] * (p[present] < t)) / np.sum(weight[present]) <= budget:
            return float(round(t, 2))
    return 0.0


def curve(name: str, p: np.ndarray, y: np.ndarray, chosen: float) -> None:
    pos, neg = p[y == 1], p[y == 0]
    print(f"{name}: {len(pos)} present, {len(neg)} absent")
    for t in sorted({*THRESHOLDS, chosen}):
        mark = "  <- chosen" if t == chosen else ""
        print(
            f"  threshold {t:.2f}: absent refused {np.mean(neg < t):.3f}, present refused {np.mean(pos < t):.3f}{mark}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("dumps", type=Path, nargs="+")
    parser.add_argument("--held", type=Path, nargs="*", default=[], help="dumps only scored (a test split)")
    parser.add_argument("--budget", type=float, default=0.05, help="present questions refused at most")
    parser.add_argument("--budget-set", help="the set whose present questions the budget bounds (default: all)")
    parser.add_argument("--signals", nargs="*", default=list(CONFIDENCE_SIGNALS), choices=CONFIDENCE_SIGNALS)
    args = parser.parse_args()
    signals = tuple(args.signals)
    x, y, weight, sets, factor = load(args.dumps, signals)
    w = fit(x, y, weight)
    print("weights (bias, " + ", ".join(signals) + "):", [round(float(v), 2) for v in w])
    p = factor / (1 + np.exp(-x @ w))
    only = np.array([s == args.budget_set for s in sets]) if args.budget_set else None
    chosen = choose(p, y, weight, args.budget, only)
    # The same decision with the policy's threshold: shift the bias by the logits' difference.
    target = AnswerPolicy().min_confidence
    shift = np.log(target / (1 - target)) - np.log(chosen / (1 - chosen))
    every = dict(zip(signals, w[1:], strict=True))
    print(f"chosen threshold {chosen:.2f}; confidence_weights for min_confidence {target}:")
    print("  (" + ", ".join(f"{v:.2f}" for v in [w[0] + shift, *(every.get(n, 0.0) for n in CONFIDENCE_SIGNALS)]) + ")")
    scored = [
        (name, p[np.array([s == name for s in sets])], y[np.array([s == name for s in sets])])
        for name in sorted(set(sets))
    ]
    if args.held:
        hx, hy, _, hsets, hfactor = load(args.held, signals)
        hp = hfactor / (1 + np.exp(-hx @ w))
        scored += [
            (f"{n} (held)", hp[np.array([s == n for s in hsets])], hy[np.array([s == n for s in hsets])])
            for n in sorted(set(hsets))
        ]
    for name, ps, ys in scored:
        curve(name, ps, ys, chosen)


if __name__ == "__main__":
    main()
