"""A question that names its own subject is not a follow-up, however short; one that leans on
the conversation still borrows its topic."""

from __future__ import annotations

import pytest

from embeddings.answer.questions import is_follow_up, standalone_question

MEETING = ["When will the SCO security council secretaries meet?", "Who will chair the meeting?"]


@pytest.mark.parametrize("question", ["what is the SCO?", "Who is Zhao Kezhi?", "where is Portmere?", "What is NATO"])
def test_a_question_naming_its_own_subject_stands_alone(question):
    assert not is_follow_up(question)
    assert standalone_question(question, MEETING) == question


@pytest.mark.parametrize("question", ["and where?", "who won?", "when?", "Where is it held?", "Tolls?"])
def test_a_question_without_its_own_subject_is_a_follow_up(question):
    assert is_follow_up(question)


def test_after_a_self_contained_question_the_topic_is_that_question_s():
    history = [*MEETING, "what is the SCO?"]
    assert standalone_question("and when was it founded?", history) == "and when was it founded? (SCO)"
