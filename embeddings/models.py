"""The engine's data: plain frozen dataclasses shared by every module."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Article:
    """One news article as read from the corpus.

    ``text`` is the cleaned body (headline, dateline and page residue removed); chunk offsets
    index into it. ``place`` is the dateline's place ("BEIJING") when the article had one.
    """

    id: str
    title: str
    text: str
    path: str
    content_hash: str
    published: str | None = None
    source: str | None = None
    url: str | None = None
    place: str | None = None


@dataclass(frozen=True, slots=True)
class SkippedFile:
    """A file (or one record of a file) that was not indexed, and why."""

    path: str
    reason: str


@dataclass(frozen=True, slots=True)
class Corpus:
    """What reading a seeds folder produced: the good articles and the skipped inputs."""

    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...] = ()


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of an article body, by character offsets into ``Article.text``."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Chunk:
    """A window of consecutive sentences of one article.

    ``text == article.text[start:end]``; ``sentences`` are absolute offsets into the article body,
    so an answer can quote one sentence exactly. ``embed_text`` is what the encoder sees
    (``heading``, the headline as prepended, then the text) and ``tokens`` its length in the
    model's word pieces, special tokens included.
    """

    article_id: str
    ordinal: int
    start: int
    end: int
    text: str
    sentences: tuple[Sentence, ...]
    heading: str
    tokens: int

    @property
    def embed_text(self) -> str:
        return f"{self.heading}\n{self.text}" if self.heading else self.text


@dataclass(frozen=True, slots=True)
class Hit:
    """One retrieved chunk with its article and the scores that ranked it."""

    chunk_id: int
    chunk: Chunk
    article: Article
    score: float
    dense_score: float | None = None
    bm25_score: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


@dataclass(frozen=True, slots=True)
class IndexReport:
    """What one indexing run did."""

    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: int = 0
    skipped: tuple[SkippedFile, ...] = ()
    chunks_embedded: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    rebuilt: bool = False

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed or self.rebuilt)

    def summary(self) -> str:
        return (
            f"articles: {len(self.added)} added, {len(self.changed)} changed, "
            f"{len(self.removed)} removed, {self.unchanged} unchanged, {len(self.skipped)} skipped; "
            f"chunks: {self.chunks_embedded} embedded, {self.chunks_total} total; {self.seconds:.1f}s"
        )


@dataclass(frozen=True, slots=True)
class IndexStatus:
    """A description of the index currently on disk."""

    articles: int
    chunks: int
    model: str
    dimension: int
    chunk_tokens: int
    overlap_sentences: int
    built_at: str
    generation: str
    path: str


@dataclass(frozen=True, slots=True)
class Citation:
    """Where a quoted sentence comes from, as a reader needs it to judge and follow it."""

    article_id: str
    title: str
    published: str | None = None
    url: str | None = None
    source: str | None = None
    place: str | None = None
    score: float = 0.0

    @classmethod
    def of(cls, article: Article, score: float = 0.0) -> Citation:
        return cls(article.id, article.title, article.published, article.url, article.source, article.place, score)


@dataclass(frozen=True, slots=True)
class Answer:
    """A grounded answer: the short answer (when the question wants a fact), the sentences
    that support it quoted verbatim, and the articles they come from.

    ``answered`` is False when the articles do not hold the answer; ``sources`` then lists
    the closest articles instead. ``standalone_question`` is the question with a follow-up's
    references filled in from the history. ``note`` explains a resolved relative date.
    """

    question: str
    answered: bool
    short_answer: str | None
    sentences: tuple[str, ...]
    sources: tuple[Citation, ...]
    confidence: float
    standalone_question: str
    note: str | None = None


@dataclass(frozen=True, slots=True)
class SummaryPoint:
    """One extracted sentence of a summary and the article it comes from."""

    text: str
    citation: Citation


@dataclass(frozen=True, slots=True)
class Summary:
    """An extractive summary of one article (``article`` set) or a digest across articles."""

    title: str
    points: tuple[SummaryPoint, ...]
    article: Citation | None = None
