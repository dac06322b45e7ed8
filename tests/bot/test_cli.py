"""The newsbot command line, run as a real subprocess like a user would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import SEED

NEWSBOT = [sys.executable, "-c", "from bot.cli import main; main()"]


def run(args: list[str], cwd: Path, env_extra: dict | None = None, stdin: str | None = None):
    # The user's own settings stay out; the test run's exported model is shared.
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") or k == "NEWSBOT_MODEL_CACHE_DIR"}
    env.update({"HF_HUB_OFFLINE": "1", "NEWSBOT_DATA_DIR": str(cwd / "data"), "NEWSBOT_SEEDS_DIR": str(cwd / "seeds")})
    env.update(env_extra or {})
    return subprocess.run(NEWSBOT + args, cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, encoder) -> Path:
    """A folder with the project's seed article and a built index (``encoder`` first fills the
    test run's model cache, so the subprocesses find the export and the measured choice)."""
    root = tmp_path_factory.mktemp("cli")
    (root / "seeds").mkdir()
    (root / "seeds" / SEED.name).write_bytes(SEED.read_bytes())
    (root / "seeds" / "broken.json").write_text("{not json")
    result = run(["index"], root)
    assert result.returncode == 0, result.stderr
    assert "1 added" in result.stdout and "1 skipped" in result.stdout
    assert "broken.json" in result.stderr and "malformed JSON" in result.stderr
    return root


def test_search_puts_the_may_21_22_chunk_first(workdir):
    result = run(["search", "when will the security council secretaries meet", "--json"], workdir)
    assert result.returncode == 0, result.stderr
    hits = json.loads(result.stdout)
    assert "May 21-22" in hits[0]["text"] and hits[0]["article_id"] == SEED.stem
    assert hits[0]["dense_rank"] and hits[0]["bm25_rank"]


def test_reindexing_an_unchanged_corpus_embeds_nothing(workdir):
    result = run(["index", "--json"], workdir)
    report = json.loads(result.stdout)
    assert result.returncode == 0 and report["chunks_embedded"] == 0 and report["unchanged"] == 1


def test_status_and_articles_describe_the_index(workdir):
    status = json.loads(run(["status", "--json"], workdir).stdout)
    assert status["articles"] == 1 and status["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    articles = json.loads(run(["articles", "--json"], workdir).stdout)
    assert articles[0]["title"] == "China invites Pakistan to SCO’s Security Council’s meeting"
    assert articles[0]["place"] == "BEIJING"


def test_chat_answers_questions_from_stdin(workdir):
    result = run(["chat"], workdir, stdin="who will chair the meeting\n\n")
    assert result.returncode == 0, result.stderr
    assert "Zhao Kezhi will chair the meeting" in " ".join(result.stdout.split())


def test_errors_are_one_line_with_a_non_zero_exit(workdir, tmp_path):
    empty = run(["search", "   "], workdir)
    assert empty.returncode == 1 and empty.stderr.strip().startswith("error:")
    assert len(empty.stderr.strip().splitlines()) == 1
    missing = run(["status"], workdir, {"NEWSBOT_DATA_DIR": str(tmp_path / "none")})
    assert missing.returncode == 1 and "newsbot index" in missing.stderr and "Traceback" not in missing.stderr
    usage = run(["search", "x", "--mode", "nonsense"], workdir)
    assert usage.returncode == 2


def test_a_model_mismatch_tells_the_user_to_rebuild(workdir):
    result = run(["search", "meeting"], workdir, {"NEWSBOT_CHUNK_TOKENS": "64"})
    assert result.returncode == 1 and "newsbot index --rebuild" in result.stderr


SEED_QUESTIONS = {
    "When is the SCO security council secretaries meeting held?": "May 21-22",
    "Where is the SCO security council secretaries meeting held?": "Beijing",
    "Who will chair the SCO security council secretaries meeting?": "Zhao Kezhi",
    "Which meeting number is the SCO security council secretaries meeting?": "13th",
    "Who announced the SCO security council secretaries meeting?": "Lu Kang",
}


def test_ask_json_answers_the_seed_questions_and_refuses_the_absent_one(workdir):
    lines = list(SEED_QUESTIONS) + ["Who won the football final?"]
    result = run(["ask", "-"], workdir, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == lines
    for answer in answers[:-1]:
        expected = SEED_QUESTIONS[answer["question"]]
        assert answer["answered"] and answer["short_answer"] == expected, answer
        assert expected in answer["sentences"][0]
        assert answer["sources"][0]["article_id"] == SEED.stem and 0 < answer["confidence"] <= 1
    refused = answers[-1]
    assert not refused["answered"] and refused["short_answer"] is None and refused["sentences"] == []
    assert refused["sources"], "a refusal lists the closest articles"


def test_ask_json_has_the_documented_shape(workdir):
    result = run(["ask", "when is the SCO security council secretaries meeting held?", "--json"], workdir)
    answer = json.loads(result.stdout)
    assert {"question", "answered", "short_answer", "sentences", "sources", "confidence"} <= set(answer)
    assert {"article_id", "title", "published", "url", "score"} <= set(answer["sources"][0])


def test_summary_of_the_seed_article_has_its_date_and_place_and_no_residue(workdir):
    result = run(["summary", "china invites", "--json"], workdir)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    text = " ".join(p["text"] for p in summary["points"])
    assert 3 <= len(summary["points"]) <= 5
    assert "May 21-22" in text and "Beijing" in text
    assert "Share this post" not in text and "scroll to top" not in text
