"""The corpora the natural questions are asked over, and the indexes built from them.

Every index is built through the normal pipeline (``Engine.index_corpus``). Embedding the
whole Wikinews file takes long on a small machine, so it is done once: the index is cached in a
folder keyed by the corpus file's hash, the chunking settings and the model, and every chunk
vector computed for it is kept beside it (``VectorCache``). The held-out index and the small
corpora are then built from those vectors without running the model again; questions are always
encoded by the real model.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import random
import shutil
import tempfile
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoders import Encoder, Progress
from embeddings.engine import Engine
from embeddings.errors import CorpusError
from embeddings.index.generations import expected_manifest
from embeddings.index.sentence_vectors import SpanEncoder, can_pool
from embeddings.ingest.chunking import ChunkingConfig
from embeddings.ingest.corpus import read_corpus
from embeddings.models import Article, Corpus
from embeddings.settings import EngineSettings

log = logging.getLogger(__name__)

COMPLETE = "complete.json"  # written last: a cache folder without it is rebuilt
VECTORS = "vectors.npz"
CHECKPOINT_EVERY = 2048  # chunk vectors made between two saves of a whole-corpus build


def read_corpus_file(path: Path) -> tuple[Corpus, str]:
    """The articles of one corpus file (read by the normal ingest code) and the sha256 of its bytes."""
    path = Path(path)
    if not path.is_file():
        raise CorpusError(f"The corpus file {path} does not exist.")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with tempfile.TemporaryDirectory(prefix="newsbot-corpus-") as tmp:
        shutil.copyfile(path, Path(tmp) / path.name)
        corpus = read_corpus(Path(tmp), max_file_bytes=2**31)
    return corpus, digest


class VectorCache:
    """An ``Encoder`` that remembers every vector it makes, by the text's sha1, and answers from
    memory when it has the text: the same vectors the model gives, without running it again."""

    def __init__(self, encoder: Encoder) -> None:
        self.encoder = encoder
        self.name = encoder.name
        self.dimension = encoder.dimension
        self.max_tokens = encoder.max_tokens
        self.variant = getattr(encoder, "variant", "unknown")
        self._vectors: dict[bytes, np.ndarray] = {}
        self._spans: dict[bytes, np.ndarray] = {}  # a text and its spans → the spans' vectors
        self.pools_spans = can_pool(encoder)
        self.checkpoint: Path | None = None

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: Progress | None = None) -> np.ndarray:
        keys = [hashlib.sha1(t.encode()).digest() for t in texts]
        if progress is not None and (known := sum(k in self._vectors for k in keys)):
            progress(known)
        missing = list(dict.fromkeys(t for t, k in zip(texts, keys, strict=True) if k not in self._vectors))
        # In slices, saved after each when a checkpoint file is set: a long build that is
        # stopped resumes from the vectors already made.
        for start in range(0, len(missing), CHECKPOINT_EVERY):
            part = missing[start : start + CHECKPOINT_EVERY]
            made = self.encoder.encode(part, batch_size=batch_size, progress=progress)
            for text, vector in zip(part, made, strict=True):
                self._vectors[hashlib.sha1(text.encode()).digest()] = vector
            if self.checkpoint is not None:
                self.save(self.checkpoint)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32, copy=False)

    def encode_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 32,
        progress: Progress | None = None,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """As ``encode``, with the span vectors of a ``SpanEncoder`` (remembered by the text and
        its spans); without one, no span vectors can be made (raises TypeError)."""
        if not isinstance(self.encoder, SpanEncoder):
            raise TypeError(f"the encoder {self.name} cannot pool spans")
        keys = [hashlib.sha1(f"{t}\0{list(s)}".encode()).digest() for t, s in zip(texts, spans, strict=True)]
        if progress is not None and (known := sum(k in self._spans for k in keys)):
            progress(known)
        todo = list({k: i for i, k in enumerate(keys) if k not in self._spans}.values())
        for start in range(0, len(todo), CHECKPOINT_EVERY):
            part = todo[start : start + CHECKPOINT_EVERY]
            made, pooled = self.encoder.encode_spans(
                [texts[i] for i in part], [spans[i] for i in part], batch_size=batch_size, progress=progress
            )
            for i, vector, rows in zip(part, made, pooled, strict=True):
                self._vectors[hashlib.sha1(texts[i].encode()).digest()] = vector
                self._spans[keys[i]] = rows
            if self.checkpoint is not None:
                self.save(self.checkpoint)
        matrix = self.encode(texts) if texts else np.zeros((0, self.dimension), dtype=np.float32)
        return matrix, [self._spans[k] for k in keys]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.encoder.count_tokens(texts)

    def __len__(self) -> int:
        return len(self._vectors)

    def save(self, path: Path) -> None:
        """Write the vectors to ``path`` (atomically: a temporary file renamed over it)."""
        keys = np.array(list(self._vectors), dtype="S20")
        matrix = np.stack(list(self._vectors.values())) if self._vectors else np.zeros((0, self.dimension), "float32")
        tmp = path.with_name(f".{path.name}.tmp")
        counts = np.array([len(v) for v in self._spans.values()], dtype=np.int32)
        rows = [v for v in self._spans.values() if len(v)]
        spans = np.concatenate(rows).astype(np.float16) if rows else np.zeros((0, self.dimension), "float16")
        with tmp.open("wb") as handle:
            np.savez(
                handle,
                keys=keys,
                vectors=matrix.astype(np.float32),
                span_keys=np.array(list(self._spans), dtype="S20"),
                span_counts=counts,
                span_vectors=spans,
            )
        os.replace(tmp, path)

    def load(self, path: Path) -> None:
        """Add the vectors saved at ``path``."""
        with np.load(path) as data:
            self._vectors.update(zip((bytes(k) for k in data["keys"]), data["vectors"], strict=True))
            if "span_keys" in data:
                ends = np.cumsum(data["span_counts"])
                vectors = data["span_vectors"].astype(np.float32)
                for key, end, count in zip(data["span_keys"], ends, data["span_counts"], strict=True):
                    self._spans[bytes(key)] = vectors[end - count : end]


class IndexCache:
    """Indexes of one corpus kept in ``folder``: the whole corpus, and the whole corpus minus
    some articles; each in ``folder/<name>-<key>/``, where the key covers the corpus hash, the
    chunking settings, the model and its variant, so a change of any builds a new one."""

    def __init__(self, folder: Path, settings: EngineSettings, encoder: Encoder, corpus: Corpus, digest: str) -> None:
        self.folder = Path(folder)
        self.settings = settings
        self.encoder = encoder
        self.corpus = corpus
        config = ChunkingConfig(settings.chunk_tokens, settings.chunk_overlap_sentences)
        fields: dict[str, Any] = {
            **expected_manifest(encoder.name, encoder.dimension, config),
            "corpus_sha256": digest,
            "variant": getattr(encoder, "variant", "unknown"),
            # an index with sentence vectors is another index (``sentence_vectors``)
            "sentence_vectors": settings.sentence_vectors if can_pool(encoder) else "none",
        }
        self.key = hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:16]
        self.vectors = VectorCache(encoder)

    def whole(self) -> Path:
        """The data folder of the whole corpus's index, built (and its vectors saved) if missing."""
        data_dir = self.folder / f"whole-{self.key}"
        with _building(data_dir):
            if not (data_dir / COMPLETE).is_file():
                count = len(self.corpus.articles)
                log.warning("Indexing all %d articles into %s (once; reruns reuse it).", count, data_dir)
                partial = self.folder / f".{data_dir.name}.partial.npz"
                if partial.is_file():
                    self.vectors.load(partial)  # an earlier, stopped build's vectors
                self.vectors.checkpoint = partial
                try:
                    self._build(data_dir, self.corpus.articles)
                finally:
                    self.vectors.checkpoint = None
                self.vectors.save(data_dir / VECTORS)
                _mark_complete(data_dir, count)
                partial.unlink(missing_ok=True)
        return data_dir

    def without(self, removed: Collection[str]) -> Path:
        """The data folder of the index of the whole corpus minus the ``removed`` article ids."""
        whole = self.whole()
        digest = hashlib.sha256("\n".join(sorted(removed)).encode()).hexdigest()[:12]
        data_dir = self.folder / f"heldout-{self.key}-{digest}"
        with _building(data_dir):
            if not (data_dir / COMPLETE).is_file():
                # A copy of the whole index, updated incrementally: the removed articles' chunks
                # are deleted and nothing is chunked or embedded again.
                if data_dir.exists():
                    shutil.rmtree(data_dir)  # an unfinished earlier build (we hold its lock)
                shutil.copytree(whole, data_dir, ignore=shutil.ignore_patterns(VECTORS, COMPLETE, ".lock", ".tmp-*"))
                gone = set(removed)
                kept = tuple(a for a in self.corpus.articles if a.id not in gone)
                settings = self.settings.model_copy(update={"data_dir": data_dir})
                Engine(settings, self.vectors).index_corpus(Corpus(kept), progress=_LogProgress())
                _mark_complete(data_dir, len(kept))
        return data_dir

    def load_vectors(self, whole: Path) -> None:
        """Make the saved chunk vectors of the whole index available to later builds."""
        if not len(self.vectors):
            self.vectors.load(whole / VECTORS)

    def build_small(self, data_dir: Path, articles: Sequence[Article]) -> None:
        """Index ``articles`` into ``data_dir`` (a fresh folder): from the whole index's saved
        vectors when it is built, else by the model (and remembered for the next builds)."""
        whole = self.folder / f"whole-{self.key}"
        if (whole / COMPLETE).is_file():
            self.load_vectors(whole)
        self._build(data_dir, tuple(articles))

    def _build(self, data_dir: Path, articles: tuple[Article, ...]) -> None:
        # rebuild=True: a fresh generation beside whatever an unfinished earlier build left
        settings = self.settings.model_copy(update={"data_dir": data_dir})
        Engine(settings, self.vectors).index_corpus(Corpus(articles), rebuild=True, progress=_LogProgress())


