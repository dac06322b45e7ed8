"""Check natural-question files (``benchmarks/questions/*.jsonl``) against the Wikinews corpus.

    python benchmarks/questions/check.py [--corpus PATH] [FILE ...]

With no FILE, every ``*.jsonl`` beside this script is checked. The checks follow the shared
format: known fields and values, ids unique across all files, every answer regex compiles and
matches its article's text (case-insensitive ``re.search``), the split rule, 2-5 questions per
article (one for an article of a follow-up story), and near-miss rows with no article, no answers
and real ``near_article_ids``.
That a near-miss's fact is in no article needs the author's key phrases, which the question
format does not hold: ``NAME.absent.json`` beside ``NAME.jsonl`` maps a near-miss id to regexes
that would match wherever an article stated the fact; none may match any title or text.
Prints one line per problem and a summary; the exit status is 1 when there is a problem.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[2] / "shared" / "corpus" / "wikinews-en.jsonl"
KINDS = {"when", "who", "where", "number", "other"}
STYLES = {"paraphrase", "casual", "reordered", "near-miss"}
REQUIRED = ("id", "article_id", "question", "kind", "answers", "split", "style")
OPTIONAL = ("story", "near_article_ids")


def split_of(key: str) -> str:
    """The split a question belongs to: its article id (near-miss: its own id) decides it."""
    return "test" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def read_corpus(path: Path, titles: bool = False) -> dict[str, str]:
    """Article id to article text (with ``titles``: title, a newline, then the text)."""
    with open(path, encoding="utf-8") as fh:
        rows = map(json.loads, fh)
        return {row["id"]: f"{row['title']}\n{row['text']}" if titles else row["text"] for row in rows}


def check_absent(absent: dict[str, list[str]], rows: list[dict], corpus: dict[str, str]) -> list[str]:
    """Problems of the near-miss key phrases: each names a near-miss and matches no article."""
    near_misses = {row["id"] for row in rows if row.get("style") == "near-miss"}
    problems = [
        f"{qid}: key phrases given for a question that is not a near-miss" for qid in absent.keys() - near_misses
    ]
    problems += [f"{qid}: near-miss without key phrases" for qid in sorted(near_misses - absent.keys())]
    everything = "\n".join(corpus.values())  # one search per phrase; articles only to name them
    for qid, patterns in absent.items():
        for pattern in (p for p in patterns if re.search(p, everything, re.IGNORECASE)):
            hits = [aid for aid, text in corpus.items() if re.search(pattern, text, re.IGNORECASE)]
            problems.append(f"{qid}: key phrase {pattern!r} is in {', '.join(hits[:3]) or 'the corpus'}")
    return problems


def check_rows(rows: list[dict], corpus: dict[str, str]) -> list[str]:
    """Every problem of these rows, one message each, prefixed with the question id."""
    problems = [p for row in rows for p in _check_row(row, corpus)]
    ids = Counter(str(row.get("id")) for row in rows)
    problems += [f"{qid}: id used {n} times" for qid, n in ids.items() if n > 1]
    # A follow-up story may ask one question of each of its articles (the fact that changed).
    per_article = Counter(row["article_id"] for row in rows if row.get("article_id"))
    in_stories = {row["article_id"] for row in rows if row.get("article_id") and row.get("story")}
    problems += [
        f"{aid}: {n} questions (2-5 per article)"
        for aid, n in per_article.items()
        if not 2 <= n <= 5 and not (aid in in_stories and n == 1)
    ]
    return problems


def _check_row(row: dict, corpus: dict[str, str]) -> list[str]:
    qid = row.get("id", "?")
    missing = [f for f in REQUIRED if f not in row]
    unknown = [f for f in row if f not in REQUIRED + OPTIONAL]
    if missing or unknown:
        return [f"{qid}: missing fields {missing}, unknown fields {unknown}"]
    problems = []
    if row["kind"] not in KINDS:
        problems.append(f"{qid}: kind {row['kind']!r} not one of {sorted(KINDS)}")
    if row["style"] not in STYLES:
        problems.append(f"{qid}: style {row['style']!r} not one of {sorted(STYLES)}")
    near_miss = row["style"] == "near-miss"
    key = qid if near_miss else str(row["article_id"])
    if row["split"] != split_of(key):
        problems.append(f"{qid}: split {row['split']!r}, the rule gives {split_of(key)!r}")
    check = _check_near_miss if near_miss else _check_answerable
    return problems + check(qid, row, corpus)


def _check_near_miss(qid: str, row: dict, corpus: dict[str, str]) -> list[str]:
    problems = []
    if row["article_id"] is not None or row["answers"]:
        problems.append(f"{qid}: a near-miss has article_id null and no answers")
    near = row.get("near_article_ids") or []
    if not near:
        problems.append(f"{qid}: a near-miss names its near_article_ids")
    problems += [f"{qid}: near article {aid} is not in the corpus" for aid in near if aid not in corpus]
    return problems


def _check_answerable(qid: str, row: dict, corpus: dict[str, str]) -> list[str]:
    text = corpus.get(row["article_id"])
    if text is None:
        return [f"{qid}: article {row['article_id']} is not in the corpus"]
    if not row["answers"]:
        return [f"{qid}: no answer regex"]
    problems = []
    for pattern in row["answers"]:
        try:
            found = re.search(pattern, text, re.IGNORECASE)
        except re.error as exc:
            problems.append(f"{qid}: answer {pattern!r} does not compile ({exc})")
            continue
        if not found:
            problems.append(f"{qid}: answer {pattern!r} is not in {row['article_id']}")
    return problems


def absent_path(questions: Path) -> Path:
    """Where the near-miss key phrases of a question file live: ``NAME.absent.json``."""
    return questions.with_suffix(".absent.json")


def read_rows(paths: Iterable[Path]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh if line.strip()]
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="question files (default: every *.jsonl here)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="wikinews-en.jsonl")
    args = parser.parse_args(argv)
    paths = args.files or sorted(HERE.glob("*.jsonl"))
    rows = read_rows(paths)
    problems = check_rows(rows, read_corpus(args.corpus))
    with_phrases = [path for path in paths if absent_path(path).exists()]
    if with_phrases:
        absent = {
            qid: v for path in with_phrases for qid, v in json.loads(absent_path(path).read_text("utf-8")).items()
        }
        problems += check_absent(absent, read_rows(with_phrases), read_corpus(args.corpus, titles=True))
    for problem in problems:
        print(problem)
    kinds = Counter(row.get("kind") for row in rows if row.get("style") != "near-miss")
    near_misses = sum(row.get("style") == "near-miss" for row in rows)
    print(
        f"{len(rows)} questions in {len(paths)} files: {len(rows) - near_misses} answerable "
        f"{dict(sorted(kinds.items()))}, {near_misses} near-miss; {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
