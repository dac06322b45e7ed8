"""The search-backend seam: the local backend implements the protocols, a writer that does not
publish leaves everything as it was, settings choose the backend, and the scaled benchmarks
write through the same writer as the indexer."""

from __future__ import annotations

import contextlib
import time

import numpy as np
import pytest
from pydantic import ValidationError

from embeddings.errors import IndexBusyError, QueryError
from embeddings.index.backend import GenerationWriter, SearchBackend, SearchSnapshot, TermAnalyzer
from embeddings.index.factory import open_backend
from embeddings.index.generations import CURRENT
from embeddings.index.local import LocalBackend, LocalSnapshot
from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.ingest.corpus import read_corpus
from embeddings.settings import EngineSettings

from ..conftest import update_folder
from .test_index_faults import snapshot_of

NEW_TEXT = "Ferry strike ends\n\nThe ferry workers of Portmere ended their strike on Monday after talks."


@pytest.fixture
def indexed(seeds, tmp_path, encoder):
    """A data folder indexed from ``seeds``, and its local backend."""
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    return data, LocalBackend(data, probe_encoder=encoder)


def new_article(seeds, encoder):
    """An article not yet indexed, with its chunks and their vectors."""
    (seeds / "ferry.txt").write_text(NEW_TEXT)
    article = next(a for a in read_corpus(seeds).articles if a.id == "ferry")
    chunks = chunk_article(article, encoder, ChunkingConfig())
    return article, chunks, encoder.encode([c.embed_text for c in chunks])


def test_the_local_backend_implements_the_protocols_and_behaves_as_they_say(indexed, encoder):
    data, backend = indexed
    assert isinstance(backend, SearchBackend) and backend.location == str(data)
    snapshot = backend.open_snapshot()
    try:
        assert isinstance(snapshot, SearchSnapshot) and isinstance(snapshot.analyzer, TermAnalyzer)
        assert snapshot.name == (data / CURRENT).read_text().strip() and snapshot.location == str(data / snapshot.name)
        assert snapshot.manifest == backend.live_manifest()
        assert snapshot.chunk_count() == snapshot.manifest["chunks"] > 0
        dense = snapshot.dense_candidates(encoder.encode(["harbour bridge tolls"])[0], 3)
        lexical = snapshot.lexical_candidates("harbour bridge tolls", 3)
        assert len(dense) == 3 and lexical and dense[0][1] >= dense[-1][1]
        rows = snapshot.chunks([i for i, _ in dense + lexical] + [10**9])
        assert set(rows) == {i for i, _ in dense + lexical}  # an unknown id is left out
        assert all(article.text and chunk.text in article.text for chunk, article in rows.values())
        listed = snapshot.articles
        assert len(listed) == snapshot.manifest["articles"] and all(a.text == "" for a in listed)
        assert snapshot.article(listed[0].id).text and snapshot.article("no-such-article") is None
        assert snapshot.analyzer.terms("The bridges opened") == ["bridg", "open"]
        assert snapshot.analyzer.knows("bridg") and not snapshot.analyzer.knows("zzzqqq")
        assert snapshot.analyzer.idf("zzzqqq") > snapshot.analyzer.idf("bridg")
    finally:
        snapshot.close()
    with backend.writer() as writer:
        assert isinstance(writer, GenerationWriter)
        assert writer.article_hashes() == {a.id: a.content_hash for a in read_corpus(data.parent / "seeds").articles}


def test_the_settings_choose_the_local_backend(tmp_path, encoder, monkeypatch):
    monkeypatch.setenv("NEWSBOT_SEARCH_BACKEND", "local")
    settings = EngineSettings(_env_file=None, data_dir=tmp_path / "data", ann_min_chunks=123)
    backend = open_backend(settings, encoder)
    assert isinstance(backend, LocalBackend) and backend.data_dir == tmp_path / "data"
    assert backend.ann_min_vectors == 123 and backend.probe_encoder is encoder
    monkeypatch.setenv("NEWSBOT_SEARCH_BACKEND", "elasticsearch")
    with pytest.raises(ValidationError, match="search_backend"):
        EngineSettings(_env_file=None)


