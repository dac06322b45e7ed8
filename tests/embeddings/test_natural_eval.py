"""The natural-question evaluation: the question files' loader and split rule, and the harness
run end to end (real model, real indexes) on a tiny corpus written here (no Wikinews text)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from embeddings.errors import QuestionFileError
from embeddings.models import Answer, Citation
from embeddings.natural import corpora
from embeddings.natural.corpora import IndexCache, read_corpus_file
from embeddings.natural.questions import load_questions, parse_question, split_of
from embeddings.natural.runner import heldout_articles, run_natural
from embeddings.natural.scoring import FAILURES, Outcome
from embeddings.settings import EngineSettings

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = REPO / "benchmarks" / "questions"
WIKINEWS = REPO.parent / "shared" / "corpus" / "wikinews-en.jsonl"

ARTICLES = [
    (
        "tiny-harbour",
        "Port Elsmere opens its deep-water harbour",
        "The town of Port Elsmere opened its new deep-water harbour on Tuesday. Mayor Clara Voss cut the ribbon "
        "in front of about 2,000 residents. The harbour cost 84 million euros and took six years to build.",
    ),
    (
        "tiny-chess",
        "Teenager takes the national chess title",
        "Sixteen-year-old Tomas Brenner won the national chess championship in Lindau on Sunday. He beat the "
        "defending champion, Ilse Marquardt, in the final round. Brenner is the youngest winner in the "
        "tournament's 90-year history.",
    ),
    (
        "tiny-flood",
        "Floods close the Arnfeld railway",
        "Heavy rain flooded the railway line between Arnfeld and Kessel on Monday. About 300 passengers were "
        "stranded overnight at Arnfeld station. The rail operator said trains would run again by Thursday.",
    ),
    (
        "tiny-bakery",
        "Bakery chain Brotzeit to open new shops",
        "The bakery chain Brotzeit announced that it will open 45 new shops next year. Its chief executive, "
        "Jonas Albrecht, said the expansion would create 600 jobs. The company was founded in Dresden in 1987.",
    ),
    (
        "tiny-zoo",
        "Zoo welcomes two red pandas",
        "The city zoo of Halberg received two red pandas from a breeding programme in Nepal. Keepers named "
        "them Momo and Pema. Visitors can see them from the first weekend of May.",
    ),
]

# (article, question, kind, answers): questions as a reader asks them, not the sentences' words.
ASKED = [
    ("tiny-harbour", "who is the mayor of port elsmere", "who", ["Clara Voss", "Voss"]),
    ("tiny-harbour", "what did the new harbour cost", "number", ["84 million"]),
    ("tiny-chess", "who won the national chess championship", "who", ["Brenner"]),
    ("tiny-chess", "in which town was the chess final played", "where", ["Lindau"]),
    ("tiny-flood", "how many rail travellers were stuck at arnfeld", "number", [r"\b300\b"]),
    ("tiny-bakery", "when was the brotzeit bakery chain founded", "when", ["1987"]),
]


def question_line(number: int, article: str | None, text: str, kind: str, answers: list[str], **extra) -> str:
    qid = f"t-{number:03d}"
    key = qid if article is None else article
    style = "near-miss" if article is None else "paraphrase"
    record = {"id": qid, "article_id": article, "question": text, "kind": kind, "answers": answers}
    record |= {"split": split_of(key), "style": style, **extra}
    return json.dumps(record)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A tiny corpus file and a question folder over it."""
    corpus = tmp_path / "tiny.jsonl"
    records = [
        {"id": i, "title": t, "published": f"2024-03-0{n}", "text": x} for n, (i, t, x) in enumerate(ARTICLES, 1)
    ]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    folder = tmp_path / "questions"
    folder.mkdir()
    lines = [question_line(n, a, q, k, ans) for n, (a, q, k, ans) in enumerate(ASKED, 1)]
    lines.append(
        question_line(99, None, "how tall is the brotzeit head office", "number", [], near_article_ids=["tiny-bakery"])
    )
    (folder / "tiny.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def write_questions(folder: Path, *lines: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "q.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


# -- the split rule --


def test_split_is_test_exactly_when_the_sha1_of_the_key_is_divisible_by_three():
    keys = [f"wikinews-en-{n}" for n in range(300)]
    tests = [k for k in keys if split_of(k) == "test"]
    assert all(int(hashlib.sha1(k.encode()).hexdigest(), 16) % 3 == 0 for k in tests)
    assert all(split_of(k) == "dev" for k in keys if k not in tests)
    assert 60 < len(tests) < 140  # about a third
    assert split_of("wikinews-en-4541") == "dev" and split_of("wikinews-en-743") == "test"


def test_a_line_whose_split_breaks_the_rule_is_refused_naming_the_line(tmp_path):
    good = question_line(1, "tiny-flood", "how many were stranded", "number", ["300"])
    wrong = json.loads(good) | {"id": "t-002", "split": "test" if split_of("tiny-flood") == "dev" else "dev"}
    folder = write_questions(tmp_path / "q", good, json.dumps(wrong))
    with pytest.raises(QuestionFileError, match=r"q\.jsonl line 2: split is"):
        load_questions(folder)


# -- the loader's validation --


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answers": ["(unclosed"]}, r"line 2: bad answer regex '\(unclosed'"),
        ({"kind": "how"}, r"line 2: unknown kind 'how'"),
        ({"style": "formal"}, r"line 2: unknown style 'formal'"),
        ({"answers": []}, r"line 2: an answerable question needs answers"),
        ({"article_id": None, "id": "t-777"}, r"line 2: .*near miss"),
        ({"extra": 1}, r"line 2: unknown field\(s\) extra"),
    ],
)
def test_a_bad_line_is_refused_with_a_message_naming_file_and_line(tmp_path, change, message):
    good = question_line(1, "tiny-flood", "how many were stranded", "number", ["300"])
    bad = json.loads(question_line(2, "tiny-flood", "when did it flood", "when", ["Monday"])) | change
    folder = write_questions(tmp_path / "q", good, json.dumps(bad))
    with pytest.raises(QuestionFileError, match=message):
        load_questions(folder)


