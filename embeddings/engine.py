"""The engine's front door: one ``Engine`` per process, built in ``main()`` from settings and
an encoder, shared by the CLI, the terminal chat and the Discord bot."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import faiss

from embeddings.answer.answering import AnswerPolicy, answer_question, make_answerer
from embeddings.answer.entities import SpanFinder, span_finder
from embeddings.encoders import Encoder
from embeddings.index.backend import SearchBackend, SearchSnapshot
from embeddings.index.factory import open_backend
from embeddings.index.generations import check_compatible, expected_manifest
from embeddings.index.indexer import IndexProgress, update_index
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.ingest.corpus import read_corpus
from embeddings.models import Answer, Article, Corpus, Hit, IndexReport, IndexStatus, Summary
from embeddings.retrieval import Retriever, clean_query
from embeddings.settings import EngineSettings, RetrievalMode
from embeddings.summaries import find_article, suggest_articles, summarize_article, summarize_topic
from embeddings.timeline import Timeline, build_timeline


class Engine:
    """Indexes a seeds folder and answers searches over the live index.

    Searches run concurrently from any thread; ``refresh`` builds a new index generation beside
    the live one and swaps it in when complete, so searches never see a half-built index.
    The index is kept by ``backend`` (by default the one the settings choose, see
    ``embeddings.index.factory``); the engine talks to it through its protocol only.
    Short answers are cut by ``spans`` (by default the finder ``settings.answer_entities``
    names, loaded with the index).
    """

    def __init__(
        self,
        settings: EngineSettings,
        encoder: Encoder,
        backend: SearchBackend | None = None,
        spans: SpanFinder | None = None,
    ) -> None:
        self.settings = settings
        self.encoder = encoder
        self.backend = backend if backend is not None else open_backend(settings, encoder)
        self.config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences)
        self.answer_policy = AnswerPolicy()
        self._retriever: Retriever | None = None
        self._swap = threading.Lock()
        self._spans = spans
        # FAISS's OpenMP threads fight torch's for a laptop's few cores: single queries are
        # faster with FAISS on one thread (process-wide; exact search of one query is cheap).
        faiss.omp_set_num_threads(1)

    # -- the index --

    def load(self) -> None:
        """Load (or reload) the live index from the backend."""
        snapshot = self.backend.open_snapshot()
        expected = expected_manifest(self.encoder.name, self.encoder.dimension, self.config)
        try:
            check_compatible(snapshot.manifest, expected, self.backend.location)
        except BaseException:
            snapshot.close()
            raise
        with self._swap:
            self._retriever = Retriever(snapshot, self.encoder)
        self.span_finder()  # here, not on the first answer: the entity model loads in seconds

    def follow_live(self) -> bool:
        """Serve the backend's live version when it is not the one served (another process,
        say a bot replica on another machine, published a new one); True when it switched.
        One small read when nothing changed."""
        live = self.backend.live_manifest()
        current = self._retriever
        if live is None or (current is not None and current.snapshot.manifest == live):
            return False
        self.load()
        return True

    def refresh(
        self, seeds_dir: Path | None = None, *, rebuild: bool = False, progress: IndexProgress | None = None
    ) -> IndexReport:
        """Re-read the seeds folder and update the index incrementally, then serve the result."""
        corpus = read_corpus(
            seeds_dir or self.settings.seeds_dir,
            max_file_bytes=int(self.settings.max_file_mb * 2**20),
            max_article_chars=self.settings.max_article_chars,
        )
        return self.index_corpus(corpus, rebuild=rebuild, progress=progress)

    def index_corpus(
        self, corpus: Corpus, *, rebuild: bool = False, progress: IndexProgress | None = None
    ) -> IndexReport:
        """Make the index reflect exactly ``corpus``, then serve it."""
        report = update_index(
            self.backend,
            corpus,
            self.encoder,
            self.config,
            rebuild=rebuild,
            batch_size=self.settings.encode_batch_size,
            progress=progress,
            sentence_vectors=self.settings.sentence_vectors,
        )
        if report.changed_anything or self._retriever is None:
            self.load()
        return report

    def clear_caches(self) -> None:
        """Forget cached query vectors; the next questions are encoded afresh."""
        if self._retriever is not None:
            self._retriever.clear_cache()

    def _current(self) -> Retriever:
        if self._retriever is None:
            self.load()
        assert self._retriever is not None  # load() sets it or raises
        return self._retriever

    # -- queries --

    def search(self, query: str, k: int | None = None, mode: RetrievalMode | None = None) -> list[Hit]:
        """The best chunks for ``query`` (see ``Retriever.search``)."""
        return self._current().search(query, k or self.settings.search_k, mode or self.settings.retrieval_mode)

    def answer(self, question: str, history: Sequence[str] = ()) -> Answer:
        """A grounded answer to ``question``; ``history`` holds the conversation's earlier
        questions, oldest first, so that follow-ups resolve."""
        # Built per call (two small objects): a changed ``answer_policy`` takes effect at once.
        retriever = self._current()
        components = make_answerer(self.settings, self.answer_policy, embedder=retriever, spans=self.span_finder())
        return answer_question(
            retriever, question, history, self.answer_policy, self.settings.retrieval_mode, components=components
        )

    def span_finder(self) -> SpanFinder:
        """The short-answer finder, made on first use (``load`` makes it: a named-entity model
        loads in seconds)."""
        with self._swap:
            if self._spans is None:
                self._spans = span_finder(self.settings.answer_entities)
            return self._spans

    def articles(self) -> list[Article]:
        """Every indexed article, newest first (titles and dates; ``text`` is left empty)."""
        return list(self._current().snapshot.articles)

    def find_article(self, ref: str) -> Article:
        """The article with this id, exact title or closest fuzzy title (ArticleNotFoundError
        names the closest titles when nothing matches)."""
        snapshot = self._current().snapshot
        listed = find_article(snapshot.articles, ref)
        return snapshot.article(listed.id) or listed

    def suggest_articles(self, text: str, limit: int = 25) -> list[Article]:
        """Articles whose titles match partial ``text`` best (newest first when it is empty)."""
        return suggest_articles(self._current().snapshot.articles, text, limit)

    def summarize(self, ref: str) -> Summary:
        """A 3–5 sentence extractive summary of the article ``ref`` names."""
        return summarize_article(self.find_article(ref), self.encoder)

    def summarize_topic(self, query: str, *, passages: int = 10) -> Summary:
        """A short cited digest across the articles most relevant to ``query``."""
        query = clean_query(query)
        return summarize_topic(query, self.search(query, passages), self.encoder)

    def timeline(self, topic: str, *, passages: int = 30) -> Timeline:
        """What the articles say about ``topic``, one line per article, in date order."""
        topic = clean_query(topic)
        return build_timeline(topic, self.search(topic, passages), self.encoder)

    def status(self) -> IndexStatus:
        """The served index: size, model, chunking, build time."""
        return _status_of(self._current().snapshot)

    # -- the live index as stored, whatever settings it was built with (for an admin) --

    def check_index(self) -> None:
        """Open the live index and close it again: IndexMissingError when there is none,
        IndexCorruptError when it is damaged. Unlike ``load``, other settings are no error."""
        with self._live():
            pass

    def live_status(self) -> IndexStatus:
        """The live index's status as stored, read afresh (even when built with other
        settings, which ``load`` and ``status`` refuse)."""
        with self._live() as snapshot:
            return _status_of(snapshot)

    def live_articles(self) -> list[Article]:
        """Every article of the live index, whole (text included), newest first, read afresh
        and whatever settings it was built with."""
        with self._live() as snapshot:
            return [snapshot.article(a.id) or a for a in snapshot.articles]

    @contextmanager
    def _live(self) -> Iterator[SearchSnapshot]:
        snapshot = self.backend.open_snapshot()
        try:
            yield snapshot
        finally:
            snapshot.close()


def _status_of(snapshot: SearchSnapshot) -> IndexStatus:
    m = snapshot.manifest
    return IndexStatus(
        articles=int(m["articles"]),
        chunks=int(m["chunks"]),
        model=m["model"],
        dimension=int(m["dimension"]),
        chunk_tokens=int(m["chunk_tokens"]),
        overlap_sentences=int(m["overlap_sentences"]),
        built_at=m["built_at"],
        generation=snapshot.name,
        path=snapshot.location,
    )
