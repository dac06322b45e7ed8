"""Reading a question: the kind of answer it wants, its predicate, and, for a follow-up, the
topic it borrows from the questions before it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum

from embeddings.text import (
    COPULAS,
    DO_FORMS,
    FUNCTION_WORDS,
    HAVE_FORMS,
    MAX_QUESTION_CHARS,
    MODALS,
    QUANTITY_WORDS,
    WH_WORDS,
)


class AnswerType(StrEnum):
    WHEN = "when"
    WHERE = "where"
    WHO = "who"
    NUMBER = "number"
    OTHER = "other"


# "which state", "what city", "in which US state": a place is asked for. "which company", "what
# minister", "which secretary": a name (a person or an organisation) is.
_PLACE_NOUNS = (
    r"city|cities|country|countries|state|province|place|town|region|venue|county|island|nation|continent|"
    r"capital|location|village|district|stadium|airport|territory|port|area|neighbou?rhood|suburb"
)
_AGENT_NOUNS = (
    r"person|people|man|woman|organi[sz]ation|company|companies|group|firm|team|party|minister|secretary|"
    r"official|president|leader|player|candidate|airline|bank|club|agency|senator|governor|politician|"
    r"athlete|driver|band|singer|actor|actress|university|newspaper|broadcaster|network|carrier|"
    r"manufacturer|brand|ceo|chief|executive|director|judge|general|spokes(?:man|woman|person)|mayor|"
    r"prime minister|king|queen|prince|author|writer|artist|scientist|coach|manager|owner|boss"
)
_TYPE_CUES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        AnswerType.WHEN,
        re.compile(
            r"\bwhen\b|\bwhat (?:year|date|day|time|month|century|decade)s?\b|\bwhich (?:year|date|day|month)s?\b"
            r"|\bhow long ago\b|\bsince when\b",
            re.I,
        ),
    ),
    (
        AnswerType.NUMBER,
        re.compile(
            r"\bhow (?:many|much|old|far|long|large|big|tall|high)\b|\b(?:what|which) (?:number|percentage|percent|"
            r"amount|ordinal|rank)\b|\b(?:what|which) \w+ number\b",
            re.I,
        ),
    ),
    (
        AnswerType.WHERE,
        re.compile(rf"\bwhere\b|\b(?:what|which)\s+(?:\w+\s+)?(?:{_PLACE_NOUNS})\b", re.I),
    ),
    (AnswerType.WHO, re.compile(rf"\bwho(?:m|se|s|'s|’s)?\b|\b(?:what|which)\s+(?:\w+\s+)?(?:{_AGENT_NOUNS})\b", re.I)),
)


def answer_type(question: str) -> AnswerType:
    """The kind of short answer ``question`` asks for (OTHER when it is not a factoid)."""
    for kind, cue in _TYPE_CUES:
        if cue.search(question):
            return kind
    return AnswerType.OTHER


# Words that make a question lean on an earlier one: "where is it held?", "and who chairs?"

_ANAPHORA = re.compile(
    r"^\s*(?:and|but|also|so|then|what about|how about)\b|\b(?:it|its|it's|they|them|their|there|that|this|"
    r"these|those|he|she|his|her|him|the same|the event|the meeting)\b",
    re.I,
)
# Everything but the topic: question words, auxiliaries, function words, and the verbs that only
# say the topic is an event ("held", "take place"). Not "has/have/had", as it always was: a
# question's topic words decide whether it is a follow-up, so stripping more would change that.
_FILLER = (
    WH_WORDS
    | QUANTITY_WORDS
    | COPULAS
    | {"being"}
    | DO_FORMS
    | MODALS
    | FUNCTION_WORDS
    | {"of", "to", "or", "them", "him", "about", "so", "then", "held", "happen", "happens", "take", "place"}
)
_WH_AND_FILLER = re.compile(rf"\b(?:{'|'.join(sorted(_FILLER))})\b", re.I)
_TOPIC_WORDS = re.compile(r"[\w’'-]+")


def content_words(question: str) -> list[str]:
    """The question's words that carry its topic (no question words, pronouns or fillers)."""
    stripped = _WH_AND_FILLER.sub(" ", question)
    return [w for w in _TOPIC_WORDS.findall(stripped) if len(w) > 1 or w.isdigit()]


