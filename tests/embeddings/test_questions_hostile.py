"""Hostile questions at the engine: ``Engine.answer`` returns an ``Answer`` or raises a
``NewsbotError`` with a message fit for a user, whatever the text (and the history) holds."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embeddings.errors import NewsbotError, QueryError
from embeddings.models import Answer
from embeddings.text import MAX_QUESTION_CHARS

from ..conftest import indexed_engine

PROFILE = settings(deadline=None, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
SCO = "When will the SCO security council secretaries meet?"

FRAGMENTS = [
    "",
    " ",
    "\n",
    "\t",
    "\x00",
    "\x07",
    "\x1b[31m",
    "\x7f",
    "\x85",
    "\u200b",
    "\u200d",
    "\u2060",
    "\ufeff",
    "\u202e",
    "\u2028",
    "\ud800",
    "e\u0301",
    "@everyone",
    "@here",
    "<@123>",
    "<@!123>",
    "<@&456>",
    "<#789>",
    "```py\nprint('x')\n```",
    "`code`",
    "**bold**",
    "__under__",
    "~~strike~~",
    "||spoiler||",
    "> quote",
    "# heading",
    "[link](http://x)",
    "<script>alert(1)</script>",
    "%s {0} {}",
    "' OR 1=1; --",
    "\\",
    "新闻",
    "会议什么时候举行？",
    "متى الاجتماع؟",
    "Когда встреча?",
    "🚀",
    "👩‍👩‍👧",
    "🇵🇰",
    "ﷺ",
    "İ",
    "ß",
    "when",
    "where",
    "who",
    "how many",
    "what year",
    "it",
    "and",
    "the meeting",
    "SCO",
    "Zhao Kezhi",
    "Beijing",
    "May 21-22",
    "?",
    "!",
    "...",
    "-",
    "1999",
    "$",
    "€",
]
hostile = st.one_of(
    st.lists(st.sampled_from(FRAGMENTS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(FRAGMENTS), max_size=8).map("".join),
    st.text(max_size=200),  # any code points, surrogates and controls included
    st.text(st.characters(categories=("Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "So", "Po")), max_size=100),
    st.builds(
        lambda piece, n: piece * n, st.sampled_from(FRAGMENTS + ["a", "when ", "Mr. ", "al-"]), st.integers(1, 3000)
    ),
    st.just("a" * 10_000),
    st.just("When " + "x " * 4_997),
)
histories = st.lists(st.one_of(hostile, st.just(SCO)), max_size=2)


@pytest.fixture(scope="module")
def engine(tmp_path_factory, encoder):
    """One real engine over the seed article and the fixture articles, built once per module."""
    return indexed_engine(tmp_path_factory.mktemp("questions"), encoder)


def check(engine, question: str, history: list[str]) -> Answer | NewsbotError:
    """Ask, and check the outcome is an Answer that holds together or a user-fit NewsbotError."""
    try:
        answer = engine.answer(question, tuple(history))
    except NewsbotError as err:
        message = str(err)
        assert message and len(message) < 300 and "\n" not in message, message
        assert "Traceback" not in message and "/" not in message, message
        if isinstance(err, QueryError) and "too long" in message:
            # Too long counts what the user typed, never topic words borrowed from the history.
            counted = int(re.search(r"\(([\d,]+) characters\)", message).group(1).replace(",", ""))
            assert MAX_QUESTION_CHARS < counted <= len(question), (len(question), message)
        return err
    # Any other exception propagates and fails the test.
    assert isinstance(answer, Answer)
    assert answer.answered == bool(answer.sentences)
    if answer.short_answer is not None:
        assert answer.short_answer in answer.sentences[0]
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.standalone_question.startswith(answer.question)
    return answer


@settings(PROFILE, max_examples=300)
@given(question=hostile, history=histories)
def test_any_text_gets_an_answer_or_a_newsbot_error(engine, question: str, history: list[str]) -> None:
    check(engine, question, history)


@pytest.mark.parametrize(
    "question",
    [
        "",
        "   ",
        "\x00\x01\x02",
        "\u200b\u200b\u200b",
        "\ud800",
        "🚀🔥",
        "?!",
        "\\" * 50,
        "** ~~ || ``` >",
    ],
)
def test_text_without_words_is_refused_with_a_helpful_message(engine, question: str) -> None:
    with pytest.raises(QueryError, match=r"Please ask a question: the message has no words in it\."):
        engine.answer(question)


def test_too_long_is_refused_with_the_length(engine) -> None:
    with pytest.raises(QueryError, match=r"too long \(10,000 characters\); keep it under 2,000"):
        engine.answer("a" * 10_000)


@pytest.mark.parametrize(
    "question",
    [
        "a" * 1_999,
        "when " * 399,
        "e\u0301" * 999,
        "Who " + "A" * 1_990,
    ],
)
def test_a_long_follow_up_is_not_refused_for_its_borrowed_topic(engine, question: str) -> None:
    assert len(question) <= MAX_QUESTION_CHARS
    answer = check(engine, question, [SCO])
    assert isinstance(answer, Answer)
    assert len(answer.standalone_question) <= MAX_QUESTION_CHARS


@pytest.mark.parametrize(
    "question",
    [
        "**Who** will chair the `meeting`?",
        "Who will chair the meeting?\x00",
        "\u200bWho\u200b will chair the meeting?",
        "Who will chair the meeting?! 🚀",
        "> Who will chair the meeting?\n```\n```",
    ],
)
def test_markup_and_invisible_characters_around_a_real_question_still_answer_it(engine, question: str) -> None:
    answer = check(engine, question, [])
    assert isinstance(answer, Answer) and answer.answered and answer.short_answer == "Zhao Kezhi", answer


@pytest.mark.parametrize(
    "question",
    [
        "会议什么时候举行？",
        "متى الاجتماع؟",
        "Когда встреча?",
        "```py\nprint('x')\n```",
        "<script>alert(1)</script>",
    ],
)
def test_other_scripts_and_code_get_an_answer_object(engine, question: str) -> None:
    assert isinstance(check(engine, question, []), Answer)
