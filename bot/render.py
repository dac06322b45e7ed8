"""Plain-text and JSON renderings of engine results for the terminal."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict

from embeddings.models import Article, Hit, IndexReport, IndexStatus


def hit_to_dict(rank: int, hit: Hit) -> dict:
    a = hit.article
    return {
        "rank": rank, "score": round(hit.score, 6),
        "dense_score": _round(hit.dense_score), "bm25_score": _round(hit.bm25_score),
        "dense_rank": hit.dense_rank, "bm25_rank": hit.bm25_rank,
        "article_id": a.id, "title": a.title, "published": a.published, "source": a.source,
        "url": a.url, "place": a.place, "chunk": hit.chunk.ordinal,
        "start": hit.chunk.start, "end": hit.chunk.end, "text": hit.chunk.text,
    }


def article_to_dict(article: Article) -> dict:
    return {"id": article.id, "title": article.title, "published": article.published,
            "source": article.source, "url": article.url, "place": article.place,
            "path": article.path, "characters": len(article.text)}


def report_to_dict(report: IndexReport) -> dict:
    out = asdict(report)
    out["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
    return out


def status_to_dict(status: IndexStatus) -> dict:
    return asdict(status)


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def citation(article: Article) -> str:
    """"Headline — PLACE, Source, 2024-05-01, url" with whatever parts are known."""
    parts = [p for p in (article.place, article.source, article.published, article.url) if p]
    return f"{article.title} — {', '.join(parts)}" if parts else article.title


def hit_text(rank: int, hit: Hit, width: int = 100) -> str:
    body = textwrap.fill(" ".join(hit.chunk.text.split()), width, initial_indent="   ", subsequent_indent="   ")
    return f"{rank}. [{hit.score:.3f}] {citation(hit.article)}\n{body}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)
