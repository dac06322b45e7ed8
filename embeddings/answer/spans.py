"""Short answers: the span of a sentence that answers a factoid question.

Candidates of the expected kind (dates for "when", numbers for "how many", proper names for
"who" and "where") are found with patterns; the one nearest the words the sentence shares with
the question wins, and a candidate made only of the question's own words is never chosen.
Every span is a slice of the sentence, so a short answer is grounded by construction.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

import Stemmer

from embeddings.answer import span_rank
from embeddings.answer.questions import AnswerType
from embeddings.answer.span_patterns import (
    CALENDAR,
    EDGE_WORDS,
    FACILITY,
    LOSS_TERMS,
    NAME_SPAN,
    NATIONALITIES,
    NOT_NAME_STARTS,
    NUMBER_SPAN,
    OF_LIST,
    PERSON_TITLES,
    PLACE_BEFORE,
    PLACE_PREPOSITIONS,
    POSSESSIVE,
    SCORE_AFTER,
    SPEAKER_AFTER,
    SPEAKER_BEFORE,
    SPEECH_TERMS,
    TEMPORAL_SPAN,
    TITLE_RUN,
    TITLES,
    WEAK_PLACE_BEFORE,
    WIN_TERMS,
)

_COUNTED = (AnswerType.WHEN, AnswerType.NUMBER)  # spans trimmed of the question's words


@dataclass(frozen=True, slots=True)
class Span:
    """A slice of a sentence; ``distance`` is how far (in characters) it lies from the nearest
    word the sentence shares with the question (0 when nothing is shared)."""

    start: int
    end: int
    text: str
    distance: int = 0


def short_answer(sentence: str, question_terms: set[str], kind: AnswerType, strict: bool = True) -> Span | None:
    """The best span of ``sentence`` answering a question of ``kind`` whose stemmed content
    terms are ``question_terms``; None when the sentence holds no such span. Not ``strict`` (the
    writer, once the sentence is chosen): a "where" question takes a name that nothing marks as
    a place rather than none; sentence choice keeps the marked places, which tell a sentence
    that names a place from one that names anything."""
    return pick_span(sentence, _candidates(sentence, kind, strict), question_terms, kind)


def pick_span(sentence: str, candidates: list[Span], question_terms: set[str], kind: AnswerType) -> Span | None:
    """Of ``candidates`` (spans of ``sentence`` of the asked-for kind, found by any means), the
    one nearest the question's words, trimmed of them; never one made only of them."""
    candidates = [c for c in candidates if not _repeats_question(c.text, question_terms)]
    if kind is AnswerType.NUMBER and "number" in question_terms:  # "which number" wants digits
        candidates = [c for c in candidates if any(ch.isdigit() for ch in c.text)]
    if kind is AnswerType.NUMBER:
        candidates = [c for c in candidates if not _in_a_code(sentence, c)]
    cast = {c.start for c in candidates if kind is AnswerType.WHO and _plays_the_role(sentence, c, question_terms)}
    if kind is AnswerType.WHO:
        if not question_terms & SPEECH_TERMS:  # a speaker introduced by the asked role is who
            candidates = [c for c in candidates if not _is_speaker(sentence, c) or c.start in cast]
        own = [c for c in candidates if c.start in cast] or _tied_to_the_question(sentence, candidates, question_terms)
        candidates = _contest(sentence, own, question_terms)
    if not candidates:
        return None
    anchors = [m.start() for m in re.finditer(r"\w+", sentence) if _stem(m.group().lower()) in question_terms]
    near = span_rank.anchors(sentence, question_terms, _stem)
    best = min(
        candidates,
        key=lambda c: (
            c.start not in cast,
            _preference(sentence, c, question_terms, kind),
            span_rank.nearest(c.start, c.end, near),
            c.start,
        ),
    )
    return _trim_question_words(sentence, best, question_terms if kind in _COUNTED else set(), _distance(best, anchors))


