"""The feedback stores (SQLite, and PostgreSQL on the test run's real server): answers and votes
kept, one vote per person and answer, reasons only on a 👎, retention, the salted hash, and
corrections turned into regression questions; the factory's choice between them."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime, timedelta

import pytest

from embeddings.errors import NewsbotError
from embeddings.feedback import (
    AnswerRecord,
    SQLiteFeedbackStore,
    load_salt,
    open_feedback_store,
    passes,
    regression_questions,
    row_to_dict,
    user_hash,
)

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def record(question: str = "Who won the Portmere marathon?", at: datetime = NOW) -> AnswerRecord:
    return AnswerRecord(question, "Grace Wanjiru\nKenyan runner Grace Wanjiru won.", ("marathon-2024",), 1, 2, at)


def pg_store(url: str, retention_days: int):
    from embeddings.index.pg.connection import Database
    from embeddings.index.pg.feedback import PostgresFeedbackStore

    return PostgresFeedbackStore(Database(url, timeout=10.0), retention_days)


@pytest.fixture(params=["sqlite", "postgres"])
def open_store(request, tmp_path):
    """Opens the store under test (again: the same file or database each time)."""

    def open_(retention_days: int = 365):
        if request.param == "sqlite":
            return SQLiteFeedbackStore(tmp_path / "feedback.sqlite", retention_days)
        store = pg_store(request.getfixturevalue("pg_url"), retention_days)
        request.addfinalizer(store.close)
        return store

    return open_


def test_votes_are_kept_once_per_person_and_answer_and_a_reason_only_on_a_thumbs_down(open_store):
    store = open_store()
    answer_id = store.remember(record())
    kept = store.answer(answer_id)
    assert (kept.cited, kept.at, kept.guild_id, kept.channel_id) == (("marathon-2024",), NOW, 1, 2)
    assert kept.answer == record().answer and kept.standalone_question == record().question
    assert store.answer("0" * 16) is None
    refusal = store.answer(store.remember(AnswerRecord("Hi?", "(not found)", (), None, None, NOW)))  # outside Discord
    assert (refusal.cited, refusal.guild_id, refusal.channel_id) == ((), None, None)
    assert store.vote(answer_id, "a" * 32, "down", NOW) and store.vote(answer_id, "a" * 32, "up", NOW)  # changed
    assert not store.explain(answer_id, "a" * 32, "wrong", "x")  # an up vote has no reason
    assert store.vote(answer_id, "b" * 32, "down", NOW) and store.explain(answer_id, "b" * 32, "wrong person", "Ann")
    assert not store.vote("0" * 16, "a" * 32, "up", NOW)  # no such answer
    counts = store.counts()
    assert (counts.answers, counts.up, counts.down, counts.explained) == (2, 1, 1, 1)
    rows = [row_to_dict(r) for r in store.rows()]
    assert {r["vote"] for r in rows} == {"up", "down"} and rows[-1]["correction"] == "Ann"
    again = open_store()  # reopened: still there
    assert again.counts() == counts and [row_to_dict(r) for r in again.rows()] == rows
    assert store.vote(answer_id, "b" * 32, "down", NOW) and not store.explain(answer_id, "a" * 32, "x", "y")
    assert [r.reason for r in store.rows() if r.user_hash == "b" * 32] == [None]  # a re-vote clears the reason


def test_answers_older_than_the_retention_are_deleted_with_their_votes(open_store):
    store = open_store(retention_days=30)
    old = store.remember(record(at=NOW - timedelta(days=31)))
    new = store.remember(record(at=NOW))
    store.vote(old, "a" * 32, "up", NOW - timedelta(days=31))
    assert store.purge(NOW - timedelta(days=30)) == 1
    assert store.answer(old) is None and store.answer(new) is not None and store.counts().up == 0
    assert not store.vote(old, "a" * 32, "up", NOW)  # a purged answer takes no more votes


def test_opening_the_store_purges_what_is_past_the_retention(open_store):
    store = open_store(retention_days=365)
    store.remember(record(at=datetime.now(UTC) - timedelta(days=40)))
    store.remember(record(at=datetime.now(UTC)))
    assert open_store(retention_days=30).counts().answers == 1


def test_the_salt_is_made_once_private_and_hashes_hide_the_id(tmp_path):
    salt = load_salt(tmp_path)
    assert load_salt(tmp_path) == salt and len(salt) == 32
    assert stat.S_IMODE((tmp_path / "feedback.salt").stat().st_mode) == 0o600
    hashed = user_hash(salt, 123456789012345678)
    assert len(hashed) == 32 and "123456789012345678" not in hashed
    assert hashed != user_hash(b"another salt of enough length", 123456789012345678)


def test_thumbs_down_with_a_correction_becomes_a_regression_question(open_store):
    store = open_store()
    answer_id = store.remember(record("When do the secretaries meet?"))
    store.vote(answer_id, "a" * 32, "down", NOW)
    store.explain(answer_id, "a" * 32, "wrong date", "May 21-22")
    store.vote(answer_id, "b" * 32, "down", NOW)  # no correction: not a regression question
    [question] = regression_questions(store.rows())
    assert (question.question, question.expected) == ("When do the secretaries meet?", "May 21-22")
    assert passes("May 21-22", "**May 21–22** … may 21 22") and not passes("May 21-22", "June 3")


def test_every_process_on_one_database_hashes_people_with_the_same_salt(pg_url, tmp_path):
    stores = []
    threads = [threading.Thread(target=lambda: stores.append(pg_store(pg_url, 365))) for _ in range(4)]
    for t in threads:  # replicas starting together: the tables and the salt are made once
        t.start()
    for t in threads:
        t.join()
    try:
        assert len(stores) == 4 and len({s.salt() for s in stores}) == 1 and len(stores[0].salt()) == 32
    finally:
        for s in stores:
            s.close()
    assert SQLiteFeedbackStore(tmp_path / "feedback.sqlite", 365).salt() == load_salt(tmp_path)


def test_the_factory_keeps_feedback_in_the_database_when_one_is_configured(pg_url, tmp_path):
    from embeddings.index.pg.feedback import PostgresFeedbackStore
    from embeddings.settings import EngineSettings

    def opened(**values):
        store = open_feedback_store(EngineSettings(_env_file=None, data_dir=tmp_path, **values))
        store.close()
        return store

    assert isinstance(opened(), SQLiteFeedbackStore)
    assert isinstance(opened(database_url=pg_url), PostgresFeedbackStore)
    assert isinstance(opened(database_url=pg_url, feedback_backend="sqlite"), SQLiteFeedbackStore)
    with pytest.raises(NewsbotError, match="needs NEWSBOT_DATABASE_URL"):
        opened(feedback_backend="postgres")


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path):
    from embeddings.settings import EngineSettings

    url = f"postgresql://newsbot:s3cret-pw@/newsbot?host={tmp_path}&port=1"  # no server on that socket
    settings = EngineSettings(_env_file=None, data_dir=tmp_path, database_url=url, database_timeout=2)
    with pytest.raises(NewsbotError) as caught:
        open_feedback_store(settings)
    message = str(caught.value)
    assert "cannot be reached" in message and "\n" not in message and "s3cret-pw" not in message
