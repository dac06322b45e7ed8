"""Engine results rendered for Discord: embeds and message texts that always fit its limits.

Article text is untrusted: it is markdown-escaped before it is shown, links are only made from
http(s) URLs, and every message is sent with ``no_pings()``, so a quoted ``@everyone`` or role
mention notifies nobody.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import datetime

import discord

from embeddings.feedback import FeedbackCounts
from embeddings.models import Answer, Article, Citation, IndexReport, IndexStatus, Summary
from embeddings.requests import EXAMPLES
from embeddings.timeline import Timeline

from .limits import CONTENT, FIELD_VALUE, clip, embeds_for, group_embeds, split_text
from .stats import Latencies, ReloadRecord

ANSWERED = discord.Colour(0x2E8B57)
NOT_FOUND = discord.Colour(0x95A5A6)
INFO = discord.Colour(0x5865F2)
LIST_LIMIT = 50  # names listed per section of a reload report; the log has them all


def no_pings() -> discord.AllowedMentions:
    """Allowed mentions for every message the bot sends: nobody is notified, not even the
    author of the message it replies to."""
    return discord.AllowedMentions(everyone=False, users=False, roles=False, replied_user=False)


# -- small pieces --

# Every character that can open or close inline markdown (and "[" of a masked link) is escaped
# wherever it stands: discord.py's escape_markdown leaves a lone "*" or "`" and backslashes
# alone, so a title such as "5* hotel" or "C:\\" would break the markup the bot wraps it in.
_INLINE_MARKUP = re.compile(r"[\\*_`~|\[]")
# Mention, channel, emoji, timestamp and command markup: shown as typed, never rendered (and
# never a ping, even if a message were sent without ``no_pings()``).
_MENTION_MARKUP = re.compile(r"<(?=[@#:/]|a:|t:|id:)|@(?=everyone|here)")


def md(text: str) -> str:
    """Untrusted text (article or user), whitespace collapsed and markdown and mentions escaped."""
    text = _INLINE_MARKUP.sub(r"\\\g<0>", " ".join(text.split()))
    text = _MENTION_MARKUP.sub(r"\\\g<0>", text)
    # Block markup counts only at the start of a line: a quote, heading, list or "-#" subtext.
    return "\\" + text if text.startswith((">", "#", "-", "+")) else text


def safe_url(url: str | None) -> str | None:
    """``url`` when it is a plain http(s) URL that markdown cannot misread, else None."""
    if url and url.startswith(("https://", "http://")) and not any(c in url for c in " <>()[]`\n"):
        return url
    return None


def link(title: str, url: str | None) -> str:
    """A masked link to ``url`` when it is safe, else the escaped title."""
    url = safe_url(url)
    return f"[{md(title).replace('[', '(').replace(']', ')')}]({url})" if url else md(title)


def _where(c: Citation) -> str:
    return " · ".join(md(p) for p in (c.place, c.source, c.published) if p)


def citation_line(c: Citation) -> str:
    """ "[Headline](url) — PLACE · Source · date" with the parts that are known (for embeds)."""
    where = _where(c)
    return f"{link(c.title, c.url)} — {where}" if where else link(c.title, c.url)


def citation_text(c: Citation) -> str:
    """The same for message content, with the URL in <> so that Discord shows no preview."""
    where = _where(c)
    text = f"*{md(c.title)}*" + (f" — {where}" if where else "")
    if safe_url(c.url):
        text += f" <{c.url}>"
    return text


def _quote(sentence: str) -> str:
    return "> " + md(sentence)


def _read_as(answer: Answer) -> str | None:
    differs = answer.standalone_question.strip() != answer.question.strip()
    return f"Read as: {' '.join(answer.standalone_question.split())}" if differs else None


# -- answers --


def answer_text(answer: Answer) -> list[str]:
    """A channel reply: short answer, quoted sentences, sources; split to fit messages."""
    if answer.answered:
        head = [f"**{md(answer.short_answer)}**" if answer.short_answer else "From the articles:"]
        head += [_quote(s) for s in answer.sentences]
        if answer.note:
            head.append(f"*{md(answer.note)}*")
        label = "Source" if len(answer.sources) == 1 else "Sources"
        blocks = ["\n".join(head), "\n".join(f"{label}: {citation_text(c)}" for c in answer.sources)]
    else:
        blocks = ["I couldn't find that in the articles."]
        if answer.sources:
            blocks.append("Closest articles:\n" + "\n".join(f"• {citation_text(c)}" for c in answer.sources))
    read_as = _read_as(answer)
    if read_as:
        blocks.append(f"*{md(read_as)}*")
    return split_text("\n\n".join(b for b in blocks if b.strip()), CONTENT)


def answer_embeds(answer: Answer) -> list[list[discord.Embed]]:
    """The /ask reply: the short answer as title, the quoted sentences, the cited articles."""
    lines = [_quote(s) for s in answer.sentences]
    if answer.note:
        lines.append(f"*{md(answer.note)}*")
    if answer.answered:
        title = answer.short_answer or "From the articles"
        label = "Source" if len(answer.sources) == 1 else "Sources"
    else:
        title, label = "Not found in the articles", "Closest articles"
        lines.append("I couldn't find that in the articles.")
    fields = [(label, _lines_within(citation_line(c) for c in answer.sources))] if answer.sources else []
    footer = " · ".join(p for p in (f"Confidence {answer.confidence:.0%}", _read_as(answer)) if p)
    embeds = embeds_for(
        "\n".join(lines),
        title=md(title),
        colour=ANSWERED if answer.answered else NOT_FOUND,
        fields=fields,
        footer=footer,
    )
    return group_embeds(embeds)


def _lines_within(lines, limit: int = FIELD_VALUE) -> str:
    """Whole lines, as many as fit in one field value."""
    lines = list(lines)
    kept: list[str] = []
    for line in lines:
        if len("\n".join([*kept, line])) > limit:
            break
        kept.append(line)
    return "\n".join(kept) or clip(lines[0] if lines else "", limit)


# -- summaries --


def summary_embeds(summary: Summary) -> list[list[discord.Embed]]:
    """/summary: one article's points with its citation, or a digest with numbered sources."""
    if summary.article is not None:
        body = "\n".join(f"• {md(p.text)}" for p in summary.points)
        fields = [("Article", citation_line(summary.article))]
        embeds = embeds_for(
            body or "Nothing to summarise.",
            title=md(summary.title),
            url=safe_url(summary.article.url),
            colour=INFO,
            fields=fields,
        )
        return group_embeds(embeds)
    numbers: dict[str, int] = {}
    for point in summary.points:
        numbers.setdefault(point.citation.article_id, len(numbers) + 1)
    body = "\n".join(f"• {md(p.text)} [{numbers[p.citation.article_id]}]" for p in summary.points)
    sources = {p.citation.article_id: p.citation for p in summary.points}
    fields = [("Sources", _lines_within(f"{n}. {citation_line(sources[a])}" for a, n in numbers.items()))]
    embeds = embeds_for(
        body or "Nothing in the articles about that.",
        title=md(summary.title),
        colour=INFO,
        fields=fields if numbers else [],
    )
    return group_embeds(embeds)


