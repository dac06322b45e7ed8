"""Measure retrieval and answers on public question-answering data in SQuAD v1.1 format.

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
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from embeddings.encoders import Encoder
from embeddings.errors import NewsbotError
from embeddings.models import Answer, Article, Corpus, Hit
from embeddings.settings import EngineSettings, RetrievalMode


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


def _read_json(path: Path) -> dict[str, Any]:
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                name = next(n for n in archive.namelist() if n.endswith(".json"))
                return cast("dict[str, Any]", json.loads(archive.read(name)))
        return cast("dict[str, Any]", json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, StopIteration, zipfile.BadZipFile) as exc:
        raise NewsbotError(f"Cannot read the evaluation file {path}: {exc}") from exc


def split_holdout(dataset: Dataset, every: int) -> tuple[Dataset, tuple[Question, ...]]:
    """Hold out every ``every``-th article (0: none): returns the dataset to index, with its
    questions, and the questions whose article is held out (which must be refused)."""
    if every <= 0:
        return dataset, ()
    held = {a.id for i, a in enumerate(dataset.articles) if i % every == every - 1}
    kept = tuple(a for a in dataset.articles if a.id not in held)
    present = tuple(q for q in dataset.questions if q.article_id not in held)
    return Dataset(kept, present), tuple(q for q in dataset.questions if q.article_id in held)


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
        out.update(
            {
                "mrr@10": self.mrr_at_10,
                "latency_ms_p50": self.latency_ms_p50,
                "latency_ms_p95": self.latency_ms_p95,
                "questions": self.questions,
            }
        )
        return out


def evaluate_retrieval(
    search: Callable[[str, int], list[Hit]], questions: Sequence[Question], ks: Sequence[int] = (1, 5, 10)
) -> RetrievalScores:
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


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """Official SQuAD exact match: 1.0 when the normalised prediction equals a gold answer."""
    return float(any(normalize_answer(prediction) == normalize_answer(g) for g in golds))


def f1_score(prediction: str, golds: Sequence[str]) -> float:
    """Official SQuAD token F1, best over the gold answers."""
    return max((_f1(normalize_answer(prediction).split(), normalize_answer(g).split()) for g in golds), default=0.0)


def _f1(pred: list[str], gold: list[str]) -> float:
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(gold)
    return 2 * precision * recall / (precision + recall)


def sentence_hit(answer: Answer, question: Question) -> bool:
    """A quoted sentence contains a gold answer."""
    return any(
        f" {normalize_answer(a)} " in f" {normalize_answer(s)} "
        for s in answer.sentences
        for a in question.answers
        if normalize_answer(a)
    )


@dataclass(frozen=True, slots=True)
class AnswerScores:
    questions: int
    sentence_hit: float
    exact_match: float
    f1: float
    when_questions: int
    when_exact_match: float
    when_f1: float
    answered_rate: float
    heldout_questions: int
    refusal_rate: float
    latency_ms_p50: float
    latency_ms_p95: float

    def as_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__slots__}


# (answered, sentence hit, exact match, F1, is a "when" question) for one present question
_AnswerRow = tuple[bool, bool, float, float, bool]


def evaluate_answers(
    ask: Callable[[str], Answer], present: Sequence[Question], heldout: Sequence[Question] = ()
) -> AnswerScores:
    """Ask every question through ``ask``. Present questions score sentence hits, exact match
    and F1 (the short answer, or the quoted sentence when there is none; a refusal scores 0);
    held-out questions score the refusal rate."""
    rows: list[_AnswerRow] = []
    latencies: list[float] = []
    for question in present:
        started = time.perf_counter()
        answer = ask(question.text)
        latencies.append((time.perf_counter() - started) * 1000)
        predicted = answer.short_answer or (answer.sentences[0] if answer.sentences else "")
        when = question.text.lower().startswith("when")
        rows.append(
            (
                answer.answered,
                sentence_hit(answer, question),
                exact_match(predicted, question.answers),
                f1_score(predicted, question.answers) if predicted else 0.0,
                when,
            )
        )
    refused = 0
    for question in heldout:
        started = time.perf_counter()
        refused += not ask(question.text).answered
        latencies.append((time.perf_counter() - started) * 1000)
    return _answer_scores(rows, len(heldout), refused, latencies)


def _answer_scores(rows: Sequence[_AnswerRow], heldout: int, refused: int, latencies: list[float]) -> AnswerScores:
    n = max(1, len(rows))
    when = [r for r in rows if r[4]]
    w = max(1, len(when))
    return AnswerScores(
        questions=len(rows),
        sentence_hit=sum(r[1] for r in rows) / n,
        exact_match=sum(r[2] for r in rows) / n,
        f1=sum(r[3] for r in rows) / n,
        when_questions=len(when),
        when_exact_match=sum(r[2] for r in when) / w,
        when_f1=sum(r[3] for r in when) / w,
        answered_rate=sum(r[0] for r in rows) / n,
        heldout_questions=heldout,
        refusal_rate=refused / heldout if heldout else 0.0,
        latency_ms_p50=_percentile(latencies, 50),
        latency_ms_p95=_percentile(latencies, 95),
    )


def run_evaluation(
    dataset: Dataset, settings: EngineSettings, encoder: Encoder, *, mode: RetrievalMode = "hybrid", holdout: int = 5
) -> dict[str, float | str]:
    """Index ``dataset`` (minus every ``holdout``-th article) through the normal pipeline in a
    temporary folder, then measure ingest, retrieval and answers; one flat dict of results."""
    from embeddings.engine import Engine  # the engine imports this module's neighbours, not this module

    indexed, heldout = split_holdout(dataset, holdout)
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        engine = Engine(settings.model_copy(update={"data_dir": Path(tmp), "retrieval_mode": mode}), encoder)
        started = time.perf_counter()
        report = engine.index_corpus(Corpus(indexed.articles))
        ingest = time.perf_counter() - started
        retrieval = evaluate_retrieval(lambda q, k: engine.search(q, k, mode), indexed.questions)
        engine.clear_caches()  # answer latency includes encoding each question, as in real use
        answers = evaluate_answers(engine.answer, indexed.questions, heldout)
    return {
        "mode": mode,
        "articles": len(indexed.articles),
        "heldout_articles": len(dataset.articles) - len(indexed.articles),
        **{k: v for k, v in retrieval.as_dict().items() if not k.startswith("latency")},
        "retrieval_latency_ms_p50": retrieval.latency_ms_p50,
        "retrieval_latency_ms_p95": retrieval.latency_ms_p95,
        **answers.as_dict(),
        "chunks": report.chunks_total,
        "ingest_seconds": round(ingest, 2),
        "ingest_chunks_per_s": round(report.chunks_total / ingest, 1) if ingest else 0.0,
    }
