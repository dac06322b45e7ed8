"""Relative dates ("next month", "Wednesday", "May 21-22") made absolute against the date of
the article they appear in, so a reader of an old article sees when things really happened."""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

_WEEKDAYS = [d.lower() for d in calendar.day_name]
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_FUTURE = re.compile(r"\b(?:will|shall|to be|is to|are to|scheduled|expected|plans?|next|upcoming|coming)\b", re.I)
_OFFSETS = {"today": 0, "tonight": 0, "yesterday": -1, "tomorrow": 1}


def parse_published(published: str | None) -> date | None:
    """The article's date from an ISO string ("2018-05-16" or a timestamp), else None."""
    try:
        return date.fromisoformat(published[:10]) if published else None
    except ValueError:
        return None


def resolve_date(expression: str, published: str | None, sentence: str = "") -> str | None:
    """The absolute date ``expression`` stands for in an article dated ``published``, written
    for people ("Wednesday, 16 May 2018", "June 2018"); None when it is absolute already or
    there is no article date to count from."""
    base = parse_published(published)
    text = " ".join(expression.lower().split())
    if base is None or re.search(r"\b(?:1\d{3}|20\d{2})\b", text):
        return None
    future = bool(_FUTURE.search(sentence))
    for resolver in (_day_offset, _relative_period, _weekday, _month_day):
        if (resolved := resolver(text, base, future)) is not None:
            return resolved
    return None


def _fmt(day: date) -> str:
    return f"{calendar.day_name[day.weekday()]}, {day.day} {calendar.month_name[day.month]} {day.year}"


def _day_offset(text: str, base: date, future: bool) -> str | None:
    return _fmt(base + timedelta(days=_OFFSETS[text])) if text in _OFFSETS else None


def _relative_period(text: str, base: date, future: bool) -> str | None:
    match = re.fullmatch(r"(next|last|this|coming|previous) (week|month|year)", text)
    if not match:
        return None
    step = {"next": 1, "coming": 1, "last": -1, "previous": -1, "this": 0}[match.group(1)]
    if match.group(2) == "year":
        return str(base.year + step)
    if match.group(2) == "month":
        month_index = base.year * 12 + base.month - 1 + step
        return f"{calendar.month_name[month_index % 12 + 1]} {month_index // 12}"
    monday = base - timedelta(days=base.weekday()) + timedelta(weeks=step)
    return f"the week of {_fmt(monday)}"


def _weekday(text: str, base: date, future: bool) -> str | None:
    match = re.fullmatch(r"(?:(next|last|this|coming) )?(\w+day)(?: (?:morning|afternoon|evening|night))?", text)
    if not match or match.group(2) not in _WEEKDAYS:
        return None
    target = _WEEKDAYS.index(match.group(2))
    ahead = match.group(1) in ("next", "coming") or (match.group(1) != "last" and future)
    if ahead:
        delta = (target - base.weekday()) % 7 or 7
        return _fmt(base + timedelta(days=delta))
    return _fmt(base - timedelta(days=(base.weekday() - target) % 7))


def _month_day(text: str, base: date, future: bool) -> str | None:
    """ "May 21-22" in an article of 2018 → "May 21-22, 2018" (the next year when a sentence
    about the future names a day that has passed already in the article's year)."""
    match = re.match(r"([a-z]+)\.? (\d{1,2})", text) or re.match(r"(\d{1,2})(?:st|nd|rd|th)? ([a-z]+)", text)
    if not match:
        return None
    month_name, day = (match.group(1), match.group(2)) if match.group(1).isalpha() else (match.group(2), match.group(1))
    if len(month_name) < 3:  # "7 a.m." is a time, not a day of a month
        return None
    month = _MONTHS.get(month_name) or next((i for n, i in _MONTHS.items() if n.startswith(month_name[:3])), None)
    if month is None:
        return None
    if not 1 <= int(day) <= 31:
        return None
    year = base.year + (1 if future and (month, int(day)) < (base.month, base.day) else 0)
    return f"{text[:1].upper()}{text[1:]}, {year}"
