"""The engine on both search backends (local files, and a real PostgreSQL with pgvector):
indexing, incremental updates, search, answers, unpublished and concurrent writers, readers
during an update, and the same results from both."""

from __future__ import annotations

import contextlib
import threading

import numpy as np
import pytest

from embeddings.errors import IndexBusyError, IndexMissingError, QueryError
from embeddings.index.backend import GenerationWriter, SearchBackend, SearchSnapshot, TermAnalyzer
from embeddings.index.indexer import update_index
from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.ingest.corpus import read_corpus

from .backends import BACKENDS, engine_on, make_backend
from .test_index import CountingEncoder

NEW_TEXT = "Ferry strike ends\n\nThe ferry workers of Portmere ended their strike on Monday after talks."
QUERIES = ["harbour bridge tolls", "when do the secretaries meet", "interest rate decision", "marathon winner", "fire"]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path, encoder):
    return make_backend(request.param, tmp_path, encoder, request)


def index(backend, seeds, encoder, **options):
    return update_index(backend, read_corpus(seeds), encoder, ChunkingConfig(), **options)


def test_an_empty_backend_says_how_to_build_an_index(backend):
    assert backend.live_manifest() is None
    with pytest.raises(IndexMissingError, match="newsbot index"):
        backend.open_snapshot()


def test_the_backend_implements_the_protocols_and_behaves_as_they_say(backend, seeds, encoder):
    index(backend, seeds, encoder)
    assert isinstance(backend, SearchBackend)
    snapshot = backend.open_snapshot()
    try:
        assert isinstance(snapshot, SearchSnapshot) and isinstance(snapshot.analyzer, TermAnalyzer)
        assert snapshot.manifest == backend.live_manifest() and snapshot.name in snapshot.location
        assert snapshot.chunk_count() == snapshot.manifest["chunks"] > 0
        dense = snapshot.dense_candidates(encoder.encode(["harbour bridge tolls"])[0], 3)
        lexical = snapshot.lexical_candidates("harbour bridge tolls", 3)
        assert len(dense) == 3 and lexical and dense[0][1] >= dense[-1][1] and lexical[0][1] >= lexical[-1][1]
        rows = snapshot.chunks([i for i, _ in dense + lexical] + [10**9])
        assert set(rows) == {i for i, _ in dense + lexical}  # an unknown id is left out
        assert all(article.text and chunk.text in article.text for chunk, article in rows.values())
        listed = snapshot.articles
        assert len(listed) == snapshot.manifest["articles"] == 5 and all(a.text == "" for a in listed)
        assert snapshot.article(listed[0].id).text and snapshot.article("no-such-article") is None
        assert snapshot.analyzer.terms("The bridges opened") == ["bridg", "open"]
        assert snapshot.analyzer.knows("bridg") and not snapshot.analyzer.knows("zzzqqq")
        assert snapshot.analyzer.idf("zzzqqq") > snapshot.analyzer.idf("bridg")
        assert snapshot.lexical_candidates("zzzqqq", 5) == []
    finally:
        snapshot.close()
    with backend.writer() as writer:
        assert isinstance(writer, GenerationWriter)
        assert writer.article_hashes() == {a.id: a.content_hash for a in read_corpus(seeds).articles}


def test_first_build_embeds_every_chunk_a_rerun_nothing_and_an_edit_only_its_chunks(backend, seeds, encoder):
    counting = CountingEncoder(encoder)
    first = index(backend, seeds, counting)
    assert len(first.added) == 5 and first.chunks_embedded == first.chunks_total == len(counting.encoded)
    manifest = backend.live_manifest()

    counting.encoded.clear()
    second = index(backend, seeds, counting)
    assert counting.encoded == [] and not second.changed_anything and backend.live_manifest() == manifest

    edited = seeds / "harbour-bridge.md"
    edited.write_text(edited.read_text().replace("310 million", "325 million"))
    third = index(backend, seeds, counting)
    assert third.changed == ("harbour-bridge",) and third.chunks_embedded == len(counting.encoded) > 0
    assert all(text.startswith("New harbour bridge opens") for text in counting.encoded)
    snapshot = backend.open_snapshot()
    assert "325 million" in snapshot.article("harbour-bridge").text
    hits = snapshot.chunks(i for i, _ in snapshot.lexical_candidates("harbour bridge million", 50))
    assert any("325 million" in c.text for c, _ in hits.values()) and not any(
        "310 million" in c.text for c, _ in hits.values()
    )
    assert snapshot.chunk_count() == third.chunks_total == first.chunks_total


def test_removed_articles_leave_and_a_rebuild_starts_afresh(backend, seeds, encoder):
    index(backend, seeds, encoder)
    (seeds / "rates.jsonl").unlink()
    report = index(backend, seeds, encoder)
    assert sorted(report.removed) == ["marathon-2024", "rates-2024-06"]
    assert {a.id for a in backend.open_snapshot().articles} == {"000_bb6286341943b110", "harbour-bridge", "wildfire"}
    rebuilt = index(backend, seeds, encoder, rebuild=True)
    snapshot = backend.open_snapshot()
    assert rebuilt.rebuilt and rebuilt.chunks_embedded == rebuilt.chunks_total == snapshot.chunk_count()
    assert len(snapshot.articles) == 3 and len(snapshot.chunks(range(10**5))) <= snapshot.chunk_count()


