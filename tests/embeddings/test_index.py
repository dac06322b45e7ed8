"""The index on disk: incremental updates, model checks, persistence, damage reports."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from embeddings.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from embeddings.index.generations import CURRENT, MANIFEST, STORE, VECTORS
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.ingest.corpus import read_corpus

from ..conftest import open_live, update_folder


class CountingEncoder:
    """The real encoder, recording which texts it was asked to embed."""

    def __init__(self, inner) -> None:
        self._inner = inner
        self.name, self.dimension, self.max_tokens = inner.name, inner.dimension, inner.max_tokens
        self.encoded: list[str] = []

    def encode(self, texts, **kwargs):
        self.encoded.extend(texts)
        return self._inner.encode(texts, **kwargs)

    def count_tokens(self, texts):
        return self._inner.count_tokens(texts)


def test_first_build_embeds_every_chunk_and_a_rerun_embeds_nothing(seeds, tmp_path, encoder):
    counting = CountingEncoder(encoder)
    data = tmp_path / "data"
    first = update_folder(data, read_corpus(seeds), counting, ChunkingConfig())
    assert len(first.added) == 5 and first.chunks_embedded == first.chunks_total == len(counting.encoded)
    generation = (data / CURRENT).read_text().strip()

    counting.encoded.clear()
    second = update_folder(data, read_corpus(seeds), counting, ChunkingConfig())
    assert counting.encoded == [] and second.chunks_embedded == 0
    assert second.unchanged == 5 and not second.changed_anything
    assert (data / CURRENT).read_text().strip() == generation  # nothing rewritten


def test_editing_one_article_re_embeds_only_its_chunks(seeds, tmp_path, encoder):
    counting = CountingEncoder(encoder)
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), counting, ChunkingConfig())
    edited = seeds / "harbour-bridge.md"
    edited.write_text(edited.read_text().replace("310 million", "325 million"))

    counting.encoded.clear()
    report = update_folder(data, read_corpus(seeds), counting, ChunkingConfig())
    snapshot = open_live(data)
    bridge_chunks = [c for c, a in snapshot.store.chunks(range(1, 1000)).values() if a.id == "harbour-bridge"]
    assert report.changed == ("harbour-bridge",) and report.added == report.removed == ()
    assert report.chunks_embedded == len(bridge_chunks) == len(counting.encoded)
    assert all(text.startswith("New harbour bridge opens") for text in counting.encoded)
    assert any("325 million" in c.text for c in bridge_chunks)
    assert snapshot.manifest["chunks"] == report.chunks_total == len(snapshot.vectors)


def test_removed_articles_leave_the_index(seeds, tmp_path, encoder):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    (seeds / "rates.jsonl").unlink()
    report = update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    assert sorted(report.removed) == ["marathon-2024", "rates-2024-06"]
    ids = {a.id for a in open_live(data).store.articles()}
    assert ids == {"000_bb6286341943b110", "harbour-bridge", "wildfire"}


def test_faiss_search_equals_brute_force_numpy(seeds, tmp_path, encoder):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig(chunk_tokens=48))
    snapshot = open_live(data)
    rows = snapshot.store.chunks(range(1, 1000))
    ids = np.array(sorted(rows))
    matrix = encoder.encode([rows[i][0].embed_text for i in ids])
    for question in ["when do the secretaries meet", "bridge tolls", "interest rate decision", "fire"]:
        query = encoder.encode([question])[0]
        expected = matrix @ query
        order = np.argsort(-expected)[:10]
        got = snapshot.vectors.search(query, 10)
        assert [i for i, _ in got] == [int(ids[j]) for j in order]
        assert np.allclose([s for _, s in got], expected[order], atol=1e-4)


def test_a_different_model_is_a_clear_error_that_says_how_to_rebuild(seeds, tmp_path, encoder):
    from sentence_transformers import SentenceTransformer, models

    from embeddings.encoders.sentence_transformer import SentenceTransformerEncoder, resolve_model

    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    # A second real model: the same weights with CLS pooling instead of mean pooling.
    other_dir = tmp_path / "cls-model"
    word = models.Transformer(resolve_model(encoder.name))
    SentenceTransformer(modules=[word, models.Pooling(word.get_embedding_dimension(), "cls")]).save(str(other_dir))
    other = SentenceTransformerEncoder(str(other_dir))

    with pytest.raises(IndexMismatchError) as caught:
        update_folder(data, read_corpus(seeds), other, ChunkingConfig())
    message = str(caught.value)
    assert encoder.name in message and str(other_dir) in message and "newsbot index --rebuild" in message

    rebuilt = update_folder(data, read_corpus(seeds), other, ChunkingConfig(), rebuild=True)
    assert rebuilt.rebuilt and open_live(data).manifest["model"] == str(other_dir)


def test_other_chunking_settings_are_a_mismatch_too(seeds, make_engine, tmp_path):
    make_engine(seeds).refresh()
    with pytest.raises(IndexMismatchError, match="chunk_tokens"):
        make_engine(seeds, chunk_tokens=64).load()


def test_missing_index_says_how_to_build_one(tmp_path):
    with pytest.raises(IndexMissingError, match="newsbot index"):
        open_live(tmp_path / "nothing-here")


@pytest.mark.parametrize("victim", [VECTORS, STORE, MANIFEST, "bm25/params.index.json"])
def test_a_damaged_index_file_is_named_in_the_error(seeds, tmp_path, encoder, victim):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    target = data / (data / CURRENT).read_text().strip() / victim
    target.write_bytes(target.read_bytes()[: len(target.read_bytes()) // 3])
    with pytest.raises(IndexCorruptError) as caught:
        open_live(data)
    assert victim.split("/")[0] in str(caught.value) and "--rebuild" in str(caught.value)


def test_a_crashed_write_leaves_the_live_index_untouched_and_is_cleaned_up(seeds, tmp_path, encoder):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    live = (data / CURRENT).read_text().strip()
    half = data / ".tmp-deadbeef"  # what a process killed mid-write leaves behind
    shutil.copytree(data / live, half)
    (half / VECTORS).write_bytes(b"garbage")
    assert open_live(data).path.name == live
    (seeds / "extra.txt").write_text("Extra headline\n\nSomething new happened today in Portmere.")
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    assert not half.exists()
    assert json.loads((data / (data / CURRENT).read_text().strip() / MANIFEST).read_text())["articles"] == 6


def test_old_generations_are_pruned_but_the_previous_one_is_kept(seeds, tmp_path, encoder):
    data = tmp_path / "data"
    for n in range(4):
        (seeds / f"n{n}.txt").write_text(f"Headline {n}\n\nBody number {n} of a growing corpus.")
        update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    assert len(list(data.glob("gen-*"))) == 2


def test_listing_articles_leaves_text_out_but_finding_one_has_it(seeds, make_engine):
    engine = make_engine(seeds)
    engine.refresh()
    listed = engine.articles()
    assert listed and all(a.text == "" and a.title for a in listed)
    found = engine.find_article(listed[0].id)
    assert found.id == listed[0].id and len(found.text) > 100
