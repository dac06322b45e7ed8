"""Reading the seeds folder: every supported file under it becomes articles or a skip reason.

``read_corpus`` never raises for a bad file: each one is reported as a ``SkippedFile`` (and
logged), so one broken download cannot stop the bot from indexing the rest.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import re
import stat
from collections.abc import Callable
from pathlib import Path

from embeddings.errors import CorpusError
from embeddings.ingest.formats import (
    Draft,
    Parsed,
    clean_text,
    parse_html,
    parse_json,
    parse_jsonl,
    parse_markdown,
    parse_txt,
)
from embeddings.models import Article, Corpus, SkippedFile

__all__ = ["clean_text", "file_id", "read_corpus", "read_upload"]

log = logging.getLogger(__name__)

MB = 2**20
DEFAULT_MAX_FILE_BYTES = 32 * MB
DEFAULT_MAX_ARTICLE_CHARS = 1_000_000

PARSERS: dict[str, Callable[[str], list[Parsed]]] = {
    ".txt": parse_txt,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".html": parse_html,
    ".htm": parse_html,
    ".json": parse_json,
    ".jsonl": parse_jsonl,
}

_UNSAFE_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]")
_UTF8_BOM = b"\xef\xbb\xbf"
OUTSIDE = "symlink points outside the seeds folder"


class _Skip(Exception):
    """Internal: this file is skipped for ``reason``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_corpus(
    root: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
) -> Corpus:
    """Read every supported article file under ``root``, in sorted path order.

    Supported: .txt, .md/.markdown, .html/.htm, .json and .jsonl. Hidden files and folders and
    other extensions are ignored; each unusable file or record becomes a ``SkippedFile`` with a
    short reason. Results are deterministic: the same folder always gives the same ids, hashes
    and order. Raises ``CorpusError`` only when ``root`` is missing or not a readable folder.
    """
    root = Path(root)
    _check_root(root)
    articles: list[Article] = []
    skipped: list[SkippedFile] = []
    seen: dict[str, str] = {}  # article id -> path of the article that has it
    for rel, target in _walk(root):
        if isinstance(target, Path):
            items = _read_file(target, rel, max_file_bytes, max_article_chars)
        else:
            items = [SkippedFile(rel, target)]
        for item in items:
            if isinstance(item, SkippedFile):
                _skip(skipped, item.path, item.reason)
            elif item.id in seen:
                reason = f"duplicate article id {item.id} (also in {seen[item.id]})"
                _skip(skipped, item.path, reason)
            else:
                seen[item.id] = item.path
                articles.append(item)
    return Corpus(articles=tuple(articles), skipped=tuple(skipped))


def _check_root(root: Path) -> None:
    if not root.exists():
        raise CorpusError(f"The seeds folder {root} does not exist.")
    if not root.is_dir():
        raise CorpusError(f"The seeds folder {root} is not a folder.")
    try:
        with os.scandir(root):
            pass
    except OSError as err:
        raise CorpusError(f"The seeds folder {root} cannot be read: {err.strerror}.") from err


def _skip(skipped: list[SkippedFile], rel: str, reason: str) -> None:
    log.warning("Skipping %s: %s", rel, reason)
    skipped.append(SkippedFile(rel, reason))


def _walk(root: Path) -> list[tuple[str, Path | str]]:
    """``(relative posix path, file to read or skip reason)`` for each supported file or
    unusable entry, sorted by path so that results do not depend on the file system's order.

    Symlinks whose target is outside ``root`` are reported, not followed; symlinked folders
    inside it are not followed either (their files are read at their real place).
    """
    real_root = Path(os.path.realpath(root))
    found: list[tuple[tuple[str, ...], str, Path | str]] = []

    def add(path: Path, target: Path | str) -> None:
        rel = _relative(path, root)
        found.append((tuple(rel.split("/")), rel, target))

    def on_error(err: OSError) -> None:
        add(Path(err.filename or root), f"unreadable: {err.strerror}")

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in [d for d in dirnames if (here / d).is_symlink()]:
            dirnames.remove(name)
            if _outside(here / name, real_root):
                add(here / name, OUTSIDE)
            else:
                log.debug("Not following folder symlink %s", here / name)
        for name in filenames:
            path = here / name
            if name.startswith("."):
                continue
            if path.suffix.lower() not in PARSERS:
                log.debug("Ignoring %s: not a supported article format", path)
            else:
                add(path, OUTSIDE if path.is_symlink() and _outside(path, real_root) else path)
    return [(rel, target) for _, rel, target in sorted(found, key=lambda entry: entry[0])]