@contextmanager
def _building(data_dir: Path) -> Iterator[None]:
    """Hold the build lock of ``data_dir`` (waiting for it): two evaluations sharing a cache
    folder build each index once, and the second reuses what the first built."""
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with (data_dir.parent / f".{data_dir.name}.lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.warning("Waiting for another run that is building %s.", data_dir)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _mark_complete(data_dir: Path, articles: int) -> None:
    (data_dir / COMPLETE).write_text(json.dumps({"articles": articles}) + "\n", encoding="utf-8")


class _LogProgress:
    """Logs embedding progress every 2,000 chunks (a whole-corpus build takes a while)."""

    def __init__(self) -> None:
        self.total = self.done = self.logged = 0

    def begin(self, total_chunks: int) -> None:
        self.total = total_chunks

    def advance(self, chunks: int) -> None:
        self.done += chunks
        if self.done - self.logged >= 2000:
            self.logged = self.done
            log.warning("embedded %d of %d chunks", self.done, self.total)


def sample_others(articles: Sequence[Article], anchors: Collection[str], count: int, seed: str) -> list[Article]:
    """``count`` articles other than ``anchors``, drawn with a generator seeded by ``seed`` (the
    same seed always gives the same articles)."""
    pool = sorted((a for a in articles if a.id not in anchors), key=lambda a: a.id)
    return random.Random(seed).sample(pool, min(count, len(pool)))