def test_a_database_url_chooses_the_postgres_backend_and_is_never_shown_with_its_password(encoder, monkeypatch):
    from embeddings.index.pg import PostgresBackend

    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql://news:s3cret-pw@db.example:6543/newsroom")
    settings = EngineSettings(_env_file=None)
    backend = open_backend(settings, encoder)  # nothing is connected yet
    assert isinstance(backend, PostgresBackend) and backend.dimension == encoder.dimension
    assert backend.location == "postgresql://news:***@db.example:6543/newsroom"
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    assert backend.ef_search == 100
    monkeypatch.setenv("NEWSBOT_DATABASE_EF_SEARCH", "400")
    assert open_backend(EngineSettings(_env_file=None), encoder).ef_search == 400
    monkeypatch.setenv("NEWSBOT_DATABASE_EF_SEARCH", "5")
    with pytest.raises(ValidationError, match="database_ef_search"):
        EngineSettings(_env_file=None)


def test_a_writer_that_only_reads_writes_nothing(indexed):
    data, backend = indexed
    before = snapshot_of(data)
    with backend.writer() as writer:
        assert writer.article_hashes()
        assert not list(data.glob(".tmp-*"))
    assert snapshot_of(data) == before


@pytest.mark.parametrize("leaving", ["without publish", "by an error", "by a newsbot error"])
def test_a_writer_left_unpublished_leaves_the_live_index_and_the_folder_as_they_were(indexed, seeds, encoder, leaving):
    data, backend = indexed
    article, chunks, vectors = new_article(seeds, encoder)
    before, live = snapshot_of(data), (data / CURRENT).read_text()
    failure = {"by an error": RuntimeError("boom"), "by a newsbot error": QueryError("stop")}.get(leaving)
    with pytest.raises(type(failure)) if failure else contextlib.nullcontext(), backend.writer() as writer:
        writer.delete_articles(["harbour-bridge"])
        writer.add_article(article, chunks, vectors)
        assert list(data.glob(".tmp-*")), "the next version is being written beside the live one"
        assert "ferry" in writer.article_hashes() and "harbour-bridge" not in writer.article_hashes()
        if failure:
            raise failure
    assert snapshot_of(data) == before and (data / CURRENT).read_text() == live
    assert not list(data.glob(".tmp-*"))
    snapshot = backend.open_snapshot()
    assert snapshot.article("ferry") is None and snapshot.article("harbour-bridge") is not None
    snapshot.close()


def test_a_published_writer_serves_what_was_added(indexed, seeds, encoder):
    _, backend = indexed
    article, chunks, vectors = new_article(seeds, encoder)
    with backend.writer() as writer:
        writer.add_article(article, chunks, vectors)
        stored = writer.publish({"model": encoder.name, "note": "kept"})
    snapshot = backend.open_snapshot()
    assert snapshot.manifest == stored and stored["note"] == "kept" and "built_at" in stored
    assert stored["articles"] == 6 and stored["chunks"] == snapshot.chunk_count()
    assert snapshot.article("ferry").text == article.text
    snapshot.close()


def test_a_second_writer_is_refused_while_one_writes(indexed):
    _, backend = indexed
    with backend.writer(), pytest.raises(IndexBusyError), backend.writer():
        pass


def test_the_scaled_benchmarks_generation_loads_through_the_local_backend(seeds, tmp_path, encoder):
    from benchmarks.realdata import RealCorpus
    from benchmarks.scaled import COPY_MARK, build_scaled, original_id

    articles = read_corpus(seeds).articles
    chunks = tuple(tuple(chunk_article(a, encoder, ChunkingConfig())) for a in articles)
    vectors = encoder.encode([c.embed_text for per_article in chunks for c in per_article])
    real = RealCorpus(articles, chunks, vectors, ())
    data = tmp_path / "scaled"
    built = build_scaled(real, 3 * len(vectors), data, encoder=encoder, ann_min_vectors=20, log=lambda _: None)

    snapshot = LocalBackend(data).open_snapshot()
    try:
        assert isinstance(snapshot, LocalSnapshot) and snapshot.manifest["vector_index"]["kind"] == "ivf"
        assert snapshot.chunk_count() == built["chunks"] == snapshot.manifest["chunks"] >= 3 * len(vectors)
        ids = [a.id for a in snapshot.articles]
        assert len(ids) == built["articles"] and any(COPY_MARK in i for i in ids)
        assert {original_id(i) for i in ids} == {a.id for a in articles}
        query = encoder.encode(["harbour bridge tolls"])[0]
        best = snapshot.chunks([snapshot.dense_candidates(query, 1)[0][0]])
        assert [original_id(article.id) for _, article in best.values()] == ["harbour-bridge"]
        assert np.isfinite([s for _, s in snapshot.lexical_candidates("harbour bridge", 5)]).all()
    finally:
        snapshot.close()


