"""The patterns and word lists that find short-answer candidates in a sentence: dates,
numbers and durations, proper names, titles, speakers, places and the words that start no name.
``spans`` reads sentences with them; they live apart so the reading stays short."""

from __future__ import annotations

import re

from embeddings.text import FUNCTION_WORDS, WH_WORDS

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?)"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_RANGE = r"(?:\s?[-–—]\s?|\s(?:to|and)\s)"
_YEAR = r"(?:1\d{3}|20\d{2})"
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_RELATIVE = (
    r"(?:today|yesterday|tomorrow|tonight|(?:next|last|this|coming|previous)\s+"
    r"(?:week|month|year|decade|weekend|spring|summer|autumn|fall|winter|" + _WEEKDAY + "))"
)
TEMPORAL_SPAN = re.compile(
    r"\b[0-2]\d[0-5]\d\s?(?:UTC|GMT)\b|"  # "1137 UTC": a time, not a year
    rf"\b{_MONTH}\s{_DAY}(?:{_RANGE}{_DAY})?(?:,?\s{_YEAR})?\b"  # May 21-22, 2018
    rf"|\b{_DAY}(?:{_RANGE}{_DAY})?\s{_MONTH}(?:,?\s{_YEAR})?\b"  # 21-22 May 2018
    rf"|\b{_MONTH}(?:,?\s{_YEAR})\b"  # May 2018
    rf"|\b(?:early|mid|late)[-\s]{_YEAR}s?\b|\b{_YEAR}s?(?:{_RANGE}{_YEAR})?\b"  # 1990s, 2001-2003
    rf"|\b{_RELATIVE}\b|\b{_WEEKDAY}(?:\s(?:morning|afternoon|evening|night))?\b"
    r"|\b\d{1,2}(?::\d{2})?\s?(?:a\.m\.|p\.m\.|am\b|pm\b)|\b(?:the\s)?\d{1,2}(?:st|nd|rd|th)\scentury\b"
    r"|\b[0-2]?\d:[0-5]\d(?:\s?(?:UTC|GMT|local time))?(?!\d)|\b[0-2]\d[0-5]\d\s?(?:UTC|GMT)\b"  # 18:16, 1137 UTC
    rf"|\b(?:in|by)\s{_MONTH}\b(?![\s,]+\d)"  # "in April" (the edge word is trimmed off the answer)
    r"|\b(?:the\s)?(?:first|second|third|fourth|last)\s(?:half|quarter)\sof\s" + _YEAR + r"\b",
    re.IGNORECASE,
)
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|"
    r"sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|"
    r"hundred|thousand|dozen|a dozen|several hundred)"
)
_ORDINAL_WORD = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)"
_MAGNITUDE = r"(?:\s(?:hundred|thousand|million|billion|trillion))"
_UNIT = (
    r"(?:[\s-]?(?:%|percent|per cent|euros?|dollars?|pounds?|yuan|rupees?|kilometres?|kilometers?|km|miles?|"
    r"metres?|meters?|inches|inch|feet|foot|hectares?|tonnes?|tons?|years?|months?|weeks?|days?|hours?|minutes?|"
    r"seconds?|people|"
    r"points?|seats?|votes?))"
)
_DURATION = r"\d+\s(?:hours?|hrs?)(?:,?\s\d+\s(?:minutes?|mins?))?(?:,?\s(?:and\s)?[\d.]+\s(?:seconds?|secs?))?"
NUMBER_SPAN = re.compile(
    rf"\b{_DURATION}\b|\b\d+(?:st|nd|rd|th)\b|\b{_ORDINAL_WORD}\b"
    rf"|(?:(?:US|CA|A|NZ)?[$€£¥])?\b\d(?:,?\d)*(?:\.\d+)?{_MAGNITUDE}?{_UNIT}?(?!\w)"
    rf"|\b{_NUMBER_WORD}(?:[-\s]{_NUMBER_WORD})*{_MAGNITUDE}?{_UNIT}?\b",
    re.IGNORECASE,
)
# Proper-noun phrases: capitalised words, allowing "of", "de", "al-" and initials inside.
NAME_SPAN = re.compile(
    r"\b[A-Z][\w’'.-]*(?:\s+(?:(?:of|de|del|da|van|von|bin|al|la|le|the|and|for)\s+)?(?:(?:al|el|ad|as|ash|ar|ul)-)?[A-Z][\w’'.-]*)*"
)
# Capitalised words that open a sentence but start no name ("During the talks, ...", "However,
# Zhao ..."): function words and question words (which start no name), plus connectives, first
# and second persons, quantities and relative days. Not "whom"/"whose", as it always was.
_NOT_NAMES = (
    FUNCTION_WORDS
    | (WH_WORDS - {"whom", "whose"})
    | frozenset(
        "we i you our during according after before but if while as all some many most one two three here "
        "however meanwhile earlier later today yesterday tomorrow despite although though because unless whether "
        "instead also million billion thousand trillion".split()
    )
)
# Nationalities: a title's part ("Chinese State Councilor"), never a "who" answer on their own
# ("the Australian leader"). The commonest of the corpus; the entity model knows them all.
NATIONALITIES = frozenset(
    "chinese american british indian russian french german australian canadian israeli palestinian iraqi "
    "iranian pakistani afghan japanese korean italian spanish mexican brazilian african european turkish "
    "egyptian syrian saudi nigerian kenyan dutch polish ukrainian irish scottish thai filipino "
    "indonesian vietnamese greek swedish norwegian danish".split()
)
# Job titles and honorifics in front of a name are not the name ("State Councilor Zhao Kezhi").
TITLES = NATIONALITIES | frozenset(
    "mr mr. mrs mrs. ms ms. dr dr. prof prof. sir dame president vice prime minister state councilor "
    "councillor secretary general deputy adviser advisor spokesperson spokesman spokeswoman governor mayor "
    "chairman chairwoman chair chief executive director senator representative judge justice king queen "
    "prince princess pope foreign defence defense finance interior national security public chinese "
    "american british indian russian french german coach captain commissioner ambassador envoy "
    "lieutenant colonel major sergeant officer premier chancellor president-elect senior former federal founder".split()
)
# Titles only a person bears: a name after one is the person's ("Aviation Prince Sultan" → "Sultan").
PERSON_TITLES = frozenset(
    "mr mr. mrs mrs. ms ms. dr dr. prof prof. sir dame president minister secretary prince princess king queen "
    "governor mayor senator chairman chairwoman spokesperson spokesman spokeswoman director adviser advisor "
    "judge justice chancellor premier pope ambassador envoy commissioner coach captain lieutenant colonel "
    "sergeant".split()
)
# Words a name or a date never starts or ends with ("of India Rajinder Khanna", "the fourth
# quarter of"): prepositions, articles and conjunctions.
EDGE_WORDS = frozenset(
    "of in at on for to from by with the a an and or but as into onto over under near about after before "
    "than de".split()
)
NOT_NAME_STARTS = _NOT_NAMES | EDGE_WORDS
# A name followed by its share of a vote or a contest: "Smith polled 58%", "Jones's 42%".
SCORE_AFTER = re.compile(
    r"(?:'s|’s)?,?\s+(?:(?:who\s+)?(?:polled|received|got|won|took|had|with|on|gained|garnered)\s+)?"
    r"(\d+(?:\.\d+)?)\s?(?:%|percent|per cent)"
)
LOSS_TERMS = frozenset("lost lose loser beat beaten defeat defeated runner second trail".split())
WIN_TERMS = frozenset("won win winner victori victor".split())
# A name that is what a list is "of" ("representatives of Kazakhstan, Kyrgyzstan and Russia"):
# it qualifies someone, it is not who.
OF_LIST = re.compile(r"\bof\s+(?:[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*(?:,\s*|\s+and\s+))*$")
# The speaker of a report ("..., Lu said.", "said spokesperson Lu Kang", "according to Lu"): the
# source of the sentence, not who did what it reports, unless the question asks who said it.
_SPEECH = r"(?:said|says|told|added|announced|stated|noted|explained|wrote|warned|claimed|confirmed)"
SPEAKER_AFTER = re.compile(
    rf"\s*(?:\([^)]*\)\s*)?{_SPEECH}\b(?!\s+(?:that\s+)?(?:it|he|she|they|we|its|his|her|their)\b)"
)  # "Honda said it would build ...": the speaker speaks of itself, it is who
SPEAKER_BEFORE = re.compile(rf"\b(?:{_SPEECH}|[Aa]ccording to)\s+(?:[A-Z][\w’'.-]*\s+){{0,5}}$")  # titles only
SPEECH_TERMS = frozenset(
    "said say says told tell ad announc state note explain wrote write warn claim confirm accord spokesperson "
    "spokesman spokeswoman quot report speak spoke comment".split()
)
POSSESSIVE = re.compile(r"(?:'s|’s|s'|s’)$")
PLACE_PREPOSITIONS = re.compile(r"\b(?:in|at|near|outside|inside|across)\s+$", re.I)
# Where a place is named: after "in", "at", "near" (and "the", "nearby"), after "the city of",
# "the province of", after "country, " ("the next highest country, Spain"); or a name ending in
# a facility ("Chaim Sheba Medical Center", "Ataturk Airport").
PLACE_BEFORE = re.compile(
    r"(?:\b(?:in|at|near|outside|inside|across|nearby)\s+(?:(?:the|his|her|its|their)\s+)?(?:nearby\s+)?"
    r"|\b(?:city|town|village|municipality|province|state|region|district|county|island|country|capital)"
    r"(?:\s+of|,)\s+)$",
    re.I,
)
FACILITY = re.compile(
    r"\b(?:Airport|Cent(?:er|re)|Hospital|Clinic|Stadium|Arena|Province|City|County|Islands?|Street|Square|Park|"
    r"Prison|Base|Station|Hotel|Palace|Bridge|Valley|Desert)$"
)
WEAK_PLACE_BEFORE = re.compile(r"\b(?:to|from|into|except|including|of)\s+(?:the\s+)?$", re.I)
# A month or a weekday; an abbreviation only with its period ("Jan Egeland" is a name).
CALENDAR = re.compile(
    rf"^(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    rf"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.|{_WEEKDAY})$",
    re.I,
)
# The capitalised words right before a name, with "of", "and", "for", "the" between them: its title.
TITLE_RUN = re.compile(r"(?:[A-Z][\w’'.-]*\s+(?:(?:of|and|for|the)\s+)*)+$")