def is_follow_up(question: str) -> bool:
    """Whether the question needs an earlier turn to be understood. One that names its own
    subject ("what is the SCO?", "who is Zhao Kezhi?") does not, however short it is."""
    if _ANAPHORA.search(question):
        return True
    words = content_words(question)
    return len(words) <= 1 and not any(_names_a_subject(question, w) for w in words)


def _names_a_subject(question: str, word: str) -> bool:
    # A name or an acronym: capitalised where a sentence would not capitalise it anyway.
    return word[:1].isupper() and not question.lstrip().startswith(word)


def standalone_question(question: str, history: Sequence[str] = ()) -> str:
    """``question`` made self-contained: a follow-up gets the topic of the conversation so far
    ("where is it held?" after "when is the SCO meeting?" → "where is it held? (SCO meeting)")."""
    topic: list[str] = []
    for earlier in history:
        words = content_words(earlier)
        topic = _merge(topic, words) if is_follow_up(earlier) else words
    question = question.strip()
    if not topic or not is_follow_up(question):
        return question
    extra = [w for w in topic if w.lower() not in question.lower()]
    # The borrowed words must not push a question the user could ask over the length limit.
    while extra and len(question) + len(" ".join(extra)) + 3 > MAX_QUESTION_CHARS:
        extra.pop()
    return f"{question} ({' '.join(extra)})" if extra else question


def _merge(topic: list[str], words: list[str]) -> list[str]:
    return topic + [w for w in words if w.lower() not in {t.lower() for t in topic}]


# The auxiliaries a question's verb follows ("who *will* chair", "when *did* it open"): not "be"
# or "been", which come after one of these.
_AUXILIARIES = MODALS | {"shall", "may", "might"} | DO_FORMS | HAVE_FORMS | (COPULAS - {"be", "been"})
_AUX = rf"(?:{'|'.join(sorted(_AUXILIARIES))})"
_VERB_AFTER_WH = re.compile(rf"^\s*(?:who|what|which \w+)\s+(?:{_AUX}\s+)?(?!the\b|a\b|an\b)([a-z]+)\b", re.I)
_VERB_AT_END = re.compile(rf"^\s*(?:when|where|how \w+|why|what \w+)\s+{_AUX}\b.*\s([a-z]+)\W*$", re.I)
_PARTICIPLE = re.compile(r"(?:ed|en)$|^(?:held|built|won|made|born|found|sold|paid|led|set|put|run|hit|cut|shut)$")


def focus_words(question: str) -> list[str]:
    """The question's predicate, which the answering sentence must match above all: "chair" in
    "Who will chair the meeting?", "cost" in "How much did the bridge cost?". Empty when the
    question has no verb to find ("When is the next meeting?")."""
    if (match := _VERB_AFTER_WH.match(question)) and match.group(1).lower() not in _NOT_PREDICATES:
        return [match.group(1)]
    if match := _EVENT_SUBJECT.match(question):  # "When does the SCO meeting happen?": the event
        return match.group(1).split()
    if match := _VERB_AT_END.match(question):
        aux = question.split()[2 if question.lower().startswith("how") else 1].lower()
        verb = match.group(1)
        if aux in ("did", "does", "do", "will", "would", "can", "could") or _PARTICIPLE.search(verb.lower()):
            return [verb]
    if match := _COPULA_SUBJECT.match(question):  # "When is the next rate meeting of ...?"
        return match.group(1).split()
    return []


# "happen", "take place", "occur": they say only that the subject is an event, and the
# article says "will be held", "opens", "meets"... so the subject carries the question.
_EVENT_SUBJECT = re.compile(
    rf"^\s*(?:when|where)\s+{_AUX}\s+(?:the\s+|a\s+|an\s+)?([a-z][\w -]*?)\s+"
    r"(?:happen|occur|take\s+place|be\s+held)\W*$",
    re.I,
)
_COPULA_SUBJECT = re.compile(
    r"^\s*(?:when|where|who|what)\s+(?:is|are|was|were)\s+(?:the|a|an)\s+([a-z][\w -]*?)"
    r"(?:\s+(?:of|in|for|at|on|from|by|with)\b.*)?\W*$",
    re.I,
)
_NOT_PREDICATES = frozenset(
    {
        "is",
        "are",
        "was",
        "were",
        "the",
        "a",
        "an",
        "of",
        "in",
        "kind",
        "type",
        "number",
        "year",
        "day",
        "date",
        "time",
        "month",
        "percentage",
        "amount",
        "one",
        "ones",
    }
)
