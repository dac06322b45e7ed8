"""Plain-text and JSON renderings of engine results for the terminal."""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict

from embeddings.models import Answer, Article, Citation, Hit, IndexReport, Summary
from embeddings.requests import EXAMPLES, Reply
from embeddings.timeline import Timeline


def hit_to_dict(rank: int, hit: Hit) -> dict:
    a = hit.article
    return {
        "rank": rank,
        "score": round(hit.score, 6),
        "dense_score": _round(hit.dense_score),
        "bm25_score": _round(hit.bm25_score),
        "dense_rank": hit.dense_rank,
        "bm25_rank": hit.bm25_rank,
        "article_id": a.id,
        "title": a.title,
        "published": a.published,
        "source": a.source,
        "url": a.url,
        "place": a.place,
        "chunk": hit.chunk.ordinal,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "text": hit.chunk.text,
    }


def article_to_dict(article: Article) -> dict:
    return {
        "id": article.id,
        "title": article.title,
        "published": article.published,
        "source": article.source,
        "url": article.url,
        "place": article.place,
        "path": article.path,
        "characters": len(article.text),
    }


def report_to_dict(report: IndexReport) -> dict:
    out = asdict(report)
    out["skipped"] = [{"path": s.path, "reason": s.reason} for s in report.skipped]
    return out


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)


def hit_text(rank: int, hit: Hit, width: int = 100) -> str:
    body = textwrap.fill(" ".join(hit.chunk.text.split()), width, initial_indent="   ", subsequent_indent="   ")
    return f"{rank}. [{hit.score:.3f}] {citation_text(Citation.of(hit.article))}\n{body}"


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


def answer_to_dict(answer: Answer) -> dict:
    """The JSON shape of `newsbot ask --json`."""
    return {
        "question": answer.question,
        "answered": answer.answered,
        "short_answer": answer.short_answer,
        "sentences": list(answer.sentences),
        "sources": [{**citation_to_dict(c), "score": round(c.score, 6)} for c in answer.sources],
        "confidence": answer.confidence,
        "standalone_question": answer.standalone_question,
        "note": answer.note,
    }


def answer_text(answer: Answer, width: int = 100) -> str:
    """Short answer, quoted evidence, then citations — or a plain refusal with the closest articles."""
    if not answer.answered:
        lines = ["I couldn't find that in the articles."]
        if answer.sources:
            lines.append("Closest articles:")
            lines += [f"  - {citation_text(c)}" for c in answer.sources]
        return "\n".join(lines)
    lines = [answer.short_answer] if answer.short_answer else []
    if answer.note:
        lines.append(f"({answer.note})")
    for sentence in answer.sentences:
        lines.append(
            textwrap.fill(f"“{' '.join(sentence.split())}”", width, initial_indent="  ", subsequent_indent="   ")
        )
    lines += [f"  — {citation_text(c)}" for c in answer.sources]
    return "\n".join(lines)


def citation_text(c: Citation) -> str:
    """ "Headline (BEIJING · Source · published 2024-05-01) url" with whatever parts are known."""
    details = [p for p in (c.place, c.source, f"published {c.published}" if c.published else None) if p]
    text = f"{c.title} ({' · '.join(details)})" if details else c.title
    return f"{text} {c.url}" if c.url else text


def citation_to_dict(c: Citation) -> dict:
    """Where a quoted sentence comes from, as JSON (without the retrieval score)."""
    return {
        "article_id": c.article_id,
        "title": c.title,
        "published": c.published,
        "url": c.url,
        "source": c.source,
        "place": c.place,
    }


def summary_to_dict(summary: Summary) -> dict:
    return {
        "title": summary.title,
        "article": citation_to_dict(summary.article) if summary.article else None,
        "points": [{"text": p.text, "source": citation_to_dict(p.citation)} for p in summary.points],
    }


def summary_text(summary: Summary, width: int = 100) -> str:
    """An article summary cites its article once; a digest cites each point."""
    if not summary.points:
        return f"{summary.title}\nNothing in the articles matches that."
    lines = [summary.title if summary.article is None else citation_text(summary.article)]
    for point in summary.points:
        lines.append(
            textwrap.fill(" ".join(point.text.split()), width, initial_indent="  • ", subsequent_indent="    ")
        )
        if summary.article is None:
            lines.append(f"    — {citation_text(point.citation)}")
    return "\n".join(lines)


def timeline_text(timeline: Timeline, width: int = 100) -> str:
    """One article per entry, oldest first: date, headline, the quoted sentence, its link."""
    if not timeline.entries:
        return f"Timeline: {timeline.topic}\nNothing in the articles matches that."
    lines = [f"Timeline: {timeline.topic}"]
    for e in timeline.entries:
        lines.append(f"{e.citation.published or '(undated)':10}  {citation_text(e.citation)}")
        lines.append(
            textwrap.fill(f"“{' '.join(e.sentence.split())}”", width, initial_indent="    ", subsequent_indent="     ")
        )
    return "\n".join(lines)


def help_text() -> str:
    """What the terminal chat can do, with examples."""
    return "Ask me about the news articles, or try:\n" + "\n".join(f"  {example}" for example in EXAMPLES)


def reply_text(reply: Reply) -> str:
    """Whatever a chat request gave, as text."""
    if reply is None:
        return help_text()
    if isinstance(reply, Answer):
        return answer_text(reply)
    if isinstance(reply, Summary):
        return summary_text(reply)
    return timeline_text(reply)