def _plays_the_role(sentence: str, span: Span, question_terms: set[str]) -> bool:
    """Whether the name's title or apposition names what the question asks about ("TSA chief
    Kip Hawley" for "who runs the TSA")."""
    return span_rank.shares_role(
        span_rank.roles(sentence, span.start, span.end, _stem), span_rank.widened(question_terms)
    )


def _in_a_code(sentence: str, span: Span) -> bool:
    """A number inside a name or a clock time: "COVID-19", "A330-200", "1:59"."""
    before, after = sentence[max(0, span.start - 2) : span.start], sentence[span.end : span.end + 2]
    return (len(before) == 2 and before[1] == "-" and before[0].isalnum()) or bool(
        re.match(r":\d", after) or before.endswith(":")
    )


def _is_speaker(sentence: str, span: Span) -> bool:
    """Whether ``span`` names who said the sentence ("Lu said", "said Lu", "according to Lu")."""
    return bool(SPEAKER_AFTER.match(sentence, span.end) or SPEAKER_BEFORE.search(_before(sentence, span.start)))


def _contest(sentence: str, candidates: list[Span], question_terms: set[str]) -> list[Span]:
    """Of names each given a share ("Y polled 58% to Z's 42%"), the lower for "who lost", the
    higher for "who won"; the candidates unchanged otherwise."""
    lost, won = bool(question_terms & LOSS_TERMS), bool(question_terms & WIN_TERMS)
    scored = [(float(m.group(1)), c) for c in candidates if (m := SCORE_AFTER.match(sentence, c.end))]
    if len(scored) < 2 or lost == won:
        return candidates
    return [(min if lost else max)(scored, key=lambda p: p[0])[1]]


def _tied_to_the_question(sentence: str, candidates: list[Span], question_terms: set[str]) -> list[Span]:
    """In a sentence listing people of several countries or bodies, the one tied to the
    question's entity: "who represents India" → the "Adviser of India"; when the question names
    an entity the sentence does not ("who represents Pakistan" of a list of India's, China's
    and Russia's delegates), none of those tied elsewhere, nor the entities themselves."""
    ties = {c.start: _ties(sentence, c) for c in candidates}
    own = [c for c in candidates if ties[c.start] & question_terms]
    if own:
        return own
    said = {_stem(w.lower()) for w in re.findall(r"\w+", sentence)}
    if question_terms <= said or sum(1 for n in name_spans(sentence, AnswerType.WHO) if _ties(sentence, n)) < 2:
        return candidates  # the question names nothing the sentence lacks, or it lists no people of several
    return [c for c in candidates if not ties[c.start] and not OF_LIST.search(_before(sentence, c.start))]


def _ties(sentence: str, span: Span) -> set[str]:
    """The places and nationalities the name's own title carries, stemmed: "India" in "Adviser
    of India Rajinder Khanna", "Chinese" in "Chinese State Councilor ... Zhao Kezhi"."""
    clause = re.split(r"[,;:()]", _before(sentence, span.start))[-1]
    title = TITLE_RUN.search(clause)
    if not title or POSSESSIVE.search(title.group().rstrip()):
        return set()  # no title right before the name ("Adamov's U.S. lawyer": an owner, no title)
    words = re.findall(r"[A-Z][\w’'-]*", title.group())
    return {_stem(w.lower()) for w in words if w.lower() not in TITLES - NATIONALITIES and w.lower() not in EDGE_WORDS}


def _trim_question_words(sentence: str, span: Span, question_terms: set[str], distance: int) -> Span:
    """Drop leading and trailing words the question already says ("40 hectares" → "40" for
    "how many hectares"; only from dates and numbers: "Party" is part of "Grand National Party"
    for "what party"), and edge words."""
    words = list(re.finditer(r"\S+", span.text))
    while len(words) > 1 and _stem(words[-1].group().lower().strip(".,;:")) in question_terms:
        words.pop()
    while len(words) > 1 and _stem(words[0].group().lower().strip(".,;:")) in question_terms:
        words.pop(0)
    while len(words) > 1 and words[-1].group().lower().strip(".,;:") in EDGE_WORDS:
        words.pop()  # "the fourth quarter of [2008]": no dangling "of"
    while len(words) > 1 and words[0].group().lower() in EDGE_WORDS:
        words.pop(0)
    start, end = span.start + words[0].start(), span.start + words[-1].end()
    return Span(start, end, sentence[start:end], distance)


