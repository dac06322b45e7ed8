"""Short-answer spans and question kinds, without an index."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embeddings.answer.questions import AnswerType, answer_type, content_words, is_follow_up, standalone_question
from embeddings.answer.spans import short_answer, stem_terms

SEED_LEAD = (
    "Adviser to Prime Minister Naseer Khan Janjua will attend the 13th meeting of Shanghai Cooperation "
    "Organization (SCO) Security Council Secretaries to be held in Beijing on May 21-22, Chinese Foreign "
    "Ministry spokesperson Lu Kang announced Wednesday."
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("When is the meeting?", AnswerType.WHEN),
        ("What year did it open?", AnswerType.WHEN),
        ("What dates is the meeting on?", AnswerType.WHEN),
        ("Where is it held?", AnswerType.WHERE),
        ("Who chairs it?", AnswerType.WHO),
        ("How many people came?", AnswerType.NUMBER),
        ("Which meeting number is it?", AnswerType.NUMBER),
        ("Why did prices rise?", AnswerType.OTHER),
    ],
)
def test_question_kinds(question, kind):
    assert answer_type(question) is kind


@pytest.mark.parametrize(
    "question, terms, kind, expected",
    [
        ("when", "secretaries meet held", AnswerType.WHEN, "May 21-22"),
        ("where", "meeting held", AnswerType.WHERE, "Beijing"),
        ("who announced", "announced meeting", AnswerType.WHO, "Lu Kang"),
        ("which number", "meeting number", AnswerType.NUMBER, "13th"),
    ],
)
def test_spans_are_picked_near_the_question_words(question, terms, kind, expected):
    assert short_answer(SEED_LEAD, stem_terms(terms.split()), kind).text == expected


def test_titles_are_not_part_of_a_name():
    span = short_answer("State Councilor Zhao Kezhi will chair the meeting.", stem_terms(["chair"]), AnswerType.WHO)
    assert span.text == "Zhao Kezhi"


def test_a_span_made_of_the_questions_own_words_is_never_chosen():
    span = short_answer(
        "Shanghai Cooperation Organization members met.",
        stem_terms("shanghai cooperation organization".split()),
        AnswerType.WHO,
    )
    assert span is None


def test_numbers_inside_dates_are_not_quantities():
    span = short_answer("The summit on June 9-10 drew 400 delegates.", stem_terms(["delegates"]), AnswerType.NUMBER)
    assert span.text == "400"


def test_follow_ups_and_standalone_questions():
    assert is_follow_up("and where?") and is_follow_up("Who chairs it?")
    assert not is_follow_up("Who won the Portmere marathon?")
    assert content_words("When is the SCO meeting?") == ["SCO", "meeting"]
    assert standalone_question("where is it held?", ["when is the SCO meeting?"]) == "where is it held? (SCO meeting)"


@given(st.text(max_size=300), st.sampled_from(list(AnswerType)), st.lists(st.text(max_size=10), max_size=5))
def test_a_span_is_always_a_verbatim_slice_of_the_sentence(sentence, kind, words):
    span = short_answer(sentence, stem_terms(words), kind)
    assert span is None or sentence[span.start : span.end] == span.text != ""


# -- Issue 11: typed short answers that are names, not fragments ---------------------------------

SEED_DELEGATES = (
    "According to the announcement, at the invitation of Chinese State Councilor and Minister of Public "
    "Security Zhao Kezhi, Deputy National Security Adviser of India Rajinder Khanna and representatives of "
    "Kazakhstan, Kyrgyzstan, Russia and Tajikistan will participate in the event."
)


@pytest.mark.parametrize(
    "question, kind",
    [
        ("which state is the plant in", AnswerType.WHERE),
        ("In which US state did the storm hit?", AnswerType.WHERE),
        ("what city hosts the games", AnswerType.WHERE),
        ("which country won the vote?", AnswerType.WHERE),
        ("whos the ceo of the carmaker", AnswerType.WHO),
        ("who's the CEO now?", AnswerType.WHO),
        ("which secretary resigned", AnswerType.WHO),
        ("what company bought the airline?", AnswerType.WHO),
        ("which minister announced the cuts", AnswerType.WHO),
        ("in what year did it open", AnswerType.WHEN),
    ],
)
def test_which_place_and_which_person_questions_get_their_kind(question, kind):
    assert answer_type(question) is kind


def test_a_name_after_a_title_of_another_country_drops_the_title_and_the_country():
    span = short_answer(SEED_DELEGATES, stem_terms(["participate"]), AnswerType.WHO)
    assert span is not None and not span.text.lower().startswith(("of ", "the ", "in "))
    names = {"Zhao Kezhi", "Rajinder Khanna", "Kazakhstan", "Kyrgyzstan", "Russia", "Tajikistan"}
    assert span.text in names


@pytest.mark.parametrize("kind", [AnswerType.WHO, AnswerType.WHERE, AnswerType.WHEN, AnswerType.NUMBER])
@given(st.lists(st.sampled_from(SEED_DELEGATES.split() + SEED_LEAD.split()), min_size=3, max_size=25))
def test_spans_never_start_or_end_with_a_preposition_or_an_article(kind, words):
    span = short_answer(" ".join(words), stem_terms(["meeting"]), kind)
    if span is not None:
        edge = {"of", "in", "at", "on", "for", "to", "from", "by", "with", "the", "a", "an", "and"}
        assert span.text.split()[0].lower() not in edge and span.text.split()[-1].lower() not in edge


def test_a_possessive_is_not_who_answers():
    sentence = "GM's chief executive said on Tuesday that the carmaker would cut 5,000 jobs."
    span = short_answer(sentence, stem_terms(["chief", "executive"]), AnswerType.WHO)
    assert span is None or "GM" not in span.text


def test_a_weekday_is_not_where_answers():
    sentence = "The vote in Sunday's runoff was counted in Lagos by the electoral commission."
    span = short_answer(sentence, stem_terms(["vote", "counted"]), AnswerType.WHERE)
    assert span is not None and span.text == "Lagos"


def test_a_when_answer_that_loses_its_year_to_the_question_keeps_no_dangling_of():
    sentence = "The company lost $30.9 billion in the fourth quarter of 2008, its worst result."
    span = short_answer(sentence, stem_terms(["2008", "lost"]), AnswerType.WHEN)
    assert span is not None and not span.text.endswith(" of") and not span.text.startswith("the ")
