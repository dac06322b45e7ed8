"""Feedback on answers: the answers people can vote on, their 👍 / 👎 votes and a 👎's reason
and correction, kept behind the ``FeedbackStore`` protocol.

``open_feedback_store(settings)`` is the factory, keyed by ``NEWSBOT_FEEDBACK_BACKEND``:
``sqlite`` keeps ``feedback.sqlite`` in the data folder, ``postgres`` keeps the tables of
``embeddings.index.pg.feedback`` in the database of ``NEWSBOT_DATABASE_URL`` (shared by every bot
replica), and ``auto`` (the default) is ``postgres`` when that URL is set, else ``sqlite``.

People are never stored by their id: the caller passes ``user_hash``, a keyed hash
(HMAC-SHA256) of the id with a secret salt (``load_salt``), so one person's votes can be told
apart and counted once per answer without the store knowing who they are. Rows older than the
retention (``NEWSBOT_FEEDBACK_RETENTION_DAYS``) are deleted when the store opens and, while it is
open, at most once an hour when answers are added.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from embeddings.errors import NewsbotError
from embeddings.settings import EngineSettings

Vote = Literal["up", "down"]
SALT_FILE = "feedback.salt"
PURGE_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class AnswerRecord:
    """An answer people can vote on: what was asked (and as what it was read), what was
    answered, the cited article ids, and where (Discord server and channel ids; None outside)."""

    question: str
    answer: str
    cited: tuple[str, ...]
    guild_id: int | None
    channel_id: int | None
    at: datetime
    standalone_question: str = ""


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """One vote with its answer, as exported: never a user id, only its salted hash."""

    answer_id: str
    answer: AnswerRecord
    user_hash: str
    vote: Vote
    reason: str | None
    correction: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class FeedbackCounts:
    answers: int
    up: int
    down: int
    explained: int  # 👎 with a reason or a correction


class FeedbackStore(Protocol):
    """Where answers and votes are kept. Every method may be called from any thread."""

    def remember(self, record: AnswerRecord) -> str:
        """Keep ``record``; return its id (16 hex digits), which buttons carry."""
        ...

    def answer(self, answer_id: str) -> AnswerRecord | None:
        """The answer with this id, or None (unknown, or deleted by the retention)."""
        ...

    def vote(self, answer_id: str, user_hash: str, vote: Vote, at: datetime) -> bool:
        """Record (or change) this person's vote on the answer; False for an unknown answer."""
        ...

    def explain(self, answer_id: str, user_hash: str, reason: str | None, correction: str | None) -> bool:
        """Add a reason and a correction to this person's 👎; False when there is no such vote."""
        ...

    def counts(self) -> FeedbackCounts: ...

    def rows(self) -> Iterator[FeedbackRow]:
        """Every vote with its answer, oldest first."""
        ...

    def purge(self, before: datetime) -> int:
        """Delete answers (and their votes) from before ``before``; return how many answers."""
        ...

    def salt(self) -> bytes:
        """The secret salt ``user_hash`` hashes ids with, the same for every process on this store."""
        ...

    def close(self) -> None: ...


def user_hash(salt: bytes, user_id: int) -> str:
    """A person's id as the store keeps it: HMAC-SHA256 with the secret ``salt`` (hex, 32 digits)."""
    return hmac.new(salt, str(user_id).encode(), hashlib.sha256).hexdigest()[:32]


def load_salt(folder: Path) -> bytes:
    """The secret salt in ``folder``/feedback.salt, created (random, owner-only) when missing."""
    path = folder / SALT_FILE
    folder.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        salt = path.read_bytes()
        if len(salt) < 16:
            raise NewsbotError(
                f"The feedback salt {path} is damaged (too short); delete it to make a new one."
            ) from None
        return salt
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(32))
        out.flush()
        os.fsync(out.fileno())
    return path.read_bytes()


