"""The natural-question checker finds each kind of broken row, and the committed files pass it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.questions import check

# Article ids whose split the rule (sha1 of the key, mod 3) gives, worked out by hand once.
DEV_ARTICLE, TEST_NEAR_MISS = "wikinews-en-66746", "nqb-0507"
CORPUS = {
    DEV_ARTICLE: "He received 690 votes. His wife is Sophie Grégoire.",
    "wikinews-en-2": "Another article.",
}


def answerable(qid: str, **changes) -> dict:
    row = {
        "id": qid,
        "article_id": DEV_ARTICLE,
        "question": "how many votes did he get?",
        "kind": "number",
        "answers": [r"\b690\b"],
        "split": "dev",
        "style": "paraphrase",
    }
    return row | changes


def near_miss(**changes) -> dict:
    row = {
        "id": TEST_NEAR_MISS,
        "article_id": None,
        "question": "what did he name his first child?",
        "kind": "who",
        "answers": [],
        "split": "test",
        "style": "near-miss",
        "near_article_ids": [DEV_ARTICLE],
    }
    return row | changes


def test_a_well_formed_set_has_no_problem() -> None:
    rows = [answerable("q1"), answerable("q2", kind="who", answers=["Sophie Gr[ée]goire"]), near_miss()]
    assert check.check_rows(rows, CORPUS) == []


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (answerable("q2", answers=["Sophie Gr[ée"]), "does not compile"),
        (answerable("q2", answers=["Margaret"]), "is not in wikinews-en-66746"),
        (answerable("q2", split="test"), "the rule gives 'dev'"),
        (answerable("q2", kind="how many"), "kind 'how many'"),
        (answerable("q2", style="formal"), "style 'formal'"),
        (answerable("q2", article_id="wikinews-en-404"), "not in the corpus"),
        (answerable("q2", extra=1), "unknown fields ['extra']"),
        (answerable("q1"), "q1: id used 2 times"),
    ],
)
def test_each_broken_answerable_row_is_reported(bad_row: dict, expected: str) -> None:
    problems = check.check_rows([answerable("q1"), bad_row, near_miss()], CORPUS)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    ("bad_row", "expected"),
    [
        (near_miss(answers=["690"]), "no answers"),
        (near_miss(near_article_ids=[]), "names its near_article_ids"),
        (near_miss(near_article_ids=["wikinews-en-404"]), "wikinews-en-404 is not in the corpus"),
        (near_miss(split="dev"), "the rule gives 'test'"),
    ],
)
def test_each_broken_near_miss_is_reported(bad_row: dict, expected: str) -> None:
    problems = check.check_rows([answerable("q1"), answerable("q2"), bad_row], CORPUS)
    assert any(expected in p for p in problems), problems


def test_an_article_with_one_or_six_questions_is_reported() -> None:
    one = check.check_rows([answerable("q1")], CORPUS)
    six = check.check_rows([answerable(f"q{i}") for i in range(6)], CORPUS)
    assert one == [f"{DEV_ARTICLE}: 1 questions (2-5 per article)"]
    assert six == [f"{DEV_ARTICLE}: 6 questions (2-5 per article)"]


def test_main_reads_files_and_exits_1_on_a_problem(tmp_path: Path, capsys) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": k, "text": v}) + "\n" for k, v in CORPUS.items()), encoding="utf-8")
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_text("".join(json.dumps(r) + "\n" for r in [answerable("q1"), answerable("q2")]), encoding="utf-8")
    bad.write_text(json.dumps(answerable("q3", answers=["Margaret"])) + "\n", encoding="utf-8")
    assert check.main([str(good), "--corpus", str(corpus)]) == 0
    assert check.main([str(good), str(bad), "--corpus", str(corpus)]) == 1
    assert "q3: answer 'Margaret' is not in" in capsys.readouterr().out


def test_a_near_miss_key_phrase_found_in_an_article_is_reported() -> None:
    rows = [answerable("q1"), answerable("q2"), near_miss()]
    assert check.check_absent({TEST_NEAR_MISS: [r"Xavier James", r"first child \w+"]}, rows, CORPUS) == []
    found = check.check_absent({TEST_NEAR_MISS: [r"Xavier", r"wife is \w+"]}, rows, CORPUS)
    assert found == [f"{TEST_NEAR_MISS}: key phrase 'wife is \\\\w+' is in {DEV_ARTICLE}"]


def test_key_phrases_must_belong_to_the_near_misses_and_cover_them_all() -> None:
    rows = [answerable("q1"), answerable("q2"), near_miss()]
    problems = check.check_absent({"q1": ["Xavier"]}, rows, CORPUS)
    assert problems == [
        "q1: key phrases given for a question that is not a near-miss",
        f"{TEST_NEAR_MISS}: near-miss without key phrases",
    ]


@pytest.mark.skipif(not check.CORPUS.exists(), reason="needs ../shared/corpus/wikinews-en.jsonl")
def test_the_committed_question_files_pass_against_the_real_corpus() -> None:
    files = sorted(check.HERE.glob("*.jsonl"))
    assert files
    assert check.check_rows(check.read_rows(files), check.read_corpus(check.CORPUS)) == []
    with_phrases = [path for path in files if check.absent_path(path).exists()]
    for path in with_phrases:
        absent = json.loads(check.absent_path(path).read_text("utf-8"))
        assert check.check_absent(absent, check.read_rows([path]), check.read_corpus(check.CORPUS, titles=True)) == []
