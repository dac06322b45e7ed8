"""Requests, not only questions: a message read as a summary, a timeline, help, or a question;
and what the engine gives for each, with the real model over the fixture articles."""

from __future__ import annotations

import pytest

from embeddings.errors import ArticleNotFoundError
from embeddings.models import Answer, Summary
from embeddings.requests import EXAMPLES, Request, fulfil, parse_request
from embeddings.timeline import Timeline

from ..conftest import indexed_engine


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("summarize the Portmere marathon", Request("summary", "Portmere marathon")),
        ("Summarise: harbour bridge", Request("summary", "harbour bridge")),
        ("summary of the bridge tolls", Request("summary", "bridge tolls")),
        ("can you sum up the article about the wildfire?", Request("summary", "wildfire")),
        ("summarize the article", Request("summary", "", refers_back=True)),
        ("summarize it", Request("summary", "", refers_back=True)),
        ("summary", Request("summary", "", refers_back=True)),
        ("timeline of the SCO meeting", Request("timeline", "SCO meeting")),
        ("What's new on the harbour bridge?", Request("timeline", "harbour bridge")),
        ("what’s the latest on interest rates", Request("timeline", "interest rates")),
        ("what happened with the bridge so far?", Request("timeline", "bridge")),
        ("help", Request("help")),
        ("Hi!", Request("help")),
        ("hello there", Request("help")),
        ("What can you do?", Request("help")),
        ("", Request("help")),
    ],
)
def test_a_message_is_read_as_the_request_it_makes(text, expected):
    assert parse_request(text) == expected


@pytest.mark.parametrize(
    "question",
    [
        "When will the SCO security council secretaries meet?",
        "What is the summary judgment in the case?",  # "summary" inside a question
        "Who wrote the history of Portmere?",
        "Which timeline did the council set for the tolls?",
        "hi-tech exports rose how much?",
        "and where?",
    ],
)
def test_questions_stay_questions_word_for_word(question):
    assert parse_request(question) == Request("question", question)


def test_every_help_example_is_a_request_the_bot_understands():
    kinds = [parse_request(example).kind for example in EXAMPLES]
    assert kinds == ["question", "summary", "timeline", "timeline"]


@pytest.fixture(scope="module")
def engine(tmp_path_factory, encoder):
    return indexed_engine(tmp_path_factory.mktemp("requests"), encoder)


def test_a_summary_request_naming_an_article_summarises_that_article(engine):
    result = fulfil(engine, parse_request("summarize the Portmere marathon"))
    assert isinstance(result, Summary) and result.article is not None
    assert result.article.article_id == "marathon-2024"


def test_a_summary_request_naming_no_article_digests_the_topic(engine):
    result = fulfil(engine, parse_request("summary of wind speeds engineers designed for"))
    assert isinstance(result, Summary) and result.article is None
    assert result.points and result.title.startswith("Digest:")


def test_summarize_the_article_summarises_the_one_the_conversation_is_about(engine):
    history = ["When will the SCO security council secretaries meet?"]
    result = fulfil(engine, parse_request("summarize the article"), history)
    assert isinstance(result, Summary) and result.article is not None
    assert result.article.title == "China invites Pakistan to SCO’s Security Council’s meeting"
    with pytest.raises(ArticleNotFoundError, match="Which article"):
        fulfil(engine, parse_request("summarize the article"), ())


def test_timeline_help_and_questions_reach_their_own_paths(engine):
    assert isinstance(fulfil(engine, parse_request("timeline of the harbour bridge")), Timeline)
    assert fulfil(engine, parse_request("what can you do")) is None
    answer = fulfil(engine, parse_request("Who won the Portmere marathon?"))
    assert isinstance(answer, Answer) and answer.answered and "Wanjiru" in (answer.short_answer or "")
