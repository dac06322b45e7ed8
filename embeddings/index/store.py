"""The metadata store: articles and chunks in SQLite, one file per index generation.

Chunk ids are SQLite integer keys and double as FAISS vector ids, so a search result maps
straight back to its article, offsets and sentences. Chunk text is not stored twice: it is a
slice of the article text.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from embeddings.models import Article, Chunk, Sentence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, text TEXT NOT NULL, path TEXT NOT NULL,
    content_hash TEXT NOT NULL, published TEXT, source TEXT, url TEXT, place TEXT
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL,
    sentences TEXT NOT NULL, heading TEXT NOT NULL, tokens INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_article ON chunks(article_id, ordinal);
CREATE TABLE IF NOT EXISTS sentence_vectors (chunk_id INTEGER PRIMARY KEY, vectors BLOB NOT NULL);
"""

_ARTICLE_COLUMNS = "id, title, text, path, content_hash, published, source, url, place"


class MetadataStore:
    """SQLite access for one index generation. Safe to share between threads."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        uri = f"file:{path}?mode=ro" if readonly else f"file:{path}"
        self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        if not readonly:
            self._conn.execute("PRAGMA journal_mode=DELETE")
            # A writable store is always a generation being built in a ``.tmp-*`` folder, never the
            # served one, and publishing fsyncs the whole folder before the rename: a crash before
            # that discards the folder, so syncing every article's commit buys nothing. Measured:
            # 1,000 articles added in 13.7 s with syncs, 0.5 s without (docs/BENCHMARKS.md).
            self._conn.execute("PRAGMA synchronous=OFF")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    # -- writing (only ever on a fresh generation, never the one being served) --

    def copy_to(self, target: Path) -> None:
        """Write a consistent copy of this database to ``target``."""
        dest = sqlite3.connect(target)
        try:
            with self._lock:
                self._conn.backup(dest)
        finally:
            dest.close()  # also on failure: an open handle would pin a deleted file's space

    def set_meta(self, values: dict[str, object]) -> None:
        rows = [(k, json.dumps(v)) for k, v in values.items()]
        with self._lock:
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", rows)

    def delete_articles(self, ids: Iterable[str]) -> list[int]:
        """Remove articles and their chunks; return the removed chunk ids."""
        ids = list(ids)
        removed: list[int] = []
        with self._lock, self._transaction():
            for article_id in ids:
                rows = self._conn.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,))
                removed.extend(r[0] for r in rows)
                self._conn.execute(
                    "DELETE FROM sentence_vectors WHERE chunk_id IN (SELECT id FROM chunks WHERE article_id=?)",
                    (article_id,),
                )
                self._conn.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
                self._conn.execute("DELETE FROM articles WHERE id=?", (article_id,))
        return removed

    def add_article(self, article: Article, chunks: list[Chunk]) -> list[int]:
        """Insert an article with its chunks; return the new chunk ids, in order."""
        with self._lock, self._transaction():
            self._conn.execute(
                f"INSERT INTO articles ({_ARTICLE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    article.id,
                    article.title,
                    article.text,
                    article.path,
                    article.content_hash,
                    article.published,
                    article.source,
                    article.url,
                    article.place,
                ),
            )
            return [self._insert_chunk(c) for c in chunks]

    def add_sentence_vectors(self, chunk_ids: Sequence[int], packed: Sequence[bytes]) -> None:
        """Store each chunk's sentence vectors (``sentence_vectors.pack``'d), by chunk id."""
        with self._lock, self._transaction():
            self._conn.executemany("INSERT OR REPLACE INTO sentence_vectors VALUES (?, ?)", zip(chunk_ids, packed))

    def _insert_chunk(self, chunk: Chunk) -> int:
        sentences = json.dumps([[s.start, s.end] for s in chunk.sentences])
        cur = self._conn.execute(
            'INSERT INTO chunks (article_id, ordinal, start, "end", sentences, heading, tokens) VALUES (?,?,?,?,?,?,?)',
            (chunk.article_id, chunk.ordinal, chunk.start, chunk.end, sentences, chunk.heading, chunk.tokens),
        )
        rowid = cur.lastrowid
        assert rowid is not None  # always set after an INSERT
        return rowid

    def _transaction(self) -> AbstractContextManager[None]:
        conn = self._conn

        class _Tx:
            def __enter__(self) -> None:
                conn.execute("BEGIN")

            def __exit__(self, exc_type: type[BaseException] | None, *_: BaseException | TracebackType | None) -> None:
                conn.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    # -- reading --

    def meta(self) -> dict[str, object]:
        with self._lock:
            rows = self._conn.execute("SELECT key, value FROM meta").fetchall()
        return {k: json.loads(v) for k, v in rows}

    def article_hashes(self) -> dict[str, str]:
        with self._lock:
            return dict(self._conn.execute("SELECT id, content_hash FROM articles"))

    def count(self, table: str) -> int:
        assert table in ("articles", "chunks")
        with self._lock:
            return int(self._conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    def articles(self, *, with_text: bool = True) -> list[Article]:
        """Every article, newest first (undated last), then by title. Without ``with_text``
        their ``text`` is left empty: a listing of a large archive stays small."""
        columns = _ARTICLE_COLUMNS if with_text else _ARTICLE_COLUMNS.replace("text,", "'' AS text,")
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {columns} FROM articles ORDER BY published IS NULL, published DESC, title"
            ).fetchall()
        return [Article(*row) for row in rows]

    def article(self, article_id: str) -> Article | None:
        with self._lock:
            row = self._conn.execute(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id=?", (article_id,)).fetchone()
        return Article(*row) if row else None

    def chunks(self, chunk_ids: Iterable[int]) -> dict[int, tuple[Chunk, Article]]:
        """The chunks with these ids and their articles (missing ids are left out)."""
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._conn.execute(
                f'SELECT c.id, c.ordinal, c.start, c."end", c.sentences, c.heading, c.tokens, '
                f"{', '.join('a.' + c.strip() for c in _ARTICLE_COLUMNS.split(','))} "
                f"FROM chunks c JOIN articles a ON a.id = c.article_id WHERE c.id IN ({marks})",
                ids,
            ).fetchall()
        return {row[0]: chunk_with_article(row) for row in rows}

    def sentence_vectors(self, chunk_ids: Iterable[int]) -> dict[int, bytes]:
        """The packed sentence vectors of these chunks; chunks without them (an index built
        before they were stored, or without them) are left out."""
        ids = list(dict.fromkeys(int(i) for i in chunk_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        try:
            with self._lock:
                rows = self._conn.execute(
                    f"SELECT chunk_id, vectors FROM sentence_vectors WHERE chunk_id IN ({marks})", ids
                ).fetchall()
        except sqlite3.OperationalError:  # a generation written before the table existed
            return {}
        return {int(i): bytes(blob) for i, blob in rows}

    def chunk_ids(self) -> list[int]:
        """Every chunk id, ascending."""
        with self._lock:
            return [row[0] for row in self._conn.execute("SELECT id FROM chunks ORDER BY id")]

    def iter_chunk_texts(self) -> Iterator[tuple[int, str]]:
        """(chunk id, embedding text) for every chunk, in id order: what BM25 indexes."""
        with self._lock:
            rows = self._conn.execute(
                'SELECT c.id, c.heading, substr(a.text, c.start + 1, c."end" - c.start) '
                "FROM chunks c JOIN articles a ON a.id = c.article_id ORDER BY c.id"
            ).fetchall()
        for chunk_id, heading, text in rows:
            yield chunk_id, f"{heading}\n{text}" if heading else text


def chunk_with_article(row: tuple[Any, ...]) -> tuple[Chunk, Article]:
    """A chunk and its article from one row: (id, ordinal, start, end, sentence spans as JSON
    text or as a list, heading, tokens, then the article's fields in ``Article``'s order).
    Both backends store chunks this way."""
    _, ordinal, start, end, sentences, heading, tokens, *article_fields = row
    article = Article(*article_fields)
    spans = sentences if isinstance(sentences, list) else json.loads(sentences)
    chunk = Chunk(
        article_id=article.id,
        ordinal=ordinal,
        start=start,
        end=end,
        text=article.text[start:end],
        sentences=tuple(Sentence(a, b) for a, b in spans),
        heading=heading,
        tokens=tokens,
    )
    return chunk, article
