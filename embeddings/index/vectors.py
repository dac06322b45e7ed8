"""Dense vectors in FAISS, addressed by chunk id (inner product on unit vectors = cosine).

Small corpora get exact search (a flat index). From ``ANN_MIN_VECTORS`` on, the vectors move to
an inverted-file index: k-means cells, of which a query scans only the ``nprobe`` nearest, over
the same vectors stored as float16 (half the memory and bytes scanned of float32; cosines
change by about 1e-4, so converting back and forth loses nothing that matters). Removals stay
cheap.

``nprobe`` is tuned when the index is built, on probe queries the caller embeds: the first
words of sampled chunks. Questions sit between the passages they ask about, and such short
fragments are harder still: on the 100k-chunk benchmark index (docs/BENCHMARKS.md), tuning
fragments to ``PROBE_RECALL`` (0.95) picked nprobe 48, which gave recall@10 0.982 on SQuAD and
XQuAD questions, where the chunks' own vectors as probes reached 0.99 already at nprobe 16 (0.94
on questions). Without probe queries, corpus vectors are used against ``SELF_RECALL``.

Readers memory-map the file: loading costs no copy, and pages come in as queries touch them.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import faiss
import numpy as np

log = logging.getLogger(__name__)

ANN_MIN_VECTORS = 20_000  # below this exact search is fast enough (see docs/BENCHMARKS.md)
PROBE_RECALL = 0.95  # recall@10 of the probe fragments against exact search (see above)
SELF_RECALL = 0.998  # the same, with corpus vectors as probes (no caller-given probes)
_NPROBES = (4, 8, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512)
_TUNE_QUERIES = 200
_RETRAIN_GROWTH = 4  # retrain the cells once the corpus is this many times what they were trained on


class VectorIndex:
    """A FAISS inner-product index whose ids are chunk ids: exact, or IVF when large."""

    def __init__(self, index: faiss.Index, trained_on: int = 0) -> None:
        self._index = index
        self.trained_on = trained_on

    @classmethod
    def empty(cls, dimension: int) -> VectorIndex:
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)))

    @classmethod
    def load(cls, path: Path, *, mmap: bool = False, trained_on: int = 0) -> VectorIndex:
        """Read an index; ``mmap`` maps it read-only instead of copying it into memory."""
        flags = faiss.IO_FLAG_READ_ONLY | faiss.IO_FLAG_MMAP_IFC if mmap else 0
        if mmap and _is_ivf(path):
            flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY
        return cls(faiss.read_index(str(path), flags), trained_on)

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def kind(self) -> str:
        return "ivf" if self._ivf is not None else "flat"

    @property
    def _ivf(self) -> faiss.IndexIVF | None:
        return faiss.try_extract_index_ivf(self._index)

    def describe(self) -> dict[str, str | int]:
        """What the manifest records about this index."""
        if self._ivf is None:
            return {"kind": "flat"}
        return {
            "kind": "ivf",
            "nlist": int(self._ivf.nlist),
            "nprobe": int(self._ivf.nprobe),
            "trained_on": self.trained_on,
        }

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def add(self, ids: list[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: list[int]) -> int:
        if not ids:
            return 0
        # faiss's wrapper takes an int64 id array as well as an IDSelector; its stub lists only the latter
        return int(self._index.remove_ids(np.asarray(ids, dtype=np.int64)))  # type: ignore[arg-type]

    def search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest chunk ids to one unit query vector, best first, with cosines."""
        k = min(k, len(self))
        if k <= 0:
            return []
        scores, ids = self._index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def contents(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (chunk id, vector) pair, as two arrays."""
        ivf = self._ivf
        if ivf is None:
            # Exact indexes are the IndexIDMap2 that empty() builds (read_index returns it downcast).
            id_map = cast(faiss.IndexIDMap2, self._index)
            flat = faiss.downcast_index(id_map.index)
            return faiss.vector_to_array(id_map.id_map).astype(np.int64), flat.reconstruct_n(0, len(self))
        lists = ivf.invlists
        assert lists is not None  # an IVF index always owns its inverted lists
        ids, rows = [], []
        for cell in range(ivf.nlist):
            size = lists.list_size(cell)
            if size:
                ids.append(faiss.rev_swig_ptr(lists.get_ids(cell), size).copy())
                codes = faiss.rev_swig_ptr(lists.get_codes(cell), size * lists.code_size)
                # The cells hold IEEE float16 copies of the vectors (no residuals: see _ivf_from).
                rows.append(np.frombuffer(codes.tobytes(), dtype=np.float16).reshape(size, self.dimension))
        if not ids:
            return np.zeros(0, np.int64), np.zeros((0, self.dimension), np.float32)
        return np.concatenate(ids).astype(np.int64), np.vstack(rows).astype(np.float32)

    def fitted(self, *, min_ann: int = ANN_MIN_VECTORS, probes: Callable[[], np.ndarray] | None = None) -> VectorIndex:
        """This index in the form its size calls for: itself when that already fits, else a new
        exact or IVF index holding the same vectors (IVF cells trained and ``nprobe`` tuned on
        the unit query vectors ``probes()`` returns, called only when an IVF index is built)."""
        n = len(self)
        if n < min_ann:
            return self if self._ivf is None else _flat_from(*self.contents(), self.dimension)
        if self._ivf is not None and n <= _RETRAIN_GROWTH * max(self.trained_on, 1):
            return self
        return _ivf_from(*self.contents(), self.dimension, probes() if probes else None)


def _is_ivf(path: Path) -> bool:
    with open(path, "rb") as fh:  # FAISS's four-character type code: IwSq, IwFl, ... for IVF
        return fh.read(2) in (b"Iw", b"Iv")


def _flat_from(ids: np.ndarray, vectors: np.ndarray, dimension: int) -> VectorIndex:
    index = VectorIndex.empty(dimension)
    index.add(ids, vectors)
    return index


def _ivf_from(ids: np.ndarray, vectors: np.ndarray, dimension: int, probes: np.ndarray | None) -> VectorIndex:
    n = len(ids)
    nlist = min(n, max(16, int(math.sqrt(n))))  # about √n cells of about √n vectors
    rng = np.random.default_rng(0)
    with _all_cores():
        quantizer = faiss.IndexFlatIP(dimension)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, dimension, nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT
        )
        ivf.by_residual = False  # codes are the vectors themselves, in float16
        ivf.cp.seed = 1234
        sample = vectors[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
        ivf.train(np.ascontiguousarray(sample))
        ivf.add_with_ids(np.ascontiguousarray(vectors), ids)
        ivf.nprobe = _tune_nprobe(ivf, ids, vectors, probes, rng)
    index = VectorIndex(ivf, trained_on=n)
    log.info("IVF index: %d vectors in %d cells, nprobe %d", n, nlist, ivf.nprobe)
    return index


def _tune_nprobe(
    ivf: faiss.IndexIVF, ids: np.ndarray, vectors: np.ndarray, probes: np.ndarray | None, rng: np.random.Generator
) -> int:
    """The smallest nprobe whose recall@10 against exact search reaches the target, on the
    probe queries or, without them, on sampled corpus vectors (each one itself excluded)."""
    if probes is None or not len(probes):
        picks = rng.choice(len(ids), size=min(len(ids), _TUNE_QUERIES), replace=False)
        queries, target, k = np.ascontiguousarray(vectors[picks]), SELF_RECALL, 11
        truth = [set(ids[row].tolist()) - {ids[p]} for row, p in zip(_exact_top(queries, vectors, k), picks)]
    else:
        queries, target, k = np.ascontiguousarray(probes, dtype=np.float32), PROBE_RECALL, 10
        truth = [set(ids[row].tolist()) for row in _exact_top(queries, vectors, k)]
    for nprobe in _NPROBES:
        if nprobe >= ivf.nlist:
            return int(ivf.nlist)
        ivf.nprobe = nprobe
        _, found = ivf.search(queries, k)
        hits = sum(len(t & set(f.tolist())) for t, f in zip(truth, found))
        if hits / (10 * len(truth)) >= target:
            return nprobe
    return int(min(ivf.nlist, _NPROBES[-1]))


def _exact_top(queries: np.ndarray, vectors: np.ndarray, k: int, block: int = 65_536) -> np.ndarray:
    """Row positions of the ``k`` best vectors for each query, by blocks (no copy of the corpus)."""
    scores = np.zeros((len(queries), 0), dtype=np.float32)
    rows = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(vectors), block):
        part = vectors[start : start + block]
        scores = np.concatenate([scores, queries @ part.T], axis=1)
        rows = np.concatenate(
            [rows, np.broadcast_to(np.arange(start, start + len(part)), (len(queries), len(part)))], axis=1
        )
        if scores.shape[1] > k:
            keep = np.argpartition(-scores, k, axis=1)[:, :k]
            scores, rows = np.take_along_axis(scores, keep, axis=1), np.take_along_axis(rows, keep, axis=1)
    return rows


@contextmanager
def _all_cores() -> Iterator[None]:
    # Building is a batch job: use every core, then give the query path its single thread back.
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)
