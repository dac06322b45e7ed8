"""Sentence vectors made at index time (pooled from the chunk pass, or encoded on their own),
kept with the generation through incremental updates, and used by the semantic evidence
without running the model per sentence at question time."""

from __future__ import annotations

import numpy as np

from embeddings.answer.answering import AnswerPolicy, answer_components, answer_question
from embeddings.index.sentence_vectors import pack, sentence_spans, unpack
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.ingest.corpus import read_corpus
from embeddings.retrieval import Retriever

from ..conftest import open_live, update_folder


def _sentences(snapshot):
    """(chunk id, sentence texts) of every chunk of ``snapshot``."""
    rows = snapshot.chunks(snapshot.store.chunk_ids())
    return {cid: [a.text[s.start : s.end] for s in c.sentences] for cid, (c, a) in rows.items()}


def test_packing_keeps_unit_vectors_to_within_int8_rounding():
    rows = np.random.default_rng(3).standard_normal((7, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    back = unpack(pack(rows), 384)
    assert back.shape == rows.shape
    assert np.all((back * rows).sum(axis=1) > 0.999)
    assert unpack(pack(np.zeros((0, 384), np.float32)), 384).shape == (0, 384)


def test_sentence_spans_point_at_the_sentences_inside_the_embedded_text(seeds, tmp_path, encoder):
    update_folder(tmp_path / "data", read_corpus(seeds), encoder, ChunkingConfig())
    for chunk, article in open_live(tmp_path / "data").chunks(range(1, 100)).values():
        spans = sentence_spans(chunk)
        assert [chunk.embed_text[a:b] for a, b in spans] == [article.text[s.start : s.end] for s in chunk.sentences]


def test_pooled_vectors_are_stored_for_every_sentence_and_mean_their_own_sentence(seeds, tmp_path, encoder):
    """No extra model run: one vector per sentence from the chunk pass, and each is closer to
    its own sentence encoded alone than the other sentences of its chunk are, on average."""
    update_folder(tmp_path / "data", read_corpus(seeds), encoder, ChunkingConfig())
    snapshot = open_live(tmp_path / "data")
    texts = _sentences(snapshot)
    stored = snapshot.sentence_vectors(texts)
    assert snapshot.manifest["sentence_vectors"] == "pooled" and set(stored) == set(texts)
    own, others = [], []
    for chunk_id, sentences in texts.items():
        pooled, alone = stored[chunk_id], encoder.encode(sentences)
        assert pooled.shape == (len(sentences), encoder.dimension)
        assert np.allclose(np.linalg.norm(pooled, axis=1), 1.0, atol=1e-3)
        cosines = pooled @ alone.T
        own.extend(np.diag(cosines))
        others.extend(cosines[~np.eye(len(sentences), dtype=bool)])
    assert np.mean(own) > np.mean(others) + 0.1


def test_encoded_vectors_are_each_sentence_encoded_alone(seeds, tmp_path, encoder):
    update_folder(tmp_path / "data", read_corpus(seeds), encoder, ChunkingConfig(), sentence_vectors="encoded")
    snapshot = open_live(tmp_path / "data")
    chunk_id, sentences = next(iter(_sentences(snapshot).items()))
    stored = snapshot.sentence_vectors([chunk_id])[chunk_id]
    alone = encoder.encode(sentences)
    assert np.all((stored * alone).sum(axis=1) > 0.97)  # int8 storage, int8 activations per batch


def test_none_stores_nothing_and_an_update_keeps_only_live_chunks_vectors(seeds, tmp_path, encoder):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig(), sentence_vectors="none")
    snapshot = open_live(data)
    assert snapshot.sentence_vectors(snapshot.store.chunk_ids()) == {}
    assert snapshot.manifest["sentence_vectors"] == "none"

    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig(), rebuild=True)
    (seeds / "rates.jsonl").unlink()
    edited = seeds / "harbour-bridge.md"
    edited.write_text(edited.read_text().replace("310 million", "325 million"))
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    snapshot = open_live(data)
    ids = snapshot.store.chunk_ids()
    assert set(snapshot.sentence_vectors(ids)) == set(ids)
    rows = snapshot.store._conn.execute("SELECT COUNT(*) FROM sentence_vectors").fetchone()[0]
    assert rows == len(ids)  # the removed and the changed articles' old rows are gone


class _Counting:
    """A retriever that records the texts it had to encode beyond the question."""

    def __init__(self, retriever: Retriever) -> None:
        self.retriever = retriever
        self.encoded: list[str] = []

    def embed_texts(self, texts):
        self.encoded.extend(texts)
        return self.retriever.embed_texts(texts)

    def sentence_vectors(self, chunk_ids):
        return self.retriever.sentence_vectors(chunk_ids)


def test_semantic_evidence_reads_stored_vectors_and_encodes_only_without_them(seeds, tmp_path, encoder):
    question = "when does the SCO security meeting happen?"
    answers = {}
    for kind in ("pooled", "none"):
        data = tmp_path / kind
        update_folder(data, read_corpus(seeds), encoder, ChunkingConfig(), sentence_vectors=kind)
        retriever = Retriever(open_live(data), encoder)
        counting = _Counting(retriever)
        policy = AnswerPolicy(min_confidence=0.0)  # the choice of sentence, not the refusal, is tested here
        components = answer_components(policy, embedder=counting)
        answers[kind] = answer_question(retriever, question, policy=policy, components=components)
        if kind == "pooled":
            assert counting.encoded == [question]  # the question only, and it is cached by the search
        else:
            assert len(counting.encoded) > 1  # its best candidate sentences, at question time
    for answer in answers.values():
        assert "May 21" in (answer.short_answer or "")