def test_an_article_id_missing_from_the_corpus_is_refused_naming_the_line(tmp_path):
    lines = [
        question_line(1, "tiny-flood", "how many were stranded", "number", ["300"]),
        question_line(2, "tiny-gone", "who left", "who", ["Nobody"]),
    ]
    folder = write_questions(tmp_path / "q", *lines)
    assert len(load_questions(folder)) == 2  # without a corpus, any id will do
    with pytest.raises(QuestionFileError, match=r"q\.jsonl line 2: article id 'tiny-gone' is not in the corpus"):
        load_questions(folder, {"tiny-flood"})


def test_a_missing_field_a_duplicate_id_and_bad_json_are_refused(tmp_path):
    good = question_line(1, "tiny-flood", "how many were stranded", "number", ["300"])
    missing = json.dumps({k: v for k, v in json.loads(good).items() if k != "kind"})
    with pytest.raises(QuestionFileError, match="line 1: missing field"):
        load_questions(write_questions(tmp_path / "a", missing))
    with pytest.raises(QuestionFileError, match=r"line 2: duplicate id 't-001' \(also q.jsonl line 1\)"):
        load_questions(write_questions(tmp_path / "b", good, good))
    with pytest.raises(QuestionFileError, match="line 1: not valid JSON"):
        load_questions(write_questions(tmp_path / "c", "{oops"))


def test_the_committed_question_files_load_and_follow_the_format():
    questions = load_questions(QUESTIONS)
    mine = [q for q in questions if q.id.startswith("nqa-")]
    answerable = [q for q in mine if not q.near_miss]
    assert len(answerable) >= 110 and len(mine) - len(answerable) >= 32
    assert len({q.article_id for q in answerable}) >= 32
    assert {q.kind for q in answerable} == {"when", "who", "where", "number", "other"}
    assert sum(q.kind == "other" for q in answerable) <= len(answerable) / 4
    assert any(q.story for q in answerable)


@pytest.mark.skipif(not WIKINEWS.is_file(), reason="needs ../shared/corpus/wikinews-en.jsonl")
def test_every_committed_answer_regex_matches_its_articles_text():
    corpus, _ = read_corpus_file(WIKINEWS)
    texts = {a.id: a.text for a in corpus.articles}
    questions = load_questions(QUESTIONS, set(texts))
    assert [q.id for q in questions if q.article_id and not q.holds_answer(texts[q.article_id])] == []


# -- the harness, end to end --


