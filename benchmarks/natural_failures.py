"""The failures of a ``newsbot eval-news --details FILE`` run, counted: per setting and split, how
many questions went wrong by the first step that did (``embeddings.natural.scoring.FAILURES``),
and which kinds of question the span failures are. ``--show FAILURE`` prints those questions
with what they got (question, quoted sentence, short answer), to read them one by one.

    .venv/bin/python -m benchmarks.natural_failures /work/cache/details-lexical.jsonl
    .venv/bin/python -m benchmarks.natural_failures FILE --setting whole --show wrong_span
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from embeddings.natural.scoring import FAILURES


def read(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:  # files written before the name was fixed counted none of these
        if row["expect"] == "held-out" and row["answered"]:
            row["failure"] = "heldout_answered"
    return rows


def table(rows: list[dict]) -> None:
    settings = list(dict.fromkeys(r["setting"] for r in rows))
    columns = [(s, split) for s in settings for split in ("dev", "test")]
    print(f"{'':22}" + "".join(f"{f'{s}/{split}':>15}" for s, split in columns))
    for name in ("questions", *FAILURES, "right"):  # right: a right answer, or a refusal where one is due
        cells = []
        for s, split in columns:
            group = [r for r in rows if r["setting"] == s and r["split"] == split]
            if name == "questions":
                count = len(group)
            else:
                count = sum(1 for r in group if r["failure"] == (None if name == "right" else name))
            cells.append(f"{count:>15}")
        print(f"{name:22}" + "".join(cells))


def span_kinds(rows: list[dict]) -> None:
    for failure in ("no_span", "wrong_span", "wrong_sentence", "wrong_article", "refused"):
        for setting in dict.fromkeys(r["setting"] for r in rows):
            kinds = Counter(r["kind"] for r in rows if r["setting"] == setting and r["failure"] == failure)
            if kinds:
                print(f"{failure} in {setting}: " + ", ".join(f"{k} {n}" for k, n in kinds.most_common()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("details", type=Path)
    parser.add_argument("--setting", help="only this setting (whole, small-5, small-50, heldout)")
    parser.add_argument("--show", choices=FAILURES, help="print the questions that failed this way")
    args = parser.parse_args()
    rows = [r for r in read(args.details) if args.setting in (None, r["setting"])]
    table(rows)
    print()
    span_kinds(rows)
    for r in rows if args.show else ():
        if r["failure"] == args.show:
            print(f"\n{r['setting']} {r['id']} ({r['kind']}, {r['split']}): {r['question']}")
            print(f"  cited {r['cited_article_id']} (own {r['article_id']}, rank {r['rank']}), conf {r['confidence']}")
            print(f"  quoted: {r['quoted']}\n  short: {r['short_answer']}")


if __name__ == "__main__":
    main()