# -- timelines and help --


def timeline_embeds(timeline: Timeline) -> list[list[discord.Embed]]:
    """/timeline: one line per article, oldest first: date, headline (linked), the sentence."""
    lines = [
        f"**{md(e.citation.published or 'undated')}** · {link(e.citation.title, e.citation.url)}\n> {md(e.sentence)}"
        for e in timeline.entries
    ]
    embeds = embeds_for(
        "\n\n".join(lines) or "Nothing in the articles about that.",
        title=md(f"Timeline: {timeline.topic}"),
        colour=INFO,
        footer=f"{len(lines)} article{'s' if len(lines) != 1 else ''}, oldest first" if lines else None,
    )
    return group_embeds(embeds)


def help_text() -> str:
    """What the bot can do, with examples (for "help", "hi", "what can you do" and a bare mention)."""
    examples = "\n".join(f"• {md(e)}" for e in EXAMPLES)
    return (
        "Ask me about the news articles: I answer with the sentence I found and its article.\n"
        f"Mention me, reply to one of my answers, or use /ask, /summary and /timeline. For example:\n{examples}"
    )


# -- article lists, status, reloads --


def articles_page(articles: Sequence[Article], page: int, per_page: int, query: str | None) -> discord.Embed:
    """Page ``page`` (0-based) of ``articles``: title (linked), date and source per line."""
    pages = max(1, math.ceil(len(articles) / per_page))
    page = min(max(page, 0), pages - 1)
    shown = articles[page * per_page : (page + 1) * per_page]
    lines = [
        f"**{page * per_page + i}.** {link(a.title, a.url)}"
        + (f" — {' · '.join(md(p) for p in (a.published, a.source) if p)}" if (a.published or a.source) else "")
        for i, a in enumerate(shown, 1)
    ]
    title = f"Articles matching “{md(query)}”" if query else "Articles"
    body = "\n".join(lines) or "No articles match."
    embed = embeds_for(body, title=title, colour=INFO, footer=f"Page {page + 1}/{pages} · {len(articles)} articles")[0]
    return embed


