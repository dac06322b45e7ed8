"""Reading a question: the kind of answer it wants, its predicate, and, for a follow-up, the
topic it borrows from the questions before it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from itertools import takewhile

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


# "which state", "what city", "in which US state": a place is asked for; "which company", "what
# minister", "which territory leader": a name (a person or an organisation); "what year": a
# date; "what share", "whats the jobless rate": a quantity. The kind is the asked-for phrase's
# head noun (its last noun of these lists: "territory leader" asks for a leader). Nouns that are
# also verbs ("hosts", "rivals", "funds") are left out: "what city hosts the games" would read
# as asking for a host. "which" of a noun in no list still asks for a name (who).
_ASKED_NOUNS: dict[AnswerType, frozenset[str]] = {
    AnswerType.WHEN: frozenset("year date day time month century decade hour season".split()),
    AnswerType.NUMBER: frozenset(
        "number percentage percent amount ordinal rank share stake turnout rate tally fraction proportion cost "
        "price total toll score margin age population salary budget sum value count size length distance height "
        "weight temperature speed capacity ratio debt deficit revenue profit".split()
    ),
    AnswerType.WHERE: frozenset(
        "city country state province place town region venue county island nation continent capital location "
        "village district stadium airport territory port area neighbourhood neighborhood suburb hospital "
        "municipality birthplace hometown clinic prison jail building site street road river mountain lake sea ocean "
        "hotel church mosque temple camp border constituency borough parish township facility square".split()
    ),
    AnswerType.WHO: frozenset(
        "person people man woman men women organisation organization company group firm team party minister "
        "secretary official president leader player candidate airline bank club agency senator governor "
        "politician athlete driver band singer actor actress university newspaper broadcaster network carrier "
        "manufacturer brand ceo chief executive director judge justice general spokesman spokeswoman "
        "spokesperson mayor king queen prince princess author writer artist scientist coach manager owner boss "
        "charity economist commander chairman chairwoman professor aide editor journalist reporter lawyer "
        "attorney doctor surgeon diplomat ambassador envoy congressman lawmaker legislator activist analyst "
        "expert researcher founder premier chancellor monarch emperor pope bishop cleric general admiral colonel "
        "militia faction union council committee commission institute "
        "foundation alliance coalition federation league association squad magazine website publisher "
        "automaker carmaker maker retailer insurer lender investor corporation conglomerate supplier "
        "contractor operator developer studio winner nominee incumbent successor predecessor "
        "opponent challenger victim astronaut sheriff officer inspector detective captain striker "
        "goalkeeper boxer priest imam rabbi student teacher nurse soldier worker businessman billionaire "
        "tycoon entrepreneur presenter comedian musician rapper producer filmmaker novelist poet painter "
        "architect engineer inventor mathematician physicist astronomer".split()
    ),
}
_NOUN_KINDS = {noun: kind for kind, nouns in _ASKED_NOUNS.items() for noun in nouns}
# "which ...", "what ...", "whats the ...", "what is X's ...", "which of the ...": the asked-for
# phrase runs to the first auxiliary, preposition or relative word ("which hospital *was* ...").
_ASKED = re.compile(r"\b(?:what|which|wat)((?:'s|’s|s)?\s+(?:of\s+)?(?:(?:is|was|are|were)\s+)?)([^,;:?!.]*)", re.I)
_PHRASE_ENDS = (
    DO_FORMS
    | HAVE_FORMS
    | MODALS
    | COPULAS
    | frozenset("of in on at for to from by with after before during since than who that when where as".split())
)
_PHRASE_WORDS = 6
_CUES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (  # checked in this order when none opens a clause
    (AnswerType.WHEN, re.compile(r"\bwhen\b|\bhow long ago\b|\bsince when\b", re.I)),
    (
        AnswerType.NUMBER,
        re.compile(
            r"\bhow (?:many|much|old|far|long|large|big|tall|high)\b"
            r"|\bwhat\s+(?:did|does|do|will|would)\b[^?,;]*\b(?:cost|weigh|measure)\b",  # "what does it cost"
            re.I,
        ),
    ),
    (AnswerType.WHERE, re.compile(r"\bwhere\b", re.I)),
    (
        AnswerType.WHO,
        re.compile(
            r"\bwho(?:m|se|s|'s|’s)?\b|\bwhat(?:'s|’s|s)?\b(?:\s+(?:is|was|are|were))?[^?,;]*\b(?:called|named)\W*$",
            re.I,
        ),
    ),
)
_KIND_ORDER = [kind for kind, _ in _CUES]
# A cue opens the question or one of its clauses: "in which city ...", "..., what does it cost?".
# "how many votes did she get when she was elected" asks how many, not when.
_OPENS = re.compile(
    r"(?:^|[,;:])\s*(?:(?:in|on|at|by|from|to|for|since|during|after|before|until|and|so|but)\s+)?$", re.I
)


def answer_type(question: str) -> AnswerType:
    """The kind of short answer ``question`` asks for (OTHER when it is not a factoid): the cue
    opening the question (or a clause of it) first, else the first found of when, how many,
    where, who."""
    found = [(m.start(), kind) for kind, cue in _CUES if (m := cue.search(question))]
    found += _asked_kinds(question)
    if not found:
        return AnswerType.OTHER
    opening = [f for f in found if _OPENS.search(question[: f[0]])]
    if opening:
        return min(opening, key=lambda f: (f[0], _KIND_ORDER.index(f[1])))[1]
    return min(found, key=lambda f: _KIND_ORDER.index(f[1]))[1]


def _asked_kinds(question: str) -> list[tuple[int, AnswerType]]:
    """(position, kind) of each "which X" / "what X" phrase whose head noun says the kind; a
    "which" of any other noun asks to name one of several (who)."""
    found = []
    for match in _ASKED.finditer(question):
        words = re.findall(r"[\w’'-]+", match.group(2).lower())
        phrase = list(takewhile(lambda w: w not in _PHRASE_ENDS, words))[:_PHRASE_WORDS]
        # "what is the X" asks for the X only when nothing follows it but a preposition: in
        # "what is the singer best known for" the singer is the subject.
        kind = _head_kind(phrase, last=bool(re.search(r"'s|’s|s\s|\b(?:is|was|are|were)\b", match.group(1))))
        if kind is None and phrase and match.group().lower().startswith("which"):
            kind = AnswerType.WHO
        if kind is not None:
            found.append((match.start(), kind))
    return found


def _head_kind(phrase: list[str], last: bool = False) -> AnswerType | None:
    """The kind of the phrase's head: the first noun of the lists, or the last of a run of them
    ("territory leader", "country's president"); with ``last``, only when it ends the phrase."""
    kinds = [_NOUN_KINDS.get(_singular(w)) for w in phrase]
    first = next((i for i, k in enumerate(kinds) if k), None)
    if first is None:
        return None
    end = first
    while end + 1 < len(kinds) and kinds[end + 1]:
        end += 1
    return None if last and end < len(phrase) - 1 else kinds[end]


def _singular(word: str) -> str:
    word = re.sub(r"(?:'s|’s|'|’)$", "", word)
    if word in _NOUN_KINDS or len(word) < 4:
        return word
    if word.endswith("ies"):
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") else word


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
