"""The SQLite feedback store: answers and votes kept, one vote per person and answer, reasons
only on a 👎, retention, the salted hash, and corrections turned into regression questions."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta

from embeddings.feedback import (
    AnswerRecord,
    SQLiteFeedbackStore,
    load_salt,
    passes,
    regression_questions,
    row_to_dict,
    user_hash,
)

NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)


def record(question: str = "Who won the Portmere marathon?", at: datetime = NOW) -> AnswerRecord:
    return AnswerRecord(question, "Grace Wanjiru\nKenyan runner Grace Wanjiru won.", ("marathon-2024",), 1, 2, at)


def test_votes_are_kept_once_per_person_and_answer_and_a_reason_only_on_a_thumbs_down(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "feedback.sqlite", retention_days=365)
    answer_id = store.remember(record())
    assert store.answer(answer_id).cited == ("marathon-2024",)
    assert store.vote(answer_id, "a" * 32, "down", NOW) and store.vote(answer_id, "a" * 32, "up", NOW)  # changed
    assert not store.explain(answer_id, "a" * 32, "wrong", "x")  # an up vote has no reason
    assert store.vote(answer_id, "b" * 32, "down", NOW) and store.explain(answer_id, "b" * 32, "wrong person", "Ann")
    assert not store.vote("0" * 16, "a" * 32, "up", NOW)  # no such answer
    counts = store.counts()
    assert (counts.answers, counts.up, counts.down, counts.explained) == (1, 1, 1, 1)
    rows = [row_to_dict(r) for r in store.rows()]
    assert {r["vote"] for r in rows} == {"up", "down"} and rows[-1]["correction"] == "Ann"
    again = SQLiteFeedbackStore(tmp_path / "feedback.sqlite", retention_days=365)  # reopened: still there
    assert again.counts() == counts


def test_answers_older_than_the_retention_are_deleted_with_their_votes(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "feedback.sqlite", retention_days=30)
    old = store.remember(record(at=NOW - timedelta(days=31)))
    new = store.remember(record(at=NOW))
    store.vote(old, "a" * 32, "up", NOW - timedelta(days=31))
    assert store.purge(NOW - timedelta(days=30)) == 1
    assert store.answer(old) is None and store.answer(new) is not None and store.counts().up == 0


def test_the_salt_is_made_once_private_and_hashes_hide_the_id(tmp_path):
    salt = load_salt(tmp_path)
    assert load_salt(tmp_path) == salt and len(salt) == 32
    assert stat.S_IMODE((tmp_path / "feedback.salt").stat().st_mode) == 0o600
    hashed = user_hash(salt, 123456789012345678)
    assert len(hashed) == 32 and "123456789012345678" not in hashed
    assert hashed != user_hash(b"another salt of enough length", 123456789012345678)


def test_thumbs_down_with_a_correction_becomes_a_regression_question(tmp_path):
    store = SQLiteFeedbackStore(tmp_path / "feedback.sqlite", retention_days=365)
    answer_id = store.remember(record("When do the secretaries meet?"))
    store.vote(answer_id, "a" * 32, "down", NOW)
    store.explain(answer_id, "a" * 32, "wrong date", "May 21-22")
    store.vote(answer_id, "b" * 32, "down", NOW)  # no correction: not a regression question
    [question] = regression_questions(store.rows())
    assert (question.question, question.expected) == ("When do the secretaries meet?", "May 21-22")
    assert passes("May 21-22", "**May 21–22** … may 21 22") and not passes("May 21-22", "June 3")