def open_feedback_store(settings: EngineSettings, *, backend: object | None = None) -> FeedbackStore:
    """The store ``settings.feedback_kind`` names (postgres when ``NEWSBOT_DATABASE_URL`` is set
    and ``NEWSBOT_FEEDBACK_BACKEND`` is ``auto``), with old rows purged. ``backend``: the
    process's search backend; when it is a PostgreSQL backend on the same database, the store
    borrows its pool, so that one process holds one pool (``NEWSBOT_DATABASE_POOL_SIZE``
    connections at most). A database that cannot be reached raises its one-line ``NewsbotError``."""
    if settings.feedback_kind == "sqlite":
        return SQLiteFeedbackStore(settings.data_dir / "feedback.sqlite", settings.feedback_retention_days)
    if settings.database_url is None:
        raise NewsbotError("NEWSBOT_FEEDBACK_BACKEND=postgres needs NEWSBOT_DATABASE_URL=postgresql://...")
    from embeddings.index.pg.backend import PostgresBackend  # psycopg is loaded only by who uses it
    from embeddings.index.pg.connection import Database
    from embeddings.index.pg.feedback import PostgresFeedbackStore

    url = settings.database_url.get_secret_value()
    if isinstance(backend, PostgresBackend) and backend.database.url == url:
        return PostgresFeedbackStore(backend.database, settings.feedback_retention_days, pooled=backend.pooled)
    # Alone (`newsbot feedback`, or a bot on local files): a few small statements per answer.
    database = Database(url, settings.database_timeout, pool_size=2)
    return PostgresFeedbackStore(database, settings.feedback_retention_days)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY, question TEXT NOT NULL, standalone TEXT NOT NULL, answer TEXT NOT NULL,
    cited TEXT NOT NULL, guild_id INTEGER, channel_id INTEGER, at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS answers_at ON answers (at);
