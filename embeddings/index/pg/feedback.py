"""``PostgresFeedbackStore``: the ``FeedbackStore`` of every bot process sharing one database.

``open_feedback_store`` picks it when ``NEWSBOT_DATABASE_URL`` is set, so replicas of the bot on
several machines count the same votes, and a 👍 clicked through one replica shows in another's
/status. Same semantics as the SQLite store: one vote per person and answer (a re-vote replaces
it and clears its reason), a reason and a correction only on a 👎, answers older than the
retention deleted with their votes when the store opens and at most hourly while answers are
added. The salt that user ids are hashed with is kept in the database too, so every replica
hashes a person the same way (as the SQLite store keeps it in the data folder beside its file).

The tables are created when missing, like the search backend's (``schema``), under an advisory
lock so that replicas starting together do not race on ``CREATE TABLE``. They need no pgvector.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from embeddings.errors import NewsbotError
from embeddings.feedback import PURGE_EVERY, AnswerRecord, FeedbackCounts, FeedbackRow, Vote
from embeddings.index.pg.connection import Database, Pooled, reason

SCHEMA_LOCK_KEY = 0x6E657773666462  # "newsfdb": creating the feedback tables, one process at a time

_TABLES = [
    """CREATE TABLE IF NOT EXISTS newsbot_feedback_answers (
        id text PRIMARY KEY, question text NOT NULL, standalone text NOT NULL, answer text NOT NULL,
        cited text[] NOT NULL, guild_id bigint, channel_id bigint, at timestamptz NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS newsbot_feedback_answers_at ON newsbot_feedback_answers (at)",
    """CREATE TABLE IF NOT EXISTS newsbot_feedback_votes (
        answer_id text NOT NULL REFERENCES newsbot_feedback_answers (id) ON DELETE CASCADE,
        user_hash text NOT NULL, vote text NOT NULL CHECK (vote IN ('up', 'down')), reason text,
        correction text, at timestamptz NOT NULL, PRIMARY KEY (answer_id, user_hash))""",
    """CREATE TABLE IF NOT EXISTS newsbot_feedback_salt (
        one boolean PRIMARY KEY DEFAULT true CHECK (one), salt bytea NOT NULL)""",
]
_ANSWER = "id, question, standalone, answer, cited, guild_id, channel_id, at"


