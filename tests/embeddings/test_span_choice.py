"""The short answer cut from a sentence that holds it (session 7): the candidate the question's
words point to, of the shape they ask for. Sentences and questions written for these tests;
each is the writer's path (``HeuristicSpans``), with the terms as the index stems them."""

from __future__ import annotations

import pytest

from embeddings.answer.entities import HeuristicSpans
from embeddings.answer.questions import answer_type
from embeddings.answer.spans import short_answer
from embeddings.index.lexical import TermSplitter

_SPLIT = TermSplitter()
_ASKING = {"who", "whom", "what", "which", "when", "where", "how", "much", "many", "is", "was", "did", "does"}


def cut(question: str, sentence: str) -> str | None:
    """The short answer the writer gives ``question`` from ``sentence``."""
    terms = {t for t in _SPLIT(question) if t not in _ASKING}
    span = HeuristicSpans().find(sentence, terms, answer_type(question))
    return span.text if span else None


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        # The title before the name names the asked role, even for the speaker of the sentence.
        (
            "who runs the rail operator",
            "Fares will rise in May, rail operator chief Maria Lindqvist said.",
            "Maria Lindqvist",
        ),
        (
            "who is the police commissioner",
            "Police commissioner Dana Whitfield said the inquiry into officer Ben Hart would close.",
            "Dana Whitfield",
        ),
        ("who runs norland", "Weak sales hurt Norland this year, said chief executive Paul Ibsen.", "Paul Ibsen"),
        # ... or the apposition after it.
        (
            "who owns the bakery that sold the ticket",
            "Priya Raman, the owner of the bakery, sold the winning ticket to Tom Beck.",
            "Priya Raman",
        ),
        (
            "who is the agency's relief coordinator",
            "Jan Novak, the Agency Relief Coordinator, will manage the Fund.",
            "Jan Novak",
        ),
        (
            "the chess star running for mayor is who",
            "Mr. Adebayo, a 41-year-old star player, once coached chess for FC Lagos.",
            "Adebayo",
        ),
    ],
)
def test_who_is_the_name_whose_title_or_apposition_is_the_asked_role(question, sentence, expected):
    assert cut(question, sentence) == expected


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        (
            "which minister attended the ceremony",
            "The ceremony was attended by Regional Development Minister Ana Soto and local officials.",
            "Ana Soto",
        ),
        ("who met the convoy", "The convoy was met by Abu Khalid al-Rashidi near the border.", "Abu Khalid al-Rashidi"),
        (
            "which former minister approved the plan",
            "Reportedly approved by former minister Karl Jensen, the plan was leaked.",
            "Karl Jensen",
        ),
        ("who did he marry", "He married French-Canadian architect Livia Moretti in 2001.", "Livia Moretti"),
        # One person with a country in the title, the question naming what the sentence lacks.
        (
            "who criticised the court ruling",
            "Dutch Prime Minister Eva Bakker criticised the ruling on Monday.",
            "Eva Bakker",
        ),
        (
            "what party did mara lind run for",
            "According to the Electoral Commission, Lind of the Green Unity Party won 52% of the vote.",
            "Green Unity Party",
        ),
    ],
)
def test_who_is_the_whole_name_without_titles_openers_or_nationalities(question, sentence, expected):
    assert cut(question, sentence) == expected


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        ("in which city did the march end", "The march ended in the city of Arequipa late at night.", "Arequipa"),
        ("in which state did the poet die", "The poet died at her Vermont home on Sunday.", "Vermont"),
        (
            "at which airport did the plane land",
            "The plane landed safely at Lisbon's Humberto Delgado Airport.",
            "Humberto Delgado Airport",
        ),
        ("after the us which country has the most cases", "The next highest country, Peru, has 80,000 cases.", "Peru"),
        ("which country reported the first case", "Norway reported its first case on Monday.", "Norway"),
    ],
)
def test_where_is_the_place_a_place_word_marks_else_any_name(question, sentence, expected):
    assert cut(question, sentence) == expected


def test_sentence_choice_keeps_only_marked_places():
    """Evidence scoring calls ``short_answer`` strictly: a sentence naming no marked place earns
    no where-span (else every capitalised word would look like an answer)."""
    assert (
        short_answer("Norway reported its first case on Monday.", {"countri", "report"}, answer_type("which country"))
        is None
    )


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        ("what did the bridge cost", "The city paid 30 million euros for the 12-lane bridge.", "30 million euros"),
        ("what share of members backed the merger", "Of the 2,400 members, 61% backed the merger.", "61%"),
        ("how many votes did the bill get", "The bill passed with 214 of the 435 votes in the chamber.", "214"),
        ("how many people has the xr virus killed", "Over 4,000 deaths have been linked to the XR-190 virus.", "4,000"),
        ("how long since the last vote", "It was the first vote in 12 years.", "12 years"),
        ("how long did she take", "She finished in 2 hours 5 minutes 30 seconds.", "2 hours 5 minutes 30 seconds"),
        ("how long is the curfew", "Officials imposed a 10-day curfew.", "10-day"),
    ],
)
def test_numbers_of_the_shape_the_question_asks(question, sentence, expected):
    assert cut(question, sentence) == expected


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        ("when will the plant close", "The plant will close in March, the company said.", "March"),
        ("when will the results be published", "The results, due this month, will be published on June 3.", "June 3"),
        ("what time did the quake strike", "The quake struck at 21:40 on Sunday.", "21:40"),
        ("when did the quake strike", "The quake struck at 1840 UTC.", "1840 UTC"),
    ],
)
def test_dates_and_clock_times(question, sentence, expected):
    assert cut(question, sentence) == expected