CREATE TABLE IF NOT EXISTS votes (
    answer_id TEXT NOT NULL REFERENCES answers (id) ON DELETE CASCADE, user_hash TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')), reason TEXT, correction TEXT, at TEXT NOT NULL,
    PRIMARY KEY (answer_id, user_hash)
);
"""


class SQLiteFeedbackStore:
    """``FeedbackStore`` in one SQLite file. Each call opens and closes its own connection, so
    no file stays open between calls (the data folder can be remounted or moved meanwhile)."""

    def __init__(self, path: Path, retention_days: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()
        self._retention = timedelta(days=retention_days)
        with self._connected() as db:
            db.executescript(_SCHEMA)
        self._purged = datetime.now(UTC)
        self.purge(self._purged - self._retention)

    @contextmanager
    def _connected(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            db = sqlite3.connect(self._path, isolation_level=None, timeout=10)
            try:
                db.execute("PRAGMA foreign_keys=ON")
                # Every answer is kept: in WAL mode with synchronous=NORMAL a commit does not wait for
                # fsync, so a flood of answers does not hold up the worker threads that answer others
                # (a vote lost to a power cut is acceptable; the file itself stays consistent).
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                yield db
            finally:
                db.close()

    def remember(self, record: AnswerRecord) -> str:
        answer_id = secrets.token_hex(8)
        with self._connected() as db:
            db.execute(
                "INSERT INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    answer_id,
                    record.question,
                    record.standalone_question or record.question,
                    record.answer,
                    "\n".join(record.cited),
                    record.guild_id,
                    record.channel_id,
                    record.at.isoformat(),
                ),
            )
        if record.at - self._purged >= PURGE_EVERY:
            self._purged = record.at
            self.purge(record.at - self._retention)
        return answer_id

    def answer(self, answer_id: str) -> AnswerRecord | None:
        with self._connected() as db:
            row = db.execute("SELECT * FROM answers WHERE id = ?", (answer_id,)).fetchone()
        return None if row is None else _record(row)

    def vote(self, answer_id: str, user_hash: str, vote: Vote, at: datetime) -> bool:
        with self._connected() as db:
            if db.execute("SELECT 1 FROM answers WHERE id = ?", (answer_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO votes (answer_id, user_hash, vote, at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (answer_id, user_hash) DO UPDATE SET vote = excluded.vote, at = excluded.at, "
                "reason = NULL, correction = NULL",
                (answer_id, user_hash, vote, at.isoformat()),
            )
        return True

    def explain(self, answer_id: str, user_hash: str, reason: str | None, correction: str | None) -> bool:
        with self._connected() as db:
            cursor = db.execute(
                "UPDATE votes SET reason = ?, correction = ? WHERE answer_id = ? AND user_hash = ? AND vote = 'down'",
                (reason or None, correction or None, answer_id, user_hash),
            )
        return cursor.rowcount == 1

    def counts(self) -> FeedbackCounts:
        with self._connected() as db:
            answers = db.execute("SELECT count(*) FROM answers").fetchone()[0]
            up, down, explained = db.execute(
                "SELECT count(*) FILTER (WHERE vote = 'up'), count(*) FILTER (WHERE vote = 'down'), "
                "count(*) FILTER (WHERE vote = 'down' AND (reason IS NOT NULL OR correction IS NOT NULL)) FROM votes"
            ).fetchone()
        return FeedbackCounts(int(answers), int(up), int(down), int(explained))

    def rows(self) -> Iterator[FeedbackRow]:
        with self._connected() as db:
            found = db.execute(
                "SELECT a.*, v.user_hash, v.vote, v.reason, v.correction, v.at FROM votes v "
                "JOIN answers a ON a.id = v.answer_id ORDER BY v.at, a.id, v.user_hash"
            ).fetchall()
        for row in found:
            yield FeedbackRow(
                row[0], _record(row[:8]), row[8], row[9], row[10], row[11], datetime.fromisoformat(row[12])
            )

    def purge(self, before: datetime) -> int:
        with self._connected() as db:
            return db.execute("DELETE FROM answers WHERE at < ?", (before.isoformat(),)).rowcount

    def salt(self) -> bytes:
        return load_salt(self._path.parent)

    def close(self) -> None:
        pass  # nothing stays open between calls


def _record(row: tuple[Any, ...]) -> AnswerRecord:
    _id, question, standalone, answer, cited, guild_id, channel_id, at = row
    return AnswerRecord(
        question=question,
        answer=answer,
        cited=tuple(c for c in cited.split("\n") if c),
        guild_id=guild_id,
        channel_id=channel_id,
        at=datetime.fromisoformat(at),
        standalone_question=standalone,
    )


# -- what feedback is used for --


def row_to_dict(row: FeedbackRow) -> dict[str, object]:
    """One exported JSONL line: the vote, its answer, where; the person only as the salted hash."""
    a = row.answer
    return {
        "answer_id": row.answer_id,
        "question": a.question,
        "standalone_question": a.standalone_question,
        "answer": a.answer,
        "cited": list(a.cited),
        "guild_id": a.guild_id,
        "channel_id": a.channel_id,
        "answered_at": a.at.isoformat(),
        "user_hash": row.user_hash,
        "vote": row.vote,
        "reason": row.reason,
        "correction": row.correction,
        "voted_at": row.at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class RegressionQuestion:
    """A 👎 with a correction, as a question the answers must get right from now on."""

    question: str
    expected: str
    wrong_answer: str
    answer_id: str


def regression_questions(rows: Iterator[FeedbackRow] | list[FeedbackRow]) -> list[RegressionQuestion]:
    """The 👎 rows that carry a correction, one question per (question, correction) pair."""
    found: dict[tuple[str, str], RegressionQuestion] = {}
    for row in rows:
        if row.vote == "down" and row.correction and row.correction.strip():
            question = row.answer.standalone_question or row.answer.question
            key = (question.casefold(), _normal(row.correction))
            found.setdefault(
                key, RegressionQuestion(question, row.correction.strip(), row.answer.answer, row.answer_id)
            )
    return list(found.values())


def passes(expected: str, answer_text: str) -> bool:
    """Whether an answer's text holds the expected answer (case, spacing and punctuation aside)."""
    return _normal(expected) in _normal(answer_text)


def _normal(text: str) -> str:
    return " ".join("".join(ch if ch.isalnum() else " " for ch in text.casefold()).split())