class _CountingEncoder:
    """The shared encoder, counting the texts it is asked to encode."""

    def __init__(self, encoder) -> None:
        self.inner, self.texts = encoder, 0
        self.name, self.dimension, self.max_tokens = encoder.name, encoder.dimension, encoder.max_tokens

    def encode(self, texts, **kwargs):
        self.texts += len(texts)
        return self.inner.encode(texts, **kwargs)

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)


def test_the_scaled_generation_stores_sentence_vectors_as_the_indexer_does_and_answers_read_them(
    indexed, seeds, tmp_path, encoder
):
    from benchmarks.realdata import RealCorpus, load_sentence_vectors
    from benchmarks.scaled import COPY_MARK, build_scaled, original_id
    from embeddings.engine import Engine

    articles = read_corpus(seeds).articles
    chunks = tuple(tuple(chunk_article(a, encoder, ChunkingConfig())) for a in articles)
    vectors = encoder.encode([c.embed_text for per_article in chunks for c in per_article])
    real = RealCorpus(articles, chunks, vectors, ())
    sentences = load_sentence_vectors(tmp_path / "cache", encoder, real, log=lambda _: None)
    assert sentences is not None and [len(m) for m in sentences] == [len(c.sentences) for p in chunks for c in p]
    assert load_sentence_vectors(tmp_path / "cache", encoder, real) is not None  # from the cache file now
    # Pooled for the SQuAD and XQuAD articles only: none of these.
    assert load_sentence_vectors(tmp_path / "cache", encoder, real, scope="questions") == [None] * len(sentences)
    data = tmp_path / "scaled"
    built = build_scaled(real, 3 * len(vectors), data, encoder=encoder, sentences=sentences, log=lambda _: None)
    assert built["sentence_vectors"] == "pooled" == LocalBackend(data).live_manifest()["sentence_vectors"]

    # Every chunk, copies included, holds the vectors the indexer stored for the real chunk.
    indexer, scaled = indexed[1].open_snapshot(), LocalBackend(data).open_snapshot()
    try:
        by_place = {(c.article_id, c.ordinal): m for c, m in _chunks_with_vectors(indexer).values()}
        found = _chunks_with_vectors(scaled)
        assert len(found) == built["chunks"] and any(COPY_MARK in c.article_id for c, _ in found.values())
        for chunk, rows in found.values():
            expected = by_place[(original_id(chunk.article_id), chunk.ordinal)]
            assert rows.shape == expected.shape and np.min(np.sum(rows * expected, axis=1)) > 0.999
    finally:
        indexer.close()
        scaled.close()

    # Semantic evidence over it encodes the question only, never a sentence.
    counting = _CountingEncoder(encoder)
    settings = EngineSettings(_env_file=None, data_dir=data, answer_evidence="semantic")
    engine = Engine(settings, counting)
    answer = engine.answer("who will chair the meeting?")
    assert counting.texts == 1 and answer.answered

    # ... and the benchmark's stages of such an answer are disjoint parts of its time.
    from benchmarks.probe import split_stages
    from embeddings.timing import recording

    with recording() as stages:
        started = time.perf_counter()
        engine.answer("when do the security chiefs meet?")
        total = time.perf_counter() - started
    assert {"encode", "question", "evidence", "lexical", "span", "sentence_vectors", "write"} <= set(stages)
    parts = split_stages(stages, total)
    disjoint = ("encode", "dense", "bm25", "fusion", "question", "sentences", "span", "semantic", "write")
    assert min(parts.values()) >= 0 and sum(parts[k] for k in disjoint) <= total
    assert 0 < parts["sentence_vectors"] <= parts["semantic"]


def _chunks_with_vectors(snapshot: LocalSnapshot) -> dict:
    """Chunk id → (chunk, its stored sentence vectors), for every chunk that has them."""
    ids = snapshot.store.chunk_ids()
    stored = snapshot.sentence_vectors(ids)
    return {i: (chunk, stored[i]) for i, (chunk, _) in snapshot.chunks(ids).items()}
