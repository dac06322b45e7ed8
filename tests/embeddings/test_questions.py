"""What a question asks for: its predicate ("focus"), which the answering sentence must match."""

from __future__ import annotations

import pytest

from embeddings.answer.questions import focus_words


@pytest.mark.parametrize(
    "question, focus",
    [
        ("Who will chair the meeting?", ["chair"]),
        ("How much did the bridge cost?", ["cost"]),
        ("When does the bridge open?", ["open"]),
        ("When is the next meeting?", ["next", "meeting"]),
        # Event verbs say only that something happens; the event itself is the focus.
        ("when does the SCO security meeting happen?", ["SCO", "security", "meeting"]),
        ("When will the summit take place?", ["summit"]),
        ("Where did the crash occur?", ["crash"]),
    ],
)
def test_the_focus_is_the_predicate_or_for_event_verbs_the_event(question, focus):
    assert focus_words(question) == focus
