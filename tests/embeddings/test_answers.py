"""Answers over a real index: short answers of the right kind, quoted evidence, refusals,
follow-ups and dates."""

from __future__ import annotations

import pytest

from embeddings.errors import QueryError

from ..conftest import indexed_engine


@pytest.fixture(scope="module")
def engine(tmp_path_factory, encoder):
    return indexed_engine(tmp_path_factory.mktemp("answers"), encoder)


@pytest.mark.parametrize(
    "question, short",
    [
        ("When will the SCO security council secretaries meet?", "May 21-22"),
        ("when does the SCO security meeting happen?", "May 21-22"),  # the README's own example
        ("When will the SCO security council secretaries meeting take place?", "May 21-22"),
        ("Where is the SCO security council secretaries meeting held?", "Beijing"),
        ("Who will chair the SCO meeting?", "Zhao Kezhi"),
        ("Which meeting number is the SCO security council secretaries meeting?", "13th"),
        ("Who announced the SCO meeting?", "Lu Kang"),
        ("How much did the Portmere harbour bridge cost?", "310 million euros"),
        ("Who won the Portmere marathon?", "Grace Wanjiru"),
        ("When is the next rate meeting of the Norland central bank?", "September 18"),
    ],
)
def test_factoid_questions_get_the_right_short_answer(engine, question, short):
    answer = engine.answer(question)
    assert answer.answered and answer.short_answer == short
    # Grounded: every word of the short answer is in the quoted sentence, verbatim.
    assert short in answer.sentences[0]


def test_an_answer_quotes_its_sentence_verbatim_and_cites_the_article(engine):
    answer = engine.answer("When will the SCO security council secretaries meet?")
    article = engine.find_article(answer.sources[0].article_id)
    assert answer.sentences[0] in article.text
    assert answer.sources[0].title == "China invites Pakistan to SCO’s Security Council’s meeting"
    assert answer.sources[0].place == "BEIJING"


def test_a_short_answer_never_just_repeats_the_question(engine):
    answer = engine.answer("Who is the Chinese Foreign Ministry spokesperson?")
    assert answer.short_answer not in ("Chinese Foreign Ministry",)


@pytest.mark.parametrize(
    "question",
    [
        "Who won the football final?",
        "What is the capital of France?",
        "How many goals did the striker score in the cup final?",
    ],
)
def test_questions_the_articles_cannot_answer_are_refused_with_the_closest_articles(engine, question):
    answer = engine.answer(question)
    assert not answer.answered and answer.short_answer is None and answer.sentences == ()
    assert answer.sources and answer.confidence < engine.answer_policy.min_confidence


def test_a_follow_up_resolves_against_the_earlier_question(engine):
    first = "When is the SCO security council secretaries meeting?"
    follow = engine.answer("Where is it held?", history=[first])
    assert "SCO" in follow.standalone_question
    assert follow.answered and follow.short_answer == "Beijing"
    chained = engine.answer("And who chairs it?", history=[first, "Where is it held?"])
    assert chained.short_answer == "Zhao Kezhi"


def test_a_new_topic_is_not_mixed_with_the_previous_one(engine):
    answer = engine.answer("Who won the Portmere marathon?", history=["When is the SCO meeting?"])
    assert answer.standalone_question == "Who won the Portmere marathon?"


def test_relative_dates_are_resolved_against_the_article_date(engine):
    answer = engine.answer("When did the new harbour bridge in Portmere open?")
    assert answer.short_answer.startswith("Thursday")
    assert answer.sources[0].published == "2024-03-14"
    assert "14 March 2024" in answer.note


def test_other_questions_answer_with_the_best_sentence(engine):
    answer = engine.answer("Why did the Norland central bank keep its rate?")
    assert answer.answered and answer.short_answer is None
    assert "stubborn inflation" in answer.sentences[0]


@pytest.mark.parametrize("bad", ["", "   ", "?!?"])
def test_an_empty_question_gets_a_helpful_error(engine, bad):
    with pytest.raises(QueryError, match="ask a question"):
        engine.answer(bad)


# Many threads at once, as the bot answers: the same answers as one thread gives. The answer
# layer stems with PyStemmer, whose objects keep state between calls; see spans._PerThreadStemmer.
_MIX = [
    ("When will the SCO security council secretaries meet?", ()),
    ("Where is the SCO security council secretaries meeting held?", ()),
    ("Who will chair the SCO meeting?", ()),
    ("Which meeting number is the SCO security council secretaries meeting?", ()),
    ("How much did the Portmere harbour bridge cost?", ()),
    ("Who won the Portmere marathon?", ()),
    ("When is the next rate meeting of the Norland central bank?", ()),
    ("When did the new harbour bridge in Portmere open?", ()),
    ("Why did the Norland central bank keep its rate?", ()),
    ("How many firefighters fought the wildfire in the Sarn mountains?", ()),
    ("How many hectares of pine forest burned?", ()),
    ("Who won the football final?", ()),
    ("What is the capital of France?", ()),
    ("Where is it held?", ("When is the SCO security council secretaries meeting?",)),
    ("And who chairs it?", ("When is the SCO security council secretaries meeting?", "Where is it held?")),
]


def test_answers_from_many_threads_at_once_match_single_threaded_ones(engine):
    import random
    import sys
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from embeddings.answer import spans

    spans._stem.cache_clear()  # so that the stemmers, not the cache, do the stemming below
    expected = {item: engine.answer(*item) for item in _MIX}
    spans._stem.cache_clear()
    start = threading.Barrier(8)

    def answer_many(seed: int) -> list[str]:
        items = random.Random(seed).choices(_MIX, k=250)
        start.wait()
        return [f"{item[0]!r} after {item[1]!r}" for item in items if engine.answer(*item) != expected[item]]

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, mid-answer
    try:
        with ThreadPoolExecutor(8) as pool:
            wrong = [w for ws in pool.map(answer_many, range(8)) for w in ws]
    finally:
        sys.setswitchinterval(interval)
    assert wrong == []
