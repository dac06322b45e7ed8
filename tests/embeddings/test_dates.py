"""Relative dates resolved against the article's publication date."""

from __future__ import annotations

import pytest

from embeddings.answer.dates import parse_published, resolve_date

PUBLISHED = "2018-05-16"  # a Wednesday


@pytest.mark.parametrize(
    "expression, sentence, expected",
    [
        ("next month", "to be held next month", "June 2018"),
        ("Wednesday", "Lu Kang announced Wednesday", "Wednesday, 16 May 2018"),
        ("Friday", "the ministers will meet Friday", "Friday, 18 May 2018"),
        ("Monday", "the minister said on Monday", "Monday, 14 May 2018"),
        ("yesterday", "", "Tuesday, 15 May 2018"),
        ("May 21-22", "to be held on May 21-22", "May 21-22, 2018"),
        ("January 5", "the line will open on January 5", "January 5, 2019"),
        ("next year", "", "2019"),
    ],
)
def test_relative_expressions_become_dates(expression, sentence, expected):
    assert resolve_date(expression, PUBLISHED, sentence) == expected


def test_absolute_dates_and_undated_articles_are_left_alone():
    assert resolve_date("May 21, 2018", PUBLISHED) is None
    assert resolve_date("next month", None) is None
    assert parse_published("not a date") is None
    assert resolve_date("December 2021", "2021-12-05T10:00:00Z") is None
