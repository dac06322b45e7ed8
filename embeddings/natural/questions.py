"""The natural-question files: JSON Lines under ``benchmarks/questions/``, one question a line.

The format (shared by everyone who writes questions) is described in docs/EVALUATION.md,
"Natural questions". ``load_questions`` reads every ``*.jsonl`` of a folder and refuses a bad
line with an error that names the file and the line.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from embeddings.errors import QuestionFileError

KINDS = ("when", "who", "where", "number", "other")
STYLES = ("paraphrase", "casual", "reordered", "near-miss")
SPLITS = ("dev", "test")
_FIELDS = {"id", "article_id", "question", "kind", "answers", "split", "style", "near_article_ids", "story"}


@dataclass(frozen=True, slots=True)
class NaturalQuestion:
    """One question: answerable (``article_id`` set, ``answers`` regexes) or a near miss
    (``article_id`` None, ``near_article_ids`` the articles whose entities it names)."""

    id: str
    question: str
    kind: str
    answers: tuple[re.Pattern[str], ...]
    split: str
    style: str
    article_id: str | None
    near_article_ids: tuple[str, ...] = ()
    story: str | None = None
    where: str = ""  # file:line, for messages

    @property
    def near_miss(self) -> bool:
        return self.article_id is None

    def holds_answer(self, text: str) -> bool:
        """Whether one of the answer regexes matches ``text`` (case-insensitive ``re.search``)."""
        return any(p.search(text) for p in self.answers)

    @property
    def anchors(self) -> tuple[str, ...]:
        """The corpus articles the question is about: its own article, or the near articles."""
        return (self.article_id,) if self.article_id else self.near_article_ids


def split_of(key: str) -> str:
    """The split rule: ``test`` when sha1(key) is divisible by 3, else ``dev``; the key is the
    article id (a near miss: the question id), so all questions of one article share a split."""
    return "test" if int(hashlib.sha1(key.encode()).hexdigest(), 16) % 3 == 0 else "dev"


def load_questions(folder: Path, known_ids: Collection[str] | None = None) -> tuple[NaturalQuestion, ...]:
    """Every question of every ``*.jsonl`` in ``folder`` (sorted by file name), validated; when
    ``known_ids`` is given, every article id must be one of them. Raises ``QuestionFileError``."""
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise QuestionFileError(f"No question files (*.jsonl) in {folder}.")
    questions: list[NaturalQuestion] = []
    seen: dict[str, str] = {}
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name} line {number}"
            question = parse_question(line, where, known_ids)
            if question.id in seen:
                raise QuestionFileError(f"{where}: duplicate id {question.id!r} (also {seen[question.id]}).")
            seen[question.id] = where
            questions.append(question)
    return tuple(questions)


def parse_question(line: str, where: str, known_ids: Collection[str] | None = None) -> NaturalQuestion:
    """One line of a question file; ``where`` names it in every error message."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise QuestionFileError(f"{where}: not valid JSON ({exc}).") from exc
    if not isinstance(data, dict):
        raise QuestionFileError(f"{where}: not a JSON object.")
    _check_fields(data, where)
    article_id = data.get("article_id")
    near = tuple(data.get("near_article_ids") or ())
    for aid in (article_id, *near):
        if known_ids is not None and aid is not None and aid not in known_ids:
            raise QuestionFileError(f"{where}: article id {aid!r} is not in the corpus.")
    return NaturalQuestion(
        id=data["id"],
        question=data["question"],
        kind=data["kind"],
        answers=tuple(_compile(p, where) for p in data["answers"]),
        split=data["split"],
        style=data["style"],
        article_id=article_id,
        near_article_ids=near,
        story=data.get("story"),
        where=where,
    )


def _check_fields(data: dict[str, Any], where: str) -> None:
    def fail(problem: str) -> QuestionFileError:
        return QuestionFileError(f"{where}: {problem}.")

    missing = [f for f in ("id", "question", "kind", "answers", "split", "style", "article_id") if f not in data]
    if missing:
        raise fail(f"missing field(s) {', '.join(missing)}")
    if unknown := sorted(set(data) - _FIELDS):
        raise fail(f"unknown field(s) {', '.join(unknown)}")
    if not all(isinstance(data[f], str) and data[f].strip() for f in ("id", "question")):
        raise fail("id and question must be non-empty strings")
    if data["kind"] not in KINDS:
        raise fail(f"unknown kind {data['kind']!r} (one of {', '.join(KINDS)})")
    if data["style"] not in STYLES:
        raise fail(f"unknown style {data['style']!r} (one of {', '.join(STYLES)})")
    if not isinstance(data["answers"], list) or not all(isinstance(a, str) and a for a in data["answers"]):
        raise fail("answers must be a list of non-empty regex strings")
    _check_kind_of_question(data, fail)
    key = data["id"] if data["article_id"] is None else data["article_id"]
    if data["split"] != split_of(str(key)):
        raise fail(f"split is {data['split']!r} but the split rule gives {split_of(str(key))!r} for {key!r}")


def _check_kind_of_question(data: dict[str, Any], fail: Any) -> None:
    near = data.get("near_article_ids")
    if data["article_id"] is None:
        if data["style"] != "near-miss" or data["answers"]:
            raise fail('a question without article_id is a near miss: style "near-miss" and no answers')
        if not isinstance(near, list) or not near or not all(isinstance(a, str) for a in near):
            raise fail("a near miss needs near_article_ids, the corpus articles it names")
        return
    if not isinstance(data["article_id"], str) or not data["article_id"]:
        raise fail("article_id must be an article id or null")
    if data["style"] == "near-miss" or not data["answers"] or near:
        raise fail("an answerable question needs answers and no near-miss style or near_article_ids")


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise QuestionFileError(f"{where}: bad answer regex {pattern!r}: {exc}.") from exc
