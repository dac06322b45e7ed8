"""The dense index: exact while small, IVF (the same vectors in float16, tuned nprobe) once large,
memory-mapped for readers, and converting between the two keeps every vector."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.index.vectors import VectorIndex

D = 384


def clustered(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors around a few hundred topics (embeddings of news chunks cluster like this)."""
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((300, D))
    x = topics[rng.integers(0, len(topics), n)] + 0.7 * rng.standard_normal((n, D))
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    ids = rng.permutation(10 * n)[:n].astype(np.int64)  # sparse, unordered ids like chunk ids after edits
    return ids, x


def queries_near(x: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q = x[rng.integers(0, len(x), n)] + 0.04 * rng.standard_normal((n, D))
    return (q / np.linalg.norm(q, axis=1, keepdims=True)).astype(np.float32)


def recall_at_10(approx: VectorIndex, exact: VectorIndex, queries: np.ndarray) -> float:
    found = [len({i for i, _ in approx.search(q, 10)} & {i for i, _ in exact.search(q, 10)}) for q in queries]
    return sum(found) / (10 * len(queries))


@pytest.fixture(scope="module")
def corpus():
    ids, x = clustered(8_000)
    exact = VectorIndex.empty(D)
    exact.add(ids, x)
    return ids, x, exact


@pytest.fixture(scope="module")
def ivf(corpus):
    """The corpus as an IVF index (built once; tests must not change it)."""
    return corpus[2].fitted(min_ann=5_000)


def test_small_indexes_stay_exact(corpus):
    _ids, _x, exact = corpus
    assert exact.fitted(min_ann=len(exact) + 1) is exact
    assert exact.describe() == {"kind": "flat"}


def test_large_indexes_become_ivf_with_recall_at_10_of_at_least_098(corpus, ivf):
    ids, x, exact = corpus
    info = ivf.describe()
    assert info["kind"] == "ivf" and info["trained_on"] == len(ids) and 1 <= info["nprobe"] < info["nlist"]
    assert len(ivf) == len(exact)
    assert recall_at_10(ivf, exact, queries_near(x, 200)) >= 0.98
    # Scores are cosines of float16 vectors: within 1e-3 of the exact ones.
    q = queries_near(x, 1)[0]
    best_id, best_score = ivf.search(q, 1)[0]
    assert best_score == pytest.approx(float(x[list(ids).index(best_id)] @ q), abs=1e-3)


def test_converting_to_ivf_and_back_keeps_every_vector(corpus, ivf):
    ids, x, _exact = corpus
    back = ivf.fitted(min_ann=len(ids) + 1)
    assert back.kind == "flat"
    got_ids, got = back.contents()
    order, want = np.argsort(got_ids), np.argsort(ids)
    assert np.array_equal(got_ids[order], ids[want])
    assert np.allclose(got[order], x[want], atol=1e-3)  # float16 in the IVF cells


def test_ivf_follows_removals_and_additions(corpus, ivf, tmp_path):
    ids, x, _ = corpus
    ivf.save(tmp_path / "copy.faiss")  # a writable copy, as the index writer loads it
    ivf = VectorIndex.load(tmp_path / "copy.faiss", trained_on=ivf.trained_on)
    assert ivf.remove(list(ids[:100])) == 100
    ivf.add(list(ids[:10]), x[:10])
    assert len(ivf) == len(ids) - 90
    hit_id, score = ivf.search(x[5], 1)[0]
    assert hit_id == ids[5] and score == pytest.approx(1.0, abs=1e-3)
    assert all(i not in set(ids[10:100].tolist()) for i, _ in ivf.search(x[50], 20))
    # Still the right size: no retraining for small changes.
    assert ivf.fitted(min_ann=5_000) is ivf


@pytest.mark.parametrize("make_ann", [False, True])
def test_memory_mapped_loading_gives_the_same_results(corpus, ivf, tmp_path, make_ann):
    _ids, x, exact = corpus
    index = ivf if make_ann else exact
    path = tmp_path / "vectors.faiss"
    index.save(path)
    mapped = VectorIndex.load(path, mmap=True)
    assert mapped.kind == index.kind and len(mapped) == len(index)
    for q in queries_near(x, 20):
        assert mapped.search(q, 10) == index.search(q, 10)


def test_an_engine_over_the_threshold_answers_from_an_ivf_index(seeds, make_engine):
    engine = make_engine(seeds, ann_min_chunks=2)
    engine.refresh()
    assert engine.status().chunks >= 2
    assert engine._current().snapshot.manifest["vector_index"]["kind"] == "ivf"
    answer = engine.answer("When will the SCO security council secretaries meet?")
    assert answer.answered and "May 21" in answer.short_answer


def test_nprobe_is_tuned_on_the_probe_queries_and_they_are_only_made_when_needed(corpus):
    ids, x, exact = corpus
    calls = []

    def probes():
        calls.append(1)
        return queries_near(x, 100, seed=5)

    assert exact.fitted(min_ann=len(ids) + 1, probes=probes) is exact and calls == []
    ivf = exact.fitted(min_ann=5_000, probes=probes)
    assert calls == [1] and ivf.kind == "ivf"
    assert recall_at_10(ivf, exact, queries_near(x, 200, seed=9)) >= 0.95