def test_the_harness_scores_every_setting_and_split_and_reuses_its_cached_index(tiny, encoder, tmp_path):
    corpus, digest = read_corpus_file(tiny / "tiny.jsonl")
    questions = load_questions(tiny / "questions", {a.id for a in corpus.articles})
    settings = EngineSettings(_env_file=None, data_dir=tmp_path / "unused")
    cache = tmp_path / "cache"
    details = tmp_path / "details.jsonl"
    result = run_natural(questions, corpus, digest, settings, encoder, cache_dir=cache, sizes=(1, 3), details=details)

    assert (result["articles"], result["questions"], result["near_miss_questions"]) == (5, 6, 1)
    assert set(result) >= {"whole", "small-1", "small-3", "heldout"}
    whole = result["whole"]["all"]
    assert whole["recall@5"] == 1.0 and whole["questions"] == 6
    assert whole["sentence_hit"] > 0 and whole["latency_ms_p50"] > 0
    assert whole["who_questions"] == 2 and whole["where_questions"] == 1 and whole["near_miss_questions"] == 1
    assert result["whole"]["test"]["questions"] == 1  # tiny-bakery is the one test-split article
    for name in ("small-1", "small-3"):
        assert result[name]["all"]["questions"] == 6 and result[name]["all"]["recall@5"] == 1.0

    held = heldout_articles(questions)
    assert held == {"tiny-harbour", "tiny-chess"}  # fixed by the ids' hashes
    assert result["heldout_articles"] == 2
    heldout = result["heldout"]["all"]
    assert (heldout["questions"], heldout["heldout_questions"], heldout["near_miss_questions"]) == (2, 4, 1)

    lines = [json.loads(line) for line in details.read_text(encoding="utf-8").splitlines()]
    assert [line["setting"] for line in lines] == [
        s for s in ("whole", "small-1", "small-3", "heldout") for _ in range(7)
    ]
    for name in ("whole", "heldout"):
        rows = [line for line in lines if line["setting"] == name]
        failed = {f: sum(1 for r in rows if r["failure"] == f) for f in FAILURES}
        assert failed == {f: result[name]["all"][f"failed_{f}"] for f in FAILURES}
        assert sum(r["sentence_hit"] for r in rows if r["expect"] == "answer") == round(
            result[name]["all"]["sentence_hit"] * result[name]["all"]["questions"]
        )
    held_rows = [r for r in lines if r["setting"] == "heldout" and r["expect"] == "held-out"]
    assert {r["article_id"] for r in held_rows} == held and all(r["rank"] is None for r in held_rows)
    assert result["heldout"]["all"]["failed_heldout_answered"] == sum(r["answered"] for r in held_rows)

    whole_dir = next(cache.glob("whole-*"))
    built = (whole_dir / "CURRENT").read_text()
    again = run_natural(questions, corpus, digest, settings, encoder, cache_dir=cache, which=("whole",))
    assert (whole_dir / "CURRENT").read_text() == built  # the same generation, not a rebuild
    assert again["whole"]["all"]["recall@5"] == 1.0


def outcome(article: str | None, kind: str, cited: str, quoted: str, short: str | None, answered=True, expect="answer"):
    """A made-up outcome of a question about ``article`` whose answer is "Voss"."""
    near = {} if article else {"near_article_ids": ["tiny-harbour"]}
    line = question_line(1, article, "who is the mayor", kind, ["Voss"] if article else [], **near)
    question = parse_question(line, "made up")
    answer = Answer("q", answered, short, (quoted,) if answered else (), (Citation(cited, "t"),), 0.5, "q")
    return Outcome(question, "near-miss" if article is None else expect, 1, answer, 1.0)


@pytest.mark.parametrize(
    ("case", "failure"),
    [
        ({"cited": "a", "quoted": "Mayor Clara Voss cut it.", "short": "Clara Voss"}, None),
        ({"cited": "b", "quoted": "Mayor Voss, in another story.", "short": "Voss"}, None),  # the fact, told elsewhere
        ({"cited": "b", "quoted": "The harbour cost 84 million.", "short": None}, "wrong_article"),
        ({"cited": "a", "quoted": "The harbour cost 84 million.", "short": None}, "wrong_sentence"),
        ({"cited": "a", "quoted": "Mayor Clara Voss cut it.", "short": None}, "no_span"),
        ({"cited": "a", "quoted": "Mayor Clara Voss cut it.", "short": "Mayor"}, "wrong_span"),
        ({"cited": "a", "quoted": "", "short": None, "answered": False}, "refused"),
    ],
)
def test_a_failure_is_named_by_the_first_step_of_the_answer_that_went_wrong(case, failure):
    assert outcome("a", "who", **case).failure == failure