def _outside(path: Path, real_root: Path) -> bool:
    # realpath (unlike Path.resolve on 3.11) does not raise on symlink loops.
    return not Path(os.path.realpath(path)).is_relative_to(real_root)


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` as a posix string that is always valid UTF-8.

    Undecodable file-name bytes (surrogate escapes) are replaced, so the path can be logged,
    stored and shown in Discord.
    """
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        rel = path.as_posix()
    return os.fsencode(rel).decode("utf-8", "replace")


def file_id(rel: str) -> str:
    """The article id of a file: its relative path without extension, "/" as "__", and any
    character outside ``[A-Za-z0-9_.-]`` as "-". Stable across runs and edits."""
    stem = posixpath.splitext(rel)[0]
    return _UNSAFE_ID_CHARS.sub("-", stem.replace("/", "__"))


def read_upload(
    data: bytes,
    rel: str,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    max_article_chars: int = DEFAULT_MAX_ARTICLE_CHARS,
) -> list[Article | SkippedFile]:
    """The articles of a file's ``data`` as ``read_corpus`` would read it at ``rel`` in the
    seeds folder (same size limit, type, encoding, parsing, ids and hashes), or why not."""
    suffix = posixpath.splitext(rel)[1].lower()
    if suffix not in PARSERS:
        return [SkippedFile(rel, f"not a supported article format ({', '.join(sorted(PARSERS))})")]
    if len(data) > max_file_bytes:
        return [SkippedFile(rel, f"larger than the {_size(max_file_bytes)} limit")]
    return _parse(lambda: data, rel, suffix, max_article_chars)


def _read_file(path: Path, rel: str, max_file_bytes: int, max_article_chars: int) -> list[Article | SkippedFile]:
    """Every article of one file, or the reasons it (or some of its records) was skipped."""
    return _parse(lambda: _read_bytes(path, max_file_bytes), rel, path.suffix.lower(), max_article_chars)


def _parse(read: Callable[[], bytes], rel: str, suffix: str, max_article_chars: int) -> list[Article | SkippedFile]:
    try:
        text = _decode(read())
        parsed = PARSERS[suffix](text)
    except _Skip as skip:
        return [SkippedFile(rel, skip.reason)]
    except OSError as err:
        return [SkippedFile(rel, f"unreadable: {err.strerror or err}")]
    except Exception as err:
        log.exception("Unexpected error parsing %s", rel)
        return [SkippedFile(rel, f"could not be parsed ({type(err).__name__})")]
    return [_finish(item, rel, suffix, max_article_chars) for item in parsed]


def _read_bytes(path: Path, max_file_bytes: int) -> bytes:
    # O_NONBLOCK: opening a FIFO named "x.txt" must not wait for a writer forever.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise _Skip("not a regular file")
        if info.st_size > max_file_bytes:
            raise _Skip(f"larger than the {_size(max_file_bytes)} limit")
        # Read one byte more than allowed: the file may have grown since fstat.
        data = handle.read(max_file_bytes + 1)
    if len(data) > max_file_bytes:
        raise _Skip(f"larger than the {_size(max_file_bytes)} limit")
    return data


def _size(n: int) -> str:
    if n >= MB:
        return f"{n // MB} MB" if n % MB == 0 else f"{n / MB:.1f} MB"
    return f"{n}-byte"


def _decode(data: bytes) -> str:
    """The text of a file, refusing empty, binary and non-UTF-8 content; a BOM is accepted."""
    if b"\x00" in data:
        raise _Skip("binary file (contains NUL bytes)")
    offset = len(_UTF8_BOM) if data.startswith(_UTF8_BOM) else 0
    try:
        text = data[offset:].decode("utf-8")
    except UnicodeDecodeError as err:
        raise _Skip(f"not valid UTF-8 (byte {err.start + offset})") from err
    if not text.strip():
        raise _Skip("empty file")
    return text


def _finish(item: Parsed, rel: str, suffix: str, max_chars: int) -> Article | SkippedFile:
    """Give a parsed draft its id, path and hash; a skip reason becomes a SkippedFile."""
    if item.draft is None:
        return SkippedFile(rel + item.where, item.reason or "no article text found")
    draft = item.draft
    if len(draft.text) > max_chars:
        return SkippedFile(rel + item.where, f"article longer than the {max_chars}-character limit")
    # JSONL lines are cited by line; items of a JSON list share their file's path.
    path = rel + item.where if suffix == ".jsonl" else rel
    return Article(
        id=_article_id(draft, rel, item.where),
        title=draft.title,
        text=draft.text,
        path=path,
        content_hash=content_hash(draft),
        published=draft.published,
        source=draft.source,
        url=draft.url,
        place=draft.place,
    )


def _article_id(draft: Draft, rel: str, where: str) -> str:
    """The record's own id; else the file's id, plus a title/date digest for a multi-record
    file so that records keep their ids when others are added, removed or reordered."""
    if draft.record_id:
        return draft.record_id
    if not where:
        return file_id(rel)
    digest = hashlib.sha1(f"{draft.title}\n{draft.published or ''}".encode()).hexdigest()
    return f"{file_id(rel)}-{digest[:12]}"


def content_hash(draft: Draft) -> str:
    """sha256 over everything indexed about an article: any edit to them changes the hash."""
    fields = (draft.title, draft.published, draft.source, draft.url, draft.place, draft.text)
    return hashlib.sha256("\x1f".join(f or "" for f in fields).encode()).hexdigest()
