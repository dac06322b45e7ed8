"""The kind of short answer a question asks for, read from its cue: the head noun of a "which
X" / "what X" phrase, and the cue that opens the question when it holds several (session 7)."""

from __future__ import annotations

import pytest

from embeddings.answer.questions import AnswerType, answer_type


@pytest.mark.parametrize(
    "question",
    [
        "which retired deputy governor wrote the memo",  # the head after several modifiers
        "which regional council chairman backed the plan?",
        "which county sheriff made the arrest",  # a place noun qualifying a person: the last noun
        "which of the province's ministers quit?",
        "what charity organised the concert",
        "which economist at the bank warned about inflation?",
        "the report was written by which senior editor",  # reordered: the cue closes the question
        "whats the carmaker's parent company called",  # asks for a name
        "which quartet headlined on saturday",  # "which" of a noun no list holds: name one
    ],
)
def test_which_person_or_body_questions_are_who(question):
    assert answer_type(question) is AnswerType.WHO


@pytest.mark.parametrize(
    "question",
    [
        "which clinic was the singer taken to",
        "in which municipality did the flood start?",
        "what is the striker's hometown",
        "the refugees were moved to which camp",
        "after the fire, which town declared an emergency?",
    ],
)
def test_which_place_questions_are_where(question):
    assert answer_type(question) is AnswerType.WHERE


@pytest.mark.parametrize(
    "question",
    [
        "what share of the shares did the fund buy",
        "whats the unemployment rate in ohio",
        "what was the turnout in the referendum?",
        "the new stadium, what did it cost?",
        "what fraction of the budget goes to defence",
        "how many seats did the party win when it last ran?",  # "when" only qualifies
        "how old was the author when she died",
    ],
)
def test_quantity_questions_are_number(question):
    assert answer_type(question) is AnswerType.NUMBER


@pytest.mark.parametrize(
    "question",
    [
        "what year did the bridge open",
        "on what day were the results announced?",
        "what time did polls close",
        "the treaty was signed in what year?",
    ],
)
def test_date_questions_are_when(question):
    assert answer_type(question) is AnswerType.WHEN


@pytest.mark.parametrize(
    "question, kind",
    [
        ("which country reported the first case when the outbreak began?", AnswerType.WHERE),
        ("who was governor when the law passed", AnswerType.WHO),
        ("when did the man who founded the firm die", AnswerType.WHEN),
    ],
)
def test_the_cue_opening_the_question_wins_over_a_later_one(question, kind):
    assert answer_type(question) is kind


@pytest.mark.parametrize(
    "question",
    [
        "what new posts does the deal create?",  # a modifier is not the head
        "what type of aircraft crashed",
        "what is the singer best known for",
        "why did the talks fail?",
    ],
)
def test_questions_without_a_kind_of_short_answer_are_other(question):
    assert answer_type(question) is AnswerType.OTHER
