"""Which of a sentence's candidate spans answers the question: the preferences ``spans.pick_span``
ranks candidates by, read from the question's stemmed terms and the words around each span.

- A "who" candidate whose role in the sentence ("TSA chief Kip Hawley", "Jan Egeland, the UN's
  relief coordinator", "Danny He, the owner of the restaurant") names what the question asks
  about ("who runs the TSA", "who owns the restaurant") comes first.
- The span's shape matched to the question's words: money for what something cost, earned or
  sold for; a share for a rate, turnout or percentage; an organisation's name for "which
  company / party / organisation"; a date over "this month" or "Wednesday"; a count over the
  total it is "of" ("397 of the 612 votes"); a number over an ordinal word ("first").
- Nearness to the question's words, or to words of one meaning with them ("killed" for "died").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from embeddings.answer.questions import AnswerType

# Words of one meaning for the anchors and roles: news says "killed" for "died", "chief
# executive" for "runs". Stems, as the question's terms are.
_RELATED: tuple[frozenset[str], ...] = (
    frozenset("die dead death kill fatal toll casualti".split()),
    frozenset("injur hurt wound".split()),
    frozenset("run head lead leader chief director ceo chairman chair boss execut".split()),
    frozenset("own owner".split()),
    frozenset("win won winner victori victor".split()),
    frozenset("spokesman spokeswoman spokesperson spokespeopl".split()),
)
_MONEY_TERMS = frozenset(
    "cost spend spent price pay paid worth fund budget earn revenu profit sale sold sell fine invest rais valu "
    "bid loan debt charg fee salari wage money".split()
)
_SHARE_TERMS = frozenset("percent percentag share fraction proport rate turnout margin".split())
_ORG_TERMS = frozenset(
    "compani firm organis organ organiz group parti chariti agenc institut corpor bank airlin team club union "
    "carmak automak maker broadcast newspap network".split()
)
_MONEY = re.compile(r"[$€£¥]|\b(?:euros?|dollars?|pounds?|yuan|yen|rupees?)\b", re.I)
_PERCENT = re.compile(r"%|\bper ?cent\b", re.I)
_ORG_SUFFIX = re.compile(
    r"\b(?:Corporation|Corp\.?|Inc\.?|SA|PLC|plc|Ltd\.?|Company|Group|Institution|Institute|Party|Foundation|"
    r"Agency|Bank|Airlines?|Association|Council|Committee|Union|Club|Organi[sz]ation|Society|Investments?|"
    r"Holdings|Ministry|Commission|Network|Service|Front|Movement|Alliance|League)$"
)
_ORDINAL = re.compile(r"^(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)$", re.I)
_RELATIVE_DAY = re.compile(
    r"^(?:today|yesterday|tomorrow|tonight|this\b.*|next\b.*|last\b.*|coming\b.*|previous\b.*|"
    r"(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b.*)$",
    re.I,
)
_OF_TOTAL = re.compile(r"\d[\d,.]*\s+(?:out\s+)?of\s+(?:the\s+)?$")  # "397 of the [612]": the total
# The words right before a name that say what the person is ("FBI director", "TSA chief",
# "the UN's emergency relief co-coordinator, "), back to a word that starts a clause.
_ROLE_STOP = frozenset("by to of and or with for from that which who whom said says told according as".split())
# An apposition after a name: ", a spokesman for the hospital", ", the owner of the BBQ",
# ", co-author of the review", ", Director of the BBC"; not ", Deputy Adviser of India Rajinder
# Khanna" (the next name's title: a capitalised title runs on without "of").
_ROLE_AFTER = re.compile(
    r"^\s*,\s+((?:(?:the|a|an)\s+|[A-Z][\w’'-]*(?:'s|’s)\s+|[\w’'-]+\s+(?:of|at|for)\s+)[^,;.()]*"
    r"|(?:[a-z0-9][\w’'-]*\s+){0,3}[a-z][\w’'-]*(?=[\s,.;]))"  # ", 39-year-old football player"
)
_ROLE_WORDS = 6
# A word that names what someone is: "director", "chief", "executive", "co-coordinator",
# "spokesman", "president", "secretary"; not a verb ("announced") or a name.
_ROLE_NOUN = re.compile(r"(?:er|or|ist|ian|ant|ent|man|woman|person|ief|ive|ary|ess|ceo|head|boss|aide)$", re.I)
_WORD = re.compile(r"[\w’'-]+")
_MINOR = frozenset("the a an of in at on for to s".split())


def widened(terms: set[str]) -> set[str]:
    """``terms`` with the stems of one meaning with them ("die" brings "kill", "dead")."""
    out = set(terms)
    for group in _RELATED:
        if group & terms:
            out |= group
    return out


def roles(sentence: str, start: int, end: int, stem: Callable[[str], str]) -> set[str]:
    """Stems of the words saying what the name at ``start:end`` is: its title before it, its
    apposition after it."""
    words: list[str] = []
    run = _words_before(sentence, start)
    if run and _ROLE_NOUN.search(run[0]):  # "FBI director [Robert Mueller]", not "Lu Kang announced [Wednesday]"
        for word in run:
            if word.lower() in _ROLE_STOP:
                break
            words.append(word)
    if (after := _ROLE_AFTER.match(sentence[end:])) and _is_apposition(_WORD.findall(after.group(1))):
        words += _WORD.findall(after.group(1))[:_ROLE_WORDS]
    return {stem(re.sub(r"(?:'s|’s)$", "", w.lower())) for w in words} - _MINOR


def _words_before(sentence: str, start: int) -> list[str]:
    """Up to four words right before ``start``, nearest first, across one comma right before
    it ("co-coordinator, [Jan Egeland]") and no other punctuation."""
    tail = sentence[max(0, start - 80) : start].rstrip()
    if tail.endswith(","):
        tail = tail[:-1]
    elif tail.endswith((":", ";", "(", ")", '"', "”")):
        return []  # "... investor: [Draper Fisher Jurvetson]": a list or a quote, no title
    out: list[str] = []
    for word in reversed(tail.split()[-4:]):
        if out and word[-1] in ',;:()"”':
            break  # the clause before
        out.append(word.strip(',;:()"“”'))
    return [w for w in out if w]


def _is_apposition(words: list[str]) -> bool:
    """ "the owner of ...", "Krugman's former professor", "Director of ...", "football player";
    not "Lee of the Grand National Party" (a name, not a role) nor ", said Lu" (a verb)."""
    if words[0].lower() in ("the", "a", "an") or re.search(r"(?:'s|’s)$", words[0]):
        return True
    if len(words) > 1 and words[1].lower() in ("of", "at", "for"):
        return bool(_ROLE_NOUN.search(words[0]))
    return bool(_ROLE_NOUN.search(words[-1])) and not words[0][:1].isupper()


def shares_role(role: set[str], terms: set[str]) -> bool:
    """Whether a role word is a question term, or one's stem starts the other's ("owner", "own")."""
    return any(
        r == t or (min(len(r), len(t)) >= 3 and (r.startswith(t) or t.startswith(r))) for r in role for t in terms
    )


def preference(sentence: str, start: int, text: str, terms: set[str], kind: AnswerType) -> int:
    """0 for the shape the question's words ask for, higher for weaker candidates."""
    if kind is AnswerType.NUMBER:
        return _number_preference(sentence, start, text, terms)
    if kind is AnswerType.WHEN:
        return 1 if _RELATIVE_DAY.match(text) else 0
    if kind is AnswerType.WHO and terms & _ORG_TERMS:
        return 0 if _ORG_SUFFIX.search(text) else 1
    return 0