def _candidates(sentence: str, kind: AnswerType, strict: bool = True) -> list[Span]:
    if kind is AnswerType.WHEN:
        return _spans(TEMPORAL_SPAN, sentence)
    if kind is AnswerType.NUMBER:
        dates = _spans(TEMPORAL_SPAN, sentence)
        return [s for s in _spans(NUMBER_SPAN, sentence) if not any(_overlaps(s, d) for d in dates)]
    names = name_spans(sentence, kind)
    if kind is AnswerType.WHERE:
        return _places(sentence, names, strict)
    if kind is AnswerType.WHO:
        return names
    return []


def _places(sentence: str, names: list[Span], strict: bool) -> list[Span]:
    """The names a place word marks ("in Lagos", "the city of Rawalpindi", "Ataturk Airport"),
    else those after a weaker one ("flown to Walter Reed"), else (not ``strict``) any name."""
    marked = [n for n in names if PLACE_BEFORE.search(_before(sentence, n.start)) or FACILITY.search(n.text)]
    weak = [n for n in names if WEAK_PLACE_BEFORE.search(_before(sentence, n.start))]
    return marked or weak or ([] if strict else names)


def name_spans(sentence: str, kind: AnswerType) -> list[Span]:
    """The capitalised names of ``sentence``, cleaned for ``kind`` (titles, possessives,
    calendar words and edge words dropped), whatever precedes them."""
    return [n for s in _name_spans(sentence) if (n := _clean_name(sentence, s, kind))]


def _name_spans(sentence: str) -> list[Span]:
    """Proper-noun phrases, a list ("Russia and Tajikistan") cut into its names."""
    spans = []
    for span in _spans(NAME_SPAN, sentence):
        offset = span.start
        for part in re.split(r"(\s+and\s+)", span.text):
            if part.strip() and not re.fullmatch(r"\s+and\s+", part):
                spans.append(Span(offset, offset + len(part), part))
            offset += len(part)
    return spans


def _spans(pattern: re.Pattern[str], text: str) -> list[Span]:
    return [Span(m.start(), m.end(), m.group()) for m in pattern.finditer(text) if m.group().strip()]


def _clean_name(sentence: str, span: Span, kind: AnswerType) -> Span | None:
    words = list(re.finditer(r"\S+", span.text))
    while words and words[0].group().lower().strip(",.") in NOT_NAME_STARTS:
        words.pop(0)
    if kind is AnswerType.WHO:
        if all(_is_title(w.group()) for w in words):
            return None  # "Chinese leaders", "Adviser to ...": a title or a nationality, no name
        words = _strip_titles(words)
    words = _after_owner(words)  # "Istanbul's Ataturk Airport": the airport
    while words and words[0].group().lower() in EDGE_WORDS:
        words.pop(0)
    while words and words[-1].group().lower() in EDGE_WORDS:
        words.pop()
    if not words or any(CALENDAR.match(POSSESSIVE.sub("", w.group().rstrip(".,;:"))) for w in words):
        return None  # "Monday", "May": a day, not a name or a place
    owner = any(POSSESSIVE.search(w.group().rstrip(",.;:")) for w in words)
    if kind is not AnswerType.OTHER and owner and not SCORE_AFTER.match(sentence, span.start + words[-1].end()):
        return None  # "GM's" owns the answer ("GM's chief executive ..."), it is not the answer
    start, end = span.start + words[0].start(), span.start + words[-1].end()
    text = re.sub(r"(?:'s|’s)$", "", sentence[start:end].rstrip(".,;:")).rstrip(".,;:’'")  # "Z's 42%": Z
    return Span(start, start + len(text), text) if len(text) > 1 else None


def _is_title(word: str) -> bool:
    """A title or a nationality, "French-Canadian" too."""
    word = word.lower()
    return word in TITLES or all(part in NATIONALITIES for part in word.split("-"))


