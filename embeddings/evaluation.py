"""Measure retrieval on public question-answering data in SQuAD v1.1 format.

Each SQuAD article (a title with paragraphs) becomes one news-style ``Article`` whose body is
its paragraphs separated by blank lines, indexed through the normal pipeline. A retrieved chunk
is a hit for a question when it belongs to the question's own article and contains one of the
gold answers (compared after the official SQuAD normalisation).
"""

from __future__ import annotations

import hashlib
import json
import re
import statistics
import string
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from .errors import NewsbotError
from .models import Article, Hit


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    text: str
    answers: tuple[str, ...]
    article_id: str


@dataclass(frozen=True, slots=True)
class Dataset:
    articles: tuple[Article, ...]
    questions: tuple[Question, ...]


def load_squad(path: Path, *, limit: int | None = None) -> Dataset:
    """Read a SQuAD v1.1 JSON file (or a .zip holding one); ``limit`` keeps the first N questions
    and only the articles they need."""
    data = _read_json(path)
    articles, questions = [], []
    for number, entry in enumerate(data.get("data", [])):
        title = str(entry.get("title", f"article {number}")).replace("_", " ")
        article_id = f"squad-{number:03d}"
        paragraphs = [p["context"].strip() for p in entry.get("paragraphs", [])]
        text = "\n\n".join(paragraphs)
        digest = hashlib.sha256(f"{title}\x1f{text}".encode()).hexdigest()
        articles.append(Article(article_id, title, text, path.name, digest, source="SQuAD"))
        for paragraph in entry.get("paragraphs", []):
            for qa in paragraph.get("qas", []):
                answers = tuple(dict.fromkeys(a["text"] for a in qa.get("answers", [])))
                questions.append(Question(qa["id"], qa["question"], answers, article_id))
    if limit is not None:
        questions = questions[:limit]
        needed = {q.article_id for q in questions}
        articles = [a for a in articles if a.id in needed]
    return Dataset(tuple(articles), tuple(questions))


def _read_json(path: Path) -> dict:
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                name = next(n for n in archive.namelist() if n.endswith(".json"))
                return json.loads(archive.read(name))
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, StopIteration, zipfile.BadZipFile) as exc:
        raise NewsbotError(f"Cannot read the evaluation file {path}: {exc}") from exc


def normalize_answer(text: str) -> str:
    """The official SQuAD normalisation: lower case, no punctuation, no a/an/the, single spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if ch not in set(string.punctuation))
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def is_hit(hit: Hit, question: Question) -> bool:
    """A chunk of the question's own article that contains a gold answer."""
    if hit.article.id != question.article_id:
        return False
    text = f" {normalize_answer(hit.chunk.text)} "
    return any(f" {normalize_answer(a)} " in text for a in question.answers if normalize_answer(a))


@dataclass(frozen=True, slots=True)
class RetrievalScores:
    questions: int
    recall: dict[int, float]
    mrr_at_10: float
    latency_ms_p50: float
    latency_ms_p95: float

    def as_dict(self) -> dict[str, float]:
        out: dict[str, float] = {f"recall@{k}": v for k, v in self.recall.items()}
        out.update({"mrr@10": self.mrr_at_10, "latency_ms_p50": self.latency_ms_p50,
                    "latency_ms_p95": self.latency_ms_p95, "questions": self.questions})
        return out


def evaluate_retrieval(search: Callable[[str, int], list[Hit]], questions: Sequence[Question],
                       ks: Sequence[int] = (1, 5, 10)) -> RetrievalScores:
    """Ask every question through ``search(question, k)``; report recall@k, MRR@10 and latency."""
    depth = max(max(ks), 10)
    first_hit_ranks: list[int | None] = []
    latencies: list[float] = []
    for question in questions:
        started = time.perf_counter()
        hits = search(question.text, depth)
        latencies.append((time.perf_counter() - started) * 1000)
        first_hit_ranks.append(next((r for r, h in enumerate(hits, 1) if is_hit(h, question)), None))
    n = max(1, len(questions))
    recall = {k: sum(1 for r in first_hit_ranks if r and r <= k) / n for k in ks}
    mrr = sum(1 / r for r in first_hit_ranks if r and r <= 10) / n
    return RetrievalScores(len(questions), recall, mrr, _percentile(latencies, 50), _percentile(latencies, 95))


def _percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(pct) - 1]