class PostgresFeedbackStore:
    """``FeedbackStore`` in the database ``database``; calls share one small pool, which is
    dropped after a fault and reopened by the next call (``connection.Pooled``). Given
    ``pooled`` (the search backend's, on the same database), the store borrows that pool
    instead: one pool per process, closed by its owner, not by ``close``."""

    def __init__(self, database: Database, retention_days: int, *, pooled: Pooled | None = None) -> None:
        self._pooled = pooled if pooled is not None else Pooled(database)
        self._owns_pool = pooled is None
        self._retention = timedelta(days=retention_days)
        self._salt = self._create()
        self._purged = datetime.now(UTC)
        self.purge(self._purged - self._retention)

    @property
    def location(self) -> str:
        return self._pooled.database.location

    def _create(self) -> bytes:
        """The tables and the salt, created when missing (in one transaction); the salt."""
        with self._pooled.connection() as conn, _refused(self.location), conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for statement in _TABLES:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO newsbot_feedback_salt (salt) VALUES (%s) ON CONFLICT DO NOTHING",
                (secrets.token_bytes(32),),
            )
            row = conn.execute("SELECT salt FROM newsbot_feedback_salt").fetchone()
        assert row is not None  # inserted just above when missing
        return bytes(row[0])

    def salt(self) -> bytes:
        return self._salt

    def remember(self, record: AnswerRecord) -> str:
        answer_id = secrets.token_hex(8)
        self._run(
            f"INSERT INTO newsbot_feedback_answers ({_ANSWER}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (
                answer_id,
                record.question,
                record.standalone_question or record.question,
                record.answer,
                list(record.cited),
                record.guild_id,
                record.channel_id,
                record.at,
            ),
        )
        if record.at - self._purged >= PURGE_EVERY:
            self._purged = record.at
            self.purge(record.at - self._retention)
        return answer_id

    def answer(self, answer_id: str) -> AnswerRecord | None:
        rows = self._rows(f"SELECT {_ANSWER} FROM newsbot_feedback_answers WHERE id = %s", (answer_id,))
        return _record(rows[0]) if rows else None

    def vote(self, answer_id: str, user_hash: str, vote: Vote, at: datetime) -> bool:
        try:
            # One statement: no vote for an answer that does not exist (or was just purged).
            return (
                self._run(
                    "INSERT INTO newsbot_feedback_votes (answer_id, user_hash, vote, at) "
                    "SELECT id, %s, %s, %s FROM newsbot_feedback_answers WHERE id = %s "
                    "ON CONFLICT (answer_id, user_hash) DO UPDATE SET vote = excluded.vote, at = excluded.at, "
                    "reason = NULL, correction = NULL",
                    (user_hash, vote, at, answer_id),
                )
                == 1
            )
        except psycopg.errors.ForeignKeyViolation:  # purged between the SELECT and the INSERT
            return False

    def explain(self, answer_id: str, user_hash: str, reason: str | None, correction: str | None) -> bool:
        return (
            self._run(
                "UPDATE newsbot_feedback_votes SET reason = %s, correction = %s "
                "WHERE answer_id = %s AND user_hash = %s AND vote = 'down'",
                (reason or None, correction or None, answer_id, user_hash),
            )
            == 1
        )

    def counts(self) -> FeedbackCounts:
        [(answers, up, down, explained)] = self._rows(
            "SELECT (SELECT count(*) FROM newsbot_feedback_answers), count(*) FILTER (WHERE vote = 'up'), "
            "count(*) FILTER (WHERE vote = 'down'), "
            "count(*) FILTER (WHERE vote = 'down' AND (reason IS NOT NULL OR correction IS NOT NULL)) "
            "FROM newsbot_feedback_votes"
        )
        return FeedbackCounts(int(answers), int(up), int(down), int(explained))

    def rows(self) -> Iterator[FeedbackRow]:
        found = self._rows(
            "SELECT a.id, a.question, a.standalone, a.answer, a.cited, a.guild_id, a.channel_id, a.at, "
            "v.user_hash, v.vote, v.reason, v.correction, v.at FROM newsbot_feedback_votes v "
            "JOIN newsbot_feedback_answers a ON a.id = v.answer_id ORDER BY v.at, a.id, v.user_hash"
        )
        for row in found:
            yield FeedbackRow(row[0], _record(row[:8]), row[8], row[9], row[10], row[11], _utc(row[12]))

    def purge(self, before: datetime) -> int:
        return self._run("DELETE FROM newsbot_feedback_answers WHERE at < %s", (before,))

    def close(self) -> None:
        if self._owns_pool:
            self._pooled.close()

    def _run(self, query: str, params: tuple[Any, ...]) -> int:
        """Run one writing statement; the number of rows it touched."""
        with self._pooled.connection() as conn:
            return conn.execute(query, params).rowcount

    def _rows(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._pooled.connection() as conn:
            return conn.execute(query, params).fetchall()


@contextlib.contextmanager
def _refused(location: str) -> Iterator[None]:
    """A database that refuses the feedback tables (no CREATE privilege, a same-named table of
    another shape) as one NewsbotError line; an unreachable one stays IndexUnavailableError."""
    try:
        yield
    except psycopg.Error as exc:
        if isinstance(exc, psycopg.OperationalError):
            raise
        raise NewsbotError(
            f"The database {location} refused newsbot's feedback tables ({reason(exc)}): "
            "grant newsbot CREATE on its schema, or set NEWSBOT_FEEDBACK_BACKEND=sqlite."
        ) from exc


def _record(row: tuple[Any, ...]) -> AnswerRecord:
    _id, question, standalone, answer, cited, guild_id, channel_id, at = row
    return AnswerRecord(
        question=question,
        answer=answer,
        cited=tuple(cited),
        guild_id=guild_id,
        channel_id=channel_id,
        at=_utc(at),
        standalone_question=standalone,
    )


def _utc(moment: datetime) -> datetime:
    # timestamptz comes back in the session's time zone; the SQLite store gives what was stored (UTC).
    return moment.astimezone(UTC)
