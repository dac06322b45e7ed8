"""``newsbot feedback``: the 👎-with-correction rows become regression questions, written out
and asked again (a real subprocess over a real index and feedback store)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from embeddings.feedback import AnswerRecord, SQLiteFeedbackStore

from .test_cli import run, workdir  # noqa: F401  (the module's indexed folder)

NOW = datetime.now(UTC)


def test_corrections_become_regression_questions_that_are_checked_against_the_index(workdir, tmp_path):  # noqa: F811
    store = SQLiteFeedbackStore(workdir / "data" / "feedback.sqlite", retention_days=365)
    for question, correction in [
        ("When will the SCO security council secretaries meet?", "May 21-22"),  # the index answers it
        ("Who will chair the meeting of the secretaries?", "Someone Else Entirely"),  # it does not
    ]:
        answer_id = store.remember(AnswerRecord(question, "(wrong)", (), 1, 2, NOW))
        store.vote(answer_id, "a" * 32, "down", NOW)
        store.explain(answer_id, "a" * 32, "wrong", correction)
    store.vote(store.remember(AnswerRecord("Where?", "x", (), 1, 2, NOW)), "b" * 32, "up", NOW)

    out = tmp_path / "regressions.jsonl"
    result = run(["feedback", "--regressions", str(out), "--check"], workdir)
    assert result.returncode == 1, result.stderr  # one correction is still not answered
    assert "3 answers kept, 1 👍, 2 👎 (2 with a reason), 2 corrections" in result.stdout
    assert "1/2 corrected questions now answered right" in result.stdout
    assert "still wrong: 'Who will chair the meeting of the secretaries?'" in result.stdout
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert sorted(r["expected"] for r in rows) == ["May 21-22", "Someone Else Entirely"]

    # `newsbot eval --feedback` is the same check, reached from the evaluation command.
    result = run(["eval", "--feedback"], workdir)
    assert result.returncode == 1, result.stderr
    assert "1/2 corrected questions now answered right" in result.stdout
    assert "still wrong: 'Who will chair the meeting of the secretaries?'" in result.stdout


def test_eval_without_a_file_or_feedback_says_what_it_needs(workdir):  # noqa: F811
    result = run(["eval"], workdir)
    assert result.returncode == 2
    assert "--feedback" in result.stderr
