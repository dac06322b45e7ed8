"""Turning the decoded text of one seeds file into article drafts, one parser per format.

Every parser takes the whole decoded file and returns a list of ``Parsed`` items: a ``Draft``
(an article before it gets an id and hash) or the reason a file or record was skipped. Parsers
never raise for bad input; ``embeddings.ingest.corpus`` still guards them, as a last line of defence.

All regexes here run on bounded input (single short lines or a capped prefix), or have no nested
quantifiers, so a hostile file such as one 1 MB line cannot make them backtrack for minutes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

# Lines longer than this are never residue; it also bounds the work of the residue regexes.
_RESIDUE_MAX_CHARS = 300
_RESIDUE_MAX_WORDS = 12
# Cookie banners run longer than other residue, but start with a recognisable phrase.
_COOKIE_BANNER_MAX_WORDS = 40
# The dateline regex only ever sees this many characters of the first body line.
_DATELINE_MAX_CHARS = 200
# Front matter is a few lines; a huge block would make the pure-Python YAML parser crawl.
_FRONT_MATTER_MAX_CHARS = 64 * 1024


@dataclass(frozen=True, slots=True)
class Draft:
    """An article as parsed from a file, before ``embeddings.ingest.corpus`` gives it an id and hash."""

    title: str
    text: str
    place: str | None = None
    published: str | None = None
    source: str | None = None
    url: str | None = None
    record_id: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """One result of parsing a file: a draft, or the reason it was skipped.

    ``where`` is "" for the file as a whole, ":LINE" for a JSONL line and "[INDEX]" for an item
    of a JSON list; drafts with a non-empty ``where`` are records of a multi-article file.
    """

    where: str
    draft: Draft | None = None
    reason: str | None = None


NO_TEXT = "no article text found"

# ---------------------------------------------------------------------------------------------
# Text normalisation and cleaning, shared by every format.

# Line breaks other than \n that str.splitlines would honour; they become \n, not dropped.
_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# C0/C1 controls except \t and \n, lone surrogates (JSON "\ud800" escapes would later fail to
# encode as UTF-8) and stray byte-order marks.
_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")


def normalise_text(raw: str) -> str:
    """Return ``raw`` with \\n line breaks, no control characters, no trailing spaces on any
    line, at most one blank line in a row and no leading or trailing blank lines."""
    text = _CONTROL.sub("", _LINE_BREAKS.sub("\n", raw))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _MANY_BLANK_LINES.sub("\n\n", text).strip("\n")


def clean_field(value: Any) -> str | None:
    """A scalar metadata value as one tidy line of text, or None if absent, empty or not a scalar.

    Lists and mappings are refused rather than stringified: a YAML alias bomb would explode.
    """
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = _WHITESPACE.sub(" ", _CONTROL.sub("", str(value))).strip()
    return text or None


# Searched in short lines only. Most phrases are anchored to the start or end of the line so
# that a short subheading such as "Apple loses market share" or "Print media struggles" stays.
_RESIDUE = re.compile(
    r"^share\b|^share (this|on)\b|scroll to (the )?top|back to top"
    r"|(accept|allow|manage|reject|we use|uses|using) (all )?cookies|^cookies$"
    r"|cookie (policy|settings|preferences|notice|consent)"
    r"|^subscribe\b|\bsubscribe (now|today|here)\b|^sign up\b|\bnewsletter$"
    r"|^(advertisement|advertising|sponsored( content)?)$|^follow us\b|click here"
    r"|^read more\b|^continue reading\b|all rights reserved"
    r"|^related( articles| posts| stories| news)?$|^print( this\b.*)?$"
    r"|^(\d+ )?comments?( \(\d+\))?$|leave a (comment|reply)|^(view|show) comments",
    re.IGNORECASE,
)
_COOKIE_BANNER = re.compile(r"^(we use cookies|this (web)?site uses cookies)\b", re.IGNORECASE)
# Bullets, quote markers and decoration around residue lines ("- Share this post", "| Print").
_DECORATION = " \t-*•·|>#»«[]"


def is_residue(line: str) -> bool:
    """True for a short line of web-page furniture ("Share this post", "Advertisement", ...).

    Only short lines qualify, so a real sentence that mentions cookies or comments is kept.
    """
    stripped = line.strip(_DECORATION).strip(" .:!").strip()
    if not stripped or len(stripped) > _RESIDUE_MAX_CHARS:
        return False
    words = len(stripped.split())
    if words <= _COOKIE_BANNER_MAX_WORDS and _COOKIE_BANNER.search(stripped):
        return True
    return words < _RESIDUE_MAX_WORDS and _RESIDUE.search(stripped) is not None


# "BEIJING :", "BEIJING:", "WASHINGTON (Reuters) -", "LONDON, May 3 —",
# "ISLAMABAD, May 16 (APP):".
# The place is checked with str.isupper() afterwards, so non-ASCII capitals ("SÃO PAULO") work.
_DATELINE = re.compile(
    r"(?P<place>[^\W\d_][\w.'’\-]*(?: [^\W\d_][\w.'’\-]*){0,4})"
    r"(?:,[ \t]*[A-Z0-9][\w.' \-/]{0,29}?){0,2}"
    r"(?:[ \t]*\([^()\n]{1,40}\))?"
    r"(?:[ \t]*:(?:[ \t]+|$)|[ \t]*[—–][ \t]*|[ \t]+--?(?:[ \t]+|$))"
)
# Capitalised words that open a line like a dateline but are not places.
_NOT_PLACES = frozenset(
    "BREAKING UPDATE UPDATED EXCLUSIVE ANALYSIS OPINION EDITORIAL NOTE WATCH VIDEO PHOTOS"
    " PHOTO LIVE FACTBOX EXPLAINER COMMENT REVIEW INTERVIEW CORRECTION Q A".split()
)


def split_dateline(line: str) -> tuple[str | None, str]:
    """Split a leading dateline off ``line``: ``(place, rest)``, or ``(None, line)`` if none."""
    match = _DATELINE.match(line[:_DATELINE_MAX_CHARS])
    if match is None:
        return None, line
    place = match.group("place").strip()
    if len(place) < 2 or not place.isupper() or place in _NOT_PLACES:
        return None, line
    return place, line[match.end() :].lstrip()


def clean_text(raw: str) -> tuple[str, str | None]:
    """Clean an article body: returns ``(body, place)``.

    Normalises line breaks and blank lines (paragraphs stay separated by one blank line and are
    never reflowed), drops control characters and short web-page residue lines, and removes a
    leading dateline such as "BEIJING :" whose place is returned (else None). Never raises.
    """
    lines = [line for line in normalise_text(raw).split("\n") if not is_residue(line)]
    place = None
    for index, line in enumerate(lines):
        if line.strip():
            place, rest = split_dateline(line.strip())
            lines[index] = rest
            break
    return normalise_text("\n".join(lines)).strip(), place


def _same_line(a: str, b: str) -> bool:
    return _WHITESPACE.sub(" ", a).strip().casefold() == _WHITESPACE.sub(" ", b).strip().casefold()


def make_draft(title: str | None, body: str, **meta: str | None) -> Draft | str:
    """Clean ``body`` into a draft titled ``title``, or return the reason there is no article.

    The title is dropped from the top of the body so it is not indexed twice.
    """
    title = clean_field(title)
    if title is None:
        return NO_TEXT
    lines = normalise_text(body).split("\n")
    while lines and (not lines[0].strip() or _same_line(lines[0], title)):
        lines.pop(0)
    text, place = clean_text("\n".join(lines))
    if not text:
        return NO_TEXT
    return Draft(title=title, text=text, place=place, **meta)


# ---------------------------------------------------------------------------------------------
# Plain text: the first non-empty line is the headline.


def parse_txt(text: str) -> list[Parsed]:
    """A .txt article: headline on the first non-empty, non-residue line, body after it."""
    lines = normalise_text(text).split("\n")
    for index, line in enumerate(lines):
        if line.strip() and not is_residue(line):
            return [_file_result(make_draft(line, "\n".join(lines[index + 1 :])))]
    return [Parsed("", reason=NO_TEXT)]


def _file_result(result: Draft | str, where: str = "") -> Parsed:
    if isinstance(result, Draft):
        return Parsed(where, draft=result)
    return Parsed(where, reason=result)


# ---------------------------------------------------------------------------------------------
# Markdown, with optional YAML front matter.

_IMAGE = re.compile(r"!\[[^\[\]\n]{0,500}\](?:\([^()\n]{0,2000}\)|\[[^\[\]\n]{0,200}\])")
# Excluding "[" from the link text keeps matching linear on lines like "[[[[[[...".
_LINK = re.compile(r"\[([^\[\]\n]{0,500})\](?:\([^()\s]{0,2000}(?:[ \t]+\"[^\"\n]{0,200}\")?\))")
_REFERENCE_DEFINITION = re.compile(r"[ \t]{0,3}\[[^\[\]\n]{1,200}\]:[ \t]*\S")
_HEADING = re.compile(r"^[ \t]{0,3}(#{1,6})(?:[ \t]+|$)")


class FrontMatterError(ValueError):
    """The YAML front matter of a markdown file cannot be used."""


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split a leading ``---`` YAML block off ``text``: ``(metadata, rest)``.

    Raises FrontMatterError when the block is not valid YAML or not a mapping. Text without a
    closing ``---`` line has no front matter (the first line is then a horizontal rule).
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((i for i, line in enumerate(lines[1:], 1) if line.strip() in ("---", "...")), None)
    if end is None:
        return {}, text
    block = "\n".join(lines[1:end])
    if len(block) > _FRONT_MATTER_MAX_CHARS:
        raise FrontMatterError("longer than 64 KB")
    try:
        meta = yaml.safe_load(block)
    except (yaml.YAMLError, ValueError, TypeError) as err:
        # PyYAML raises ValueError for impossible dates such as 2024-13-45.
        raise FrontMatterError(" ".join(str(err).split())[:200]) from err
    except RecursionError as err:
        raise FrontMatterError("nested too deeply") from err
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FrontMatterError("not a mapping of keys to values")
    return meta, "\n".join(lines[end + 1 :])


def markdown_to_text(text: str) -> str:
    """Plain text of a markdown body: no heading markers, links, images, emphasis or rules."""
    out = []
    for line in text.split("\n"):
        bare = line.strip()
        if _is_rule(bare) or bare.startswith(("```", "~~~")) or _REFERENCE_DEFINITION.match(line):
            continue
        out.append(markdown_inline(_strip_heading(line)))
    return "\n".join(out)


def markdown_inline(line: str) -> str:
    """One markdown line with images dropped, links reduced to their text and ** / __ removed."""
    line = _LINK.sub(r"\1", _IMAGE.sub("", line))
    line = line.replace("**", "").replace("__", "")
    # Blockquote markers are layout, not text.
    return line.lstrip(">").lstrip() if line.lstrip().startswith(">") else line


def _strip_heading(line: str) -> str:
    """``line`` without ATX heading markers ("## Title ##" -> "Title")."""
    match = _HEADING.match(line)
    if match is None:
        return line
    text = line[match.end() :].rstrip()
    # Closing hashes are stripped in Python: a regex for them backtracks quadratically on long
    # runs of spaces.
    core = text.rstrip("#")
    return core.rstrip() if core != text and (not core or core[-1] in " \t") else text


def _is_rule(bare: str) -> bool:
    # Thematic breaks ("---", "* * *") and setext heading underlines ("====").
    squashed = bare.replace(" ", "")
    return len(squashed) >= 3 and len(set(squashed)) == 1 and squashed[0] in "-*_="


def parse_markdown(text: str) -> list[Parsed]:
    """A .md article: title from front matter, else the first "# " heading, else the first line."""
    text = normalise_text(text)
    try:
        meta, body = split_front_matter(text)
    except FrontMatterError as err:
        return [Parsed("", reason=f"malformed front matter: {err}")]
    lines = body.split("\n")
    title = clean_field(meta.get("title"))
    heading = _first_h1(lines)
    if title is None and heading is not None:
        title = markdown_inline(_strip_heading(lines.pop(heading)))
    plain = markdown_to_text("\n".join(lines))
    if title is None:
        rest = [line for line in plain.split("\n") if line.strip()]
        title = rest[0] if rest else None
    draft = make_draft(title, plain, **_metadata(meta))
    return [_file_result(draft)]


def _first_h1(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        match = _HEADING.match(line)
        if match and len(match.group(1)) == 1 and line[match.end() :].strip():
            return index
    return None


def _metadata(record: dict[str, Any]) -> dict[str, str | None]:
    """The optional metadata fields of a front matter block or JSON record."""
    return {
        "published": normalise_date(record.get("published") or record.get("date")),
        "source": clean_field(record.get("source")),
        "url": clean_field(record.get("url")),
        "record_id": clean_field(record.get("id")),
    }


_DATE_FORMATS = ("%Y/%m/%d", "%d %B %Y", "%d %b %Y", "%B %d, %Y", "%b %d, %Y", "%B %d %Y")


def normalise_date(value: Any) -> str | None:
    """An ISO form of a publication date: "YYYY-MM-DD" for dates, full ISO for date-times.

    Strings that are not recognised are kept as given rather than lost.
    """
    text = clean_field(value)
    if text is None or isinstance(value, dt.date):
        return text
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return dt.date.fromisoformat(text).isoformat()
        return dt.datetime.fromisoformat(text).isoformat()
    except ValueError:
        pass
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date().isoformat()
        except ValueError:
            continue
    return text


# ---------------------------------------------------------------------------------------------
# HTML pages, through trafilatura's main-content extraction.


def parse_html(text: str) -> list[Parsed]:
    """A web page: main text, title, date, canonical URL and site name found by trafilatura.

    Scripts, navigation and comments are left out; each extracted line is a paragraph.
    """
    import trafilatura  # Imported here: it is slow to import and only HTML files need it.

    doc = trafilatura.bare_extraction(text, with_metadata=True, include_comments=False, include_images=False)
    body = getattr(doc, "text", None) or ""
    lines = [line for line in normalise_text(body).split("\n") if line.strip()]
    if not lines:
        return [Parsed("", reason=NO_TEXT)]
    title = clean_field(getattr(doc, "title", None)) or lines[0]
    meta = {
        "published": normalise_date(getattr(doc, "date", None)),
        "source": clean_field(getattr(doc, "sitename", None)),
        "url": clean_field(getattr(doc, "url", None)),
    }
    return [_file_result(make_draft(title, "\n\n".join(lines), **meta))]


# ---------------------------------------------------------------------------------------------
# JSON: one object, a list of objects, or {"articles": [...]}; JSONL: one object per line.

_TEXT_KEYS = ("text", "body", "content")


def parse_json(text: str) -> list[Parsed]:
    """A .json file of one article object, a list of them, or ``{"articles": [...]}``."""
    try:
        data = json.loads(text)
    except ValueError as err:
        return [Parsed("", reason=_json_reason(err))]
    except RecursionError:
        return [Parsed("", reason="malformed JSON: nested too deeply")]
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    if isinstance(data, dict):
        # A single object is the file's one article, identified like a text file.
        return [_record(data, "")]
    if not isinstance(data, list) or not data:
        return [Parsed("", reason="no article records found")]
    return [_record(item, f"[{index}]") for index, item in enumerate(data)]


def parse_jsonl(text: str) -> list[Parsed]:
    """A .jsonl file: each non-blank line one article object; bad lines are skipped alone."""
    results = []
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as err:
            results.append(Parsed(f":{number}", reason=_json_reason(err, number)))
            continue
        except RecursionError:
            results.append(Parsed(f":{number}", reason="malformed JSON: nested too deeply"))
            continue
        results.append(_record(data, f":{number}"))
    return results or [Parsed("", reason="no article records found")]


def _json_reason(err: ValueError, line: int | None = None) -> str:
    if not isinstance(err, json.JSONDecodeError):
        # Python's own wording (e.g. the int digit limit, which names sys.set_int_max_str_digits)
        # is for programmers; say what is wrong with the file instead.
        if "digits" in str(err):
            return "malformed JSON: a number has too many digits"
        return "malformed JSON: " + " ".join(str(err).split())[:120]
    return f"malformed JSON: {err.msg} (line {line or err.lineno}, column {err.colno})"


def _record(data: Any, where: str) -> Parsed:
    """One JSON article object; its text goes through the same cleaning as a text file."""
    if not isinstance(data, dict):
        return Parsed(where, reason="record is not a JSON object")
    title = data.get("title")
    if not isinstance(title, str) or clean_field(title) is None:
        return Parsed(where, reason="record has no title")
    body = next((data[key] for key in _TEXT_KEYS if isinstance(data.get(key), str) and data[key].strip()), None)
    if body is None:
        return Parsed(where, reason="record has no text")
    draft = make_draft(title, body, **_metadata(data))
    return _file_result(draft if isinstance(draft, Draft) else "record has no text", where)