def status_embed(
    status: IndexStatus,
    latencies: Latencies | None,
    last: ReloadRecord | None,
    running_by: str | None,
    gateway_seconds: float,
    feedback: FeedbackCounts | None = None,
) -> discord.Embed:
    """/status: the index, the last reload, answer latency, feedback and the gateway heartbeat."""
    fields = [
        ("Articles", f"{status.articles:,}"),
        ("Passages", f"{status.chunks:,}"),
        ("Model", md(status.model)),
        ("Index built", _when(status.built_at)),
        ("Last reload", _reload_line(last)),
        ("Answer latency", _latency_line(latencies)),
        ("Gateway heartbeat", f"{gateway_seconds * 1000:.0f} ms" if math.isfinite(gateway_seconds) else "n/a"),
    ]
    if feedback is not None:
        fields.append(("Feedback", _feedback_line(feedback)))
    if running_by:
        fields.insert(5, ("Reload running", f"started by {md(running_by)}"))
    embed = discord.Embed(title="newsbot status", colour=INFO)
    for name, value in fields:
        embed.add_field(name=name, value=value, inline=name not in ("Last reload", "Model", "Feedback"))
    return embed


def _when(iso: str | datetime) -> str:
    """A Discord timestamp, shown to each reader as relative time in their own time zone."""
    try:
        moment = iso if isinstance(iso, datetime) else datetime.fromisoformat(iso)
    except ValueError:
        return md(str(iso))
    return discord.utils.format_dt(moment, "R")


def _feedback_line(counts: FeedbackCounts) -> str:
    return (
        f"👍 {counts.up:,} · 👎 {counts.down:,} ({counts.explained:,} with a reason) on {counts.answers:,} answers kept"
    )


def _reload_line(last: ReloadRecord | None) -> str:
    if last is None:
        return "none since the bot started"
    what = _counts(last.report) if last.report else f"failed: {md(last.error or 'unknown error')}"
    return f"by {md(last.by)}, {_when(last.at)}: {what}"


def _latency_line(latencies: Latencies | None) -> str:
    if latencies is None:
        return "no questions yet"
    return (
        f"p50 {latencies.p50:.2f} s · p95 {latencies.p95:.2f} s · max {latencies.max:.2f} s ({latencies.count} answers)"
    )


def _counts(report: IndexReport) -> str:
    return (
        f"{len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
        f"{len(report.skipped)} skipped"
    )


def progress_text(done: int, total: int) -> str:
    """The reload message while passages are being embedded."""
    if total <= 0:
        return "Reloading: re-reading the seeds folder…"
    return f"Reloading: embedding passages {done:,}/{total:,} ({done / total:.0%})…"


def reload_text(report: IndexReport, titles: dict[str, str]) -> list[str]:
    """The final reload report: counts, then the added, changed and removed articles and the
    skipped files with their reasons; split to fit messages."""
    head = (
        f"**Reload finished** in {report.seconds:.1f} s: {_counts(report)}, {report.unchanged} unchanged; "
        f"{report.chunks_embedded:,} passages embedded, {report.chunks_total:,} in the index."
    )
    if not report.changed_anything:
        head += "\nNothing changed, so the index was left as it was."
    sections = [head]
    for name, ids in (("Added", report.added), ("Changed", report.changed), ("Removed", report.removed)):
        sections.append(_section(name, [_article_name(i, titles) for i in ids]))
    sections.append(_section("Skipped", [f"{md(s.path)}: {md(s.reason)}" for s in report.skipped]))
    return split_text("\n\n".join(s for s in sections if s), CONTENT)


def _article_name(article_id: str, titles: dict[str, str]) -> str:
    title = titles.get(article_id)
    return f"{md(title)} ({md(article_id)})" if title else md(article_id)


def _section(name: str, items: list[str]) -> str:
    if not items:
        return ""
    lines = [f"• {item}" for item in items[:LIST_LIMIT]]
    if len(items) > LIST_LIMIT:
        lines.append(f"… and {len(items) - LIST_LIMIT} more (listed in the bot's log)")
    return f"**{name}** ({len(items)}):\n" + "\n".join(lines)