def _after_owner(words: list[re.Match[str]]) -> list[re.Match[str]]:
    """The words after a possessive inside a name: its owner is not the name."""
    owned = [i for i, w in enumerate(words[:-1]) if POSSESSIVE.search(w.group())]
    return words[owned[-1] + 1 :] if owned else words


def _strip_titles(words: list[re.Match[str]]) -> list[re.Match[str]]:
    """Job titles in front of a name go, with the place the title is of: "Deputy National
    Security Adviser of India Rajinder Khanna" → "Rajinder Khanna"; and what a person's title
    follows ("Indian Affairs Minister Andy Scott" → "Andy Scott")."""
    persons = [i for i, w in enumerate(words[:-1]) if w.group().lower() in PERSON_TITLES]
    if persons and persons[-1] > 0 and not _is_title(words[persons[-1] + 1].group()):
        words = words[persons[-1] :]
    titled = False
    while True:
        while len(words) > 1 and _is_title(words[0].group()):
            words.pop(0)
            titled = True
        if not (titled and len(words) > 2 and words[0].group().lower() in ("of", "for", "to")):
            return words
        words = words[2:]  # "of India", "of Public [Security]": what the title is of, not the name


def _preference(sentence: str, span: Span, question_terms: set[str], kind: AnswerType) -> int:
    """0 for the most plausible kind of candidate, higher for weaker ones."""
    pref = span_rank.preference(sentence, span.start, span.text, question_terms, kind)
    if kind is AnswerType.WHO and PLACE_PREPOSITIONS.search(_before(sentence, span.start)):
        pref += 1  # "... the plant in Ohio": a place, not who
    if kind in (AnswerType.WHO, AnswerType.WHERE) and _opens_the_sentence(sentence, span):
        pref += 1  # "Strong demand ...", "Allegedly signed by ...": a capital that only opens it
    return pref


def _opens_the_sentence(sentence: str, span: Span) -> bool:
    return " " not in span.text and not sentence[: span.start].strip(" \"'“‘(")


def _distance(span: Span, anchors: list[int]) -> int:
    if not anchors:
        return 0
    return min(min(abs(a - span.start), abs(a - span.end)) for a in anchors)


def _repeats_question(text: str, question_terms: set[str]) -> bool:
    words = [_stem(w.lower()) for w in re.findall(r"\w+", text)]
    return bool(words) and all(w in question_terms for w in words)


def _before(sentence: str, start: int) -> str:
    """The text before ``start`` that the patterns anchored at a name's start read: a title run,
    a speaker's verb, a place word. Cut to its last 120 characters, so that searching it back
    from the name does not scan a long sentence's beginning again for every candidate."""
    return sentence[max(0, start - _LOOKBACK) : start]


_LOOKBACK = 120


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


class _PerThreadStemmer(threading.local):
    # One PyStemmer object per thread, as in embeddings.index.lexical. PyStemmer's own class
    # docstring says a Stemmer "has internal state, so must not be called concurrently": the C
    # stemmer writes each result into a buffer of the object, read back by a second call.
    # A shared one works today only because PyStemmer 3.1 never releases the GIL while
    # stemming (its extension does not even import PyEval_SaveThread): an implementation
    # detail, and not true on free-threaded Python. The many-threads test in
    # tests/embeddings/test_answers.py passes either way on this build; a stemmer that keeps
    # its state across a thread switch fails it.
    def __init__(self) -> None:
        self.stemmer = Stemmer.Stemmer("english")


_STEMMERS = _PerThreadStemmer()


# lru_cache is thread-safe: at worst two threads stem the same word, each with its own stemmer.
@lru_cache(maxsize=50_000)
def _stem(word: str) -> str:
    return str(_STEMMERS.stemmer.stemWord(word))


def stem_terms(words: list[str]) -> set[str]:
    """Lower-cased, stemmed forms of ``words``, as ``short_answer`` expects them."""
    return {_stem(w.lower()) for w in words}