def test_a_quoted_sentence_is_enough_for_a_kind_without_short_answers_and_a_near_miss_must_be_refused():
    assert outcome("a", "other", cited="a", quoted="Mayor Clara Voss cut it.", short=None).failure is None
    assert outcome(None, "who", cited="a", quoted="Mayor Voss.", short="Voss").failure == "near_miss_answered"
    assert outcome(None, "who", cited="a", quoted="", short=None, answered=False).failure is None
    held = {"cited": "b", "quoted": "Mayor Voss.", "short": "Voss", "expect": "held-out"}
    assert outcome("a", "who", **held).failure == "heldout_answered"
    assert outcome("a", "who", **held | {"answered": False}).failure is None


def test_a_changed_corpus_gets_its_own_cached_index(tiny, encoder, tmp_path):
    corpus, digest = read_corpus_file(tiny / "tiny.jsonl")
    questions = load_questions(tiny / "questions")
    settings = EngineSettings(_env_file=None, data_dir=tmp_path / "unused")
    run_natural(questions, corpus, digest, settings, encoder, cache_dir=tmp_path / "c", which=("whole",))
    with (tiny / "tiny.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "tiny-more", "title": "More news", "text": "Something else happened."}) + "\n")
    corpus, digest = read_corpus_file(tiny / "tiny.jsonl")
    run_natural(questions, corpus, digest, settings, encoder, cache_dir=tmp_path / "c", which=("whole",))
    assert len(list((tmp_path / "c").glob("whole-*"))) == 2


def test_two_runs_sharing_a_cache_folder_build_the_whole_index_once(tiny, encoder, tmp_path):
    corpus, digest = read_corpus_file(tiny / "tiny.jsonl")
    settings = EngineSettings(_env_file=None, data_dir=tmp_path / "unused")
    caches = [IndexCache(tmp_path / "shared", settings, encoder, corpus, digest) for _ in range(2)]
    with ThreadPoolExecutor(2) as pool:
        folders = list(pool.map(lambda cache: cache.whole(), caches))
    assert folders[0] == folders[1]
    assert len(list(folders[0].glob("gen-*"))) == 1  # one build; the other run waited and reused it


class StoppingEncoder:
    """The real encoder, stopped (an exception, as a kill) after ``calls`` encode calls; counts
    the texts it encoded."""

    def __init__(self, encoder, calls: int) -> None:
        self.encoder, self.calls, self.encoded = encoder, calls, 0
        self.name, self.dimension, self.max_tokens = encoder.name, encoder.dimension, encoder.max_tokens

    def encode(self, texts, **options):
        if self.calls == 0:
            raise KeyboardInterrupt("stopped")
        self.calls -= 1
        self.encoded += len(texts)
        return self.encoder.encode(texts, **options)

    def count_tokens(self, texts):
        return self.encoder.count_tokens(texts)


def test_a_stopped_whole_corpus_build_resumes_from_its_saved_vectors(tiny, encoder, tmp_path, monkeypatch):
    monkeypatch.setattr(corpora, "CHECKPOINT_EVERY", 2)
    corpus, digest = read_corpus_file(tiny / "tiny.jsonl")
    settings = EngineSettings(_env_file=None, data_dir=tmp_path / "unused")
    stopped = StoppingEncoder(encoder, calls=1)
    with pytest.raises(KeyboardInterrupt):
        IndexCache(tmp_path / "c", settings, stopped, corpus, digest).whole()
    assert stopped.encoded == 2 and len(list((tmp_path / "c").glob(".whole-*.partial.npz"))) == 1

    resumed = StoppingEncoder(encoder, calls=100)
    folder = IndexCache(tmp_path / "c", settings, resumed, corpus, digest).whole()
    chunks = json.loads(next(folder.glob("gen-*/manifest.json")).read_text())["chunks"]
    assert resumed.encoded == chunks - 2  # the two saved vectors were not made again
    assert list((tmp_path / "c").glob(".whole-*.partial.npz")) == []


def test_eval_news_command_prints_json_and_names_a_bad_question_line(tiny):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_") or k == "NEWSBOT_MODEL_CACHE_DIR"}
    env["HF_HUB_OFFLINE"] = "1"
    command = [sys.executable, "-c", "from bot.cli import main; main()", "eval-news", str(tiny / "questions")]
    command += ["--corpus", str(tiny / "tiny.jsonl"), "--cache-dir", str(tiny / "cache"), "--setting", "whole"]
    done = subprocess.run([*command, "--json"], cwd=tiny, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["whole"]["all"]["questions"] == 6 and "small-5" not in result

    with (tiny / "questions" / "tiny.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(question_line(50, "tiny-zoo", "what are the pandas called", "sort", ["Momo"]) + "\n")
    done = subprocess.run(command, cwd=tiny, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "tiny.jsonl line 8: unknown kind 'sort'" in done.stderr
