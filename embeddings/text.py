"""Limits and word lists shared by retrieval, answering and the Discord layer."""

from __future__ import annotations

# The longest question (or search) accepted, in characters. Discord's /ask option, query
# cleaning and a follow-up's borrowed topic words all keep to this one number.
MAX_QUESTION_CHARS = 2_000
