"""Reading a message as a request: a question (the default), a summary, a timeline, or a call
for help. Shared by the terminal chat and the Discord bot, which only render what comes back.

"summarize the article", "summary of the bridge tolls", "timeline of the SCO meeting", "what's
new on the marathon", "help", "hi" and "what can you do" are requests, not questions: asking the
question path about them finds nothing. Anything else is a question, as it always was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from embeddings.errors import ArticleNotFoundError
from embeddings.models import Answer, Article, Summary
from embeddings.timeline import Timeline

RequestKind = Literal["question", "summary", "timeline", "help"]

# Examples a user is shown with the help; each one is a request this module recognises.
EXAMPLES = (
    "When will the SCO security council secretaries meet?",
    "summarize the Portmere marathon",
    "timeline of the harbour bridge tolls",
    "what's new on the SCO meeting",
)

_GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|yo|howdy|greetings|good (?:morning|afternoon|evening)|help|"
    r"what can you do|what do you do|how do(?:es)? (?:this|it|you) work|who are you|commands)"
    r"(?:\s+(?:there|bot|newsbot|please|me))*$",
    re.I,
)
_SUMMARY = re.compile(
    r"^(?:(?:can|could|would|will) you\s+)?(?:please\s+)?"
    r"(?:summari[sz]e|sum up"
    r"|(?:give me |show me |get me )?(?:a |the )?(?:summary|digest|tl;?dr|recap)(?: of| on| for)?)"
    r"(?:[\s:,]+(?P<subject>.+))?$",
    re.I,
)
_TIMELINE = re.compile(
    r"^(?:(?:give me |show me |get me )?(?:a |the )?(?:timeline|chronology|history)(?: of| on| for)?"
    r"|what(?:'s|’s| is) (?:new|the latest|happening|going on) (?:on|with|about|in)"
    r"|what(?:'s|’s| has) happened (?:with|to|on|about|in)"
    r"|what happened (?:with|to|on|about|in)(?: .+ so far)?"
    r"|(?:latest|news) (?:on|about))"
    r"\s+(?P<subject>.+)$",
    re.I,
)
_SO_FAR = re.compile(r"\s+so far$", re.I)
# A summary's subject that only points back at the conversation ("summarize the article").
_DEICTIC = re.compile(r"^(?:(?:the|this|that) (?:article|story|piece|one|news|report)|it|this|that|them)$", re.I)
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.I)
_ARTICLE_WORD = re.compile(r"^(?:the |an? )?(?:article|story)\s+(?:about|on|titled|called)?\s*", re.I)


@dataclass(frozen=True, slots=True)
class Request:
    """What a message asks for: ``kind``, and ``subject`` (the question itself, the summary's
    article or topic, or the timeline's topic; empty for help). ``refers_back`` is True when a
    summary's subject is "the article" or "it": the article the conversation is about."""

    kind: RequestKind
    subject: str = ""
    refers_back: bool = False


def parse_request(text: str) -> Request:
    """The request ``text`` makes. Unrecognised text is a question, unchanged."""
    words = " ".join(text.split())
    bare = words.rstrip(" ?!.").strip()
    if not words or (bare and _GREETING.match(bare)):
        return Request("help")
    if match := _SUMMARY.match(bare):
        subject = _clean_subject(match.group("subject") or "")
        if not subject or _DEICTIC.match(subject):
            return Request("summary", "", refers_back=True)
        return Request("summary", _without_article(_ARTICLE_WORD.sub("", subject) or subject))
    if match := _TIMELINE.match(bare):
        subject = _clean_subject(_SO_FAR.sub("", match.group("subject")))
        if subject:
            return Request("timeline", _without_article(subject))
    return Request("question", words)


def _clean_subject(subject: str) -> str:
    return subject.strip(" :,-–—\"'“”‘’").strip()


def _without_article(subject: str) -> str:
    return _LEADING_ARTICLE.sub("", subject) or subject


class _Engine(Protocol):
    def answer(self, question: str, history: Sequence[str] = ()) -> Answer: ...
    def find_article(self, ref: str) -> Article: ...
    def summarize(self, ref: str) -> Summary: ...
    def summarize_topic(self, query: str) -> Summary: ...
    def timeline(self, topic: str) -> Timeline: ...


Reply = Answer | Summary | Timeline | None  # None: the help


def fulfil(engine: _Engine, request: Request, history: Sequence[str] = ()) -> Reply:
    """What ``engine`` gives for ``request`` (None for help). A summary names an article (its
    id or title, loosely) or else a topic to digest; "the article" is the one that answers the
    conversation's last question. ``history`` holds the earlier questions, oldest first."""
    if request.kind == "help":
        return None
    if request.kind == "timeline":
        return engine.timeline(request.subject)
    if request.kind == "question":
        return engine.answer(request.subject, history)
    if request.refers_back:
        return engine.summarize(_article_in_discussion(engine, history))
    try:
        return engine.summarize(engine.find_article(request.subject).id)
    except ArticleNotFoundError:
        return engine.summarize_topic(request.subject)


def _article_in_discussion(engine: _Engine, history: Sequence[str]) -> str:
    if history:
        answer = engine.answer(history[-1], history[:-1])
        if answer.answered and answer.sources:
            return answer.sources[0].article_id
    raise ArticleNotFoundError("Which article? Ask a question about it first, or name it: “summarize <title>”.")