def _number_preference(sentence: str, start: int, text: str, terms: set[str]) -> int:
    pref = 0
    if terms & _MONEY_TERMS and not _MONEY.search(text):
        pref += 2
    if terms & _SHARE_TERMS and not _PERCENT.search(text):
        pref += 2
    if _ORDINAL.match(text) or _OF_TOTAL.search(sentence[max(0, start - 40) : start]):
        pref += 1
    if re.fullmatch(r"\d{1,2}", text):
        pref += 1  # a bare small number is often a day or a list index
    return pref


def anchors(sentence: str, terms: set[str], stem: Callable[[str], str]) -> dict[str, list[int]]:
    """Where each question term (or a word of one meaning with it) stands in ``sentence``."""
    wide = widened(terms)
    found: dict[str, list[int]] = {}
    for match in re.finditer(r"\w+", sentence):
        if (term := stem(match.group().lower())) in wide:
            found.setdefault(term, []).append(match.start())
    return found


def nearest(start: int, end: int, found: dict[str, list[int]]) -> int:
    """How far the span lies from the nearest of the question's words (or words of one meaning
    with them). The nearest, not the sum over all of them: the predicate beside a name ("Lu Kang
    announced") tells more than topic words spread over a long sentence, which a sum lets pull
    the answer towards the sentence's middle."""
    return min((min(abs(a - start), abs(a - end)) for places in found.values() for a in places), default=0)