@pytest.mark.parametrize("leaving", ["without publish", "by an error", "by a newsbot error"])
def test_a_writer_left_unpublished_leaves_the_live_index_as_it_was(backend, seeds, encoder, leaving):
    index(backend, seeds, encoder)
    live = backend.live_manifest()
    (seeds / "ferry.txt").write_text(NEW_TEXT)
    article = next(a for a in read_corpus(seeds).articles if a.id == "ferry")
    chunks = chunk_article(article, encoder, ChunkingConfig())
    failure = {"by an error": RuntimeError("boom"), "by a newsbot error": QueryError("stop")}.get(leaving)
    with pytest.raises(type(failure)) if failure else contextlib.nullcontext(), backend.writer() as writer:
        writer.delete_articles(["harbour-bridge"])
        writer.add_article(article, chunks, encoder.encode([c.embed_text for c in chunks]))
        assert "ferry" in writer.article_hashes() and "harbour-bridge" not in writer.article_hashes()
        if failure:
            raise failure
    assert backend.live_manifest() == live
    snapshot = backend.open_snapshot()
    assert snapshot.article("ferry") is None and snapshot.article("harbour-bridge") is not None
    # and the next writer starts from the live version, not from what was left
    with backend.writer() as writer:
        assert "ferry" not in writer.article_hashes() and "harbour-bridge" in writer.article_hashes()


def test_a_second_writer_is_refused_while_one_writes(backend, seeds, encoder):
    index(backend, seeds, encoder)
    with backend.writer(), pytest.raises(IndexBusyError), backend.writer():
        pass
    with backend.writer():  # and the lock is free again afterwards
        pass


def test_answers_and_searches_work_on_the_backend(backend, seeds, tmp_path, encoder):
    engine = engine_on(backend, seeds, tmp_path, encoder)
    engine.refresh()
    answer = engine.answer("How much did the Portmere harbour bridge cost?")
    assert answer.answered and answer.short_answer == "310 million euros"
    assert not engine.answer("What is the capital of France?").answered
    hits = engine.search("bridge tolls", 3)
    assert hits and hits[0].article.id == "harbour-bridge"
    assert engine.summarize("harbour-bridge").points


def test_every_chunk_keeps_one_sentence_vector_per_sentence_for_the_semantic_evidence(backend, seeds, encoder):
    """Both backends store the pooled sentence vectors, so semantic answers read them rather
    than encoding sentences per question (and the two backends answer alike)."""
    index(backend, seeds, encoder)
    snapshot = backend.open_snapshot()
    ids = [i for i, _ in snapshot.dense_candidates(encoder.encode(["Portmere"])[0], 1000)]
    stored = snapshot.sentence_vectors(ids)
    assert ids and set(stored) == set(ids)
    for chunk_id, (chunk, _) in snapshot.chunks(ids).items():
        assert stored[chunk_id].shape == (len(chunk.sentences), encoder.dimension)
        assert np.allclose(np.linalg.norm(stored[chunk_id], axis=1), 1.0, atol=1e-3)
    assert snapshot.sentence_vectors([]) == {}


def test_a_reader_keeps_its_version_while_a_writer_publishes_and_sees_the_new_one_after(backend, seeds, encoder):
    index(backend, seeds, encoder)
    old = backend.open_snapshot()
    before = {q: old.lexical_candidates(q, 10) for q in QUERIES}
    stop, problems, reads = threading.Event(), [], [0]

    def read() -> None:
        while not stop.is_set():
            for q in QUERIES:
                got = old.lexical_candidates(q, 10)
                rows = old.chunks(i for i, _ in got)
                if got != before[q] or len(rows) != len(got):
                    problems.append((q, got))
                reads[0] += 1

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    try:
        (seeds / "rates.jsonl").unlink()
        (seeds / "ferry.txt").write_text(NEW_TEXT)
        index(backend, seeds, encoder)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert not problems and reads[0] > 0
    assert old.article("marathon-2024") is not None and old.article("ferry") is None
    new = backend.open_snapshot()
    assert new.article("marathon-2024") is None and new.article("ferry") is not None
    assert new.manifest != old.manifest


def test_both_backends_find_the_same_passages_with_the_same_scores(seeds, tmp_path, encoder, request):
    snapshots = []
    for kind in BACKENDS:
        backend = make_backend(kind, tmp_path / kind, encoder, request)
        index(backend, seeds, encoder)
        snapshots.append(backend.open_snapshot())

    def named(snapshot, found):
        rows = snapshot.chunks(i for i, _ in found)
        return [((rows[i][0].article_id, rows[i][0].ordinal), round(s, 3)) for i, s in found]

    for query in QUERIES:
        vector = encoder.encode([query])[0]
        local, postgres = [named(s, s.lexical_candidates(query, 10)) for s in snapshots]
        assert local == postgres, query
        local, postgres = [named(s, s.dense_candidates(vector, 10)) for s in snapshots]
        assert [c for c, _ in local] == [c for c, _ in postgres], query
        assert [s for _, s in local] == pytest.approx([s for _, s in postgres], abs=2e-3)
    local, postgres = snapshots
    for term in ["bridg", "toll", "zzzqqq", "said"]:
        assert local.analyzer.idf(term) == pytest.approx(postgres.analyzer.idf(term))
        assert local.analyzer.knows(term) == postgres.analyzer.knows(term)
