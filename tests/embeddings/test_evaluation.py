"""The evaluation harness on a small SQuAD-format file written here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embeddings.evaluation import exact_match, f1_score, load_squad, normalize_answer, run_evaluation, split_holdout
from embeddings.settings import EngineSettings


def qa(qid: str, question: str, answer: str, context: str) -> dict:
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": context.index(answer)}]}


LIGHTHOUSE = (
    "The Corran lighthouse was built in 1861 on the northern tip of the island. "
    "It was designed by the engineer Thomas Stevenson and automated in 1987."
)
ORCHARD = (
    "The Velmar apple orchard covers 40 hectares in the Lenn valley. "
    "Its owner, Mira Osk, planted the first trees after buying the farm from her uncle."
)
VOLCANO = (
    "Mount Tarrak is an active volcano whose last eruption covered three villages in ash. "
    "Scientists monitor its crater with seismometers and gas sensors."
)


@pytest.fixture
def squad_file(tmp_path: Path) -> Path:
    data = {
        "version": "1.1",
        "data": [
            {
                "title": "Corran_lighthouse",
                "paragraphs": [
                    {
                        "context": LIGHTHOUSE,
                        "qas": [
                            qa("l1", "When was the Corran lighthouse built?", "1861", LIGHTHOUSE),
                            qa("l2", "Who designed the Corran lighthouse?", "Thomas Stevenson", LIGHTHOUSE),
                        ],
                    }
                ],
            },
            {
                "title": "Velmar_orchard",
                "paragraphs": [
                    {
                        "context": ORCHARD,
                        "qas": [qa("o1", "How many hectares does the Velmar apple orchard cover?", "40", ORCHARD)],
                    }
                ],
            },
            {
                "title": "Mount_Tarrak",
                "paragraphs": [
                    {
                        "context": VOLCANO,
                        "qas": [
                            qa(
                                "v1",
                                "What do scientists use to monitor the crater of Mount Tarrak?",
                                "seismometers and gas sensors",
                                VOLCANO,
                            )
                        ],
                    }
                ],
            },
        ],
    }
    path = tmp_path / "tiny-squad.json"
    path.write_text(json.dumps(data))
    return path


def test_loading_turns_each_squad_article_into_one_article_with_its_questions(squad_file):
    data = load_squad(squad_file)
    assert [a.title for a in data.articles] == ["Corran lighthouse", "Velmar orchard", "Mount Tarrak"]
    assert len(data.questions) == 4 and data.questions[0].answers == ("1861",)
    indexed, held = split_holdout(data, 3)
    assert [a.title for a in indexed.articles] == ["Corran lighthouse", "Velmar orchard"]
    assert [q.id for q in held] == ["v1"] and len(indexed.questions) == 3


def test_the_harness_reports_the_expected_counts(squad_file, encoder):
    result = run_evaluation(load_squad(squad_file), EngineSettings(_env_file=None), encoder, holdout=3)
    assert result["articles"] == 2 and result["heldout_articles"] == 1
    assert result["questions"] == 3 and result["heldout_questions"] == 1
    assert result["recall@1"] == result["recall@5"] == 1.0 and result["mrr@10"] == 1.0
    assert result["sentence_hit"] == 1.0
    assert result["exact_match"] == 1.0  # "1861", "Thomas Stevenson", "40"
    assert result["when_questions"] == 1 and result["when_exact_match"] == 1.0
    assert result["refusal_rate"] == 1.0  # the volcano question, its article held out
    assert result["chunks"] == 2 and result["ingest_chunks_per_s"] > 0
    assert 0 < result["latency_ms_p50"] <= result["latency_ms_p95"]


def test_official_squad_normalisation_and_scores():
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert exact_match("the 13th", ["13th"]) == 1.0
    assert f1_score("May 21", ["May 21-22"]) == pytest.approx(2 * (1 / 2) * (1 / 2) / 1 * 1)  # 1 of 2 tokens
    assert f1_score("", ["x"]) == 0.0
