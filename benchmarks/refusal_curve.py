"""The refusal curve of a ``newsbot eval-news --details FILE`` run: for each threshold on the
answer's confidence, the share of answerable, near-miss and held-out questions (and of the
last two together, issue 11's "absent") that it would refuse, per split of one setting; then
per split the highest threshold refusing at most ``--budget`` of the answerable questions,
and the share of answerable ones refused where 90% of the absent ones are. The details keep
every question's confidence, refused or not, so one run gives the whole curve.

    .venv/bin/python -m benchmarks.refusal_curve /tmp/details-topic.jsonl --setting heldout
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.natural_failures import read

THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
GROUPS = (("answerable", ("answer",)), ("near-miss", ("near-miss",)), ("held-out", ("held-out",)))


def confidences(rows: list[dict], expect: tuple[str, ...]) -> np.ndarray:
    return np.array([r["confidence"] for r in rows if r["expect"] in expect])


def curve(rows: list[dict], budget: float) -> list[str]:
    """The lines of one split's curve."""
    groups = {name: confidences(rows, expect) for name, expect in GROUPS}
    groups["absent"] = confidences(rows, ("near-miss", "held-out"))
    head = "threshold | " + " | ".join(f"{name} refused ({len(v)})" for name, v in groups.items())
    lines = [head]
    for t in THRESHOLDS:
        lines.append(f"{t:.2f} | " + " | ".join(f"{np.mean(v < t):.3f}" for v in groups.values()))
    present, absent = groups["answerable"], groups["absent"]
    within = [t for t in np.arange(0.01, 1.0, 0.01) if np.mean(present < t) <= budget]
    if within:
        t = max(within)
        refused = np.mean(absent < t)
        lines.append(f"at most {budget:.0%} answerable refused: threshold {t:.2f}, absent refused {refused:.3f}")
    t90 = float(np.quantile(absent, 0.9)) + 1e-9 if len(absent) else 0.0
    lines.append(f"90% of absent refused: threshold {t90:.3f}, answerable refused {np.mean(present < t90):.3f}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("details", type=Path)
    parser.add_argument("--setting", default="heldout")
    parser.add_argument("--budget", type=float, default=0.05, help="answerable questions refused at most")
    args = parser.parse_args()
    rows = [r for r in read(args.details) if r["setting"] == args.setting]
    for split in ("dev", "test"):
        print(f"{args.setting} {split}")
        for line in curve([r for r in rows if r["split"] == split], args.budget):
            print("  " + line)


if __name__ == "__main__":
    main()
