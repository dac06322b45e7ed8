"""The news timeline: one line per article about a topic, in date order, quoting the sentence
that matters, with the real model over a small real-format corpus written out of date order."""

from __future__ import annotations

import json

import pytest

from embeddings.engine import Engine
from embeddings.settings import EngineSettings

STORIES = [  # written in this (not date) order on purpose
    (
        "2024-05-20",
        "Ferry strike ends after pay deal",
        "The ferry strike in Lakeside ended on Monday after crews accepted "
        "a pay deal of six percent. Ferries will run to the usual timetable from Tuesday.",
    ),
    (
        "2024-05-02",
        "Ferry crews in Lakeside vote to strike",
        "Ferry crews in Lakeside voted to strike over pay on "
        "Thursday, the union said. The strike will begin on May 10 unless the operator improves its offer.",
    ),
    (
        "2024-05-10",
        "Lakeside ferries stop as strike begins",
        "No ferries left Lakeside harbour on Friday as the "
        "crews' strike began. Commuters queued for buses along the lake shore instead.",
    ),
    (
        "2024-05-12",
        "Lakeside library reopens after renovation",
        "The Lakeside public library reopened on Sunday "
        "after a renovation that took two years. The reading room now has space for two hundred people.",
    ),
    (
        None,
        "Anglers report a good season on the lake",
        "Anglers on the lake said the season had been good, with "
        "many large pike caught near the northern shore. The angling club will hold its annual contest in August.",
    ),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory, encoder):
    root = tmp_path_factory.mktemp("timeline")
    seeds = root / "seeds"
    seeds.mkdir()
    with (seeds / "lakeside.jsonl").open("w", encoding="utf-8") as out:
        for i, (published, title, text) in enumerate(STORIES):
            record = {"id": f"story-{i}", "title": title, "text": text, "url": f"https://example.org/{i}"}
            if published:
                record["published"] = published
            out.write(json.dumps(record) + "\n")
    engine = Engine(EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds), encoder)
    engine.refresh()
    return engine


def test_a_timeline_lists_the_articles_about_the_topic_oldest_first(engine):
    timeline = engine.timeline("the Lakeside ferry strike")
    assert [e.citation.title for e in timeline.entries] == [
        "Ferry crews in Lakeside vote to strike",
        "Lakeside ferries stop as strike begins",
        "Ferry strike ends after pay deal",
    ]
    assert [e.citation.published for e in timeline.entries] == ["2024-05-02", "2024-05-10", "2024-05-20"]
    assert timeline.topic == "the Lakeside ferry strike"


def test_each_line_quotes_a_whole_sentence_of_its_own_article(engine):
    texts = {e.citation.article_id: e.sentence for e in engine.timeline("ferry strike").entries}
    assert texts["story-0"] == (
        "The ferry strike in Lakeside ended on Monday after crews accepted a pay deal of six percent."
    )
    for article_id, sentence in texts.items():
        assert sentence in engine.find_article(article_id).text


def test_undated_articles_come_after_the_dated_ones(engine):
    entries = engine.timeline("Lakeside lake").entries
    dates = [e.citation.published for e in entries]
    assert None in dates and dates.index(None) == len(dates) - 1
    assert dates[:-1] == sorted(dates[:-1])
