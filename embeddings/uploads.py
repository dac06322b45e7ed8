"""Adding and removing articles in the seeds folder from outside the machine (the bot's /add
and /remove): an upload is checked exactly as the corpus reader checks files, then written
atomically under a safe generated name in ``added/``; a removal deletes the article's own file.
Either way the caller then refreshes the index incrementally."""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from embeddings.errors import NewsbotError
from embeddings.ingest.corpus import read_upload
from embeddings.models import Article, SkippedFile

ADDED = "added"  # the subfolder of the seeds folder that uploads go to
SUFFIXES = (".txt", ".md", ".html", ".json", ".jsonl")
_SLUG = re.compile(r"[^a-z0-9]+")


class UploadError(NewsbotError):
    """An upload or removal was refused; the message says why, and nothing was written."""


@dataclass(frozen=True, slots=True)
class Upload:
    """A stored upload: where it went (relative to the seeds folder) and its articles."""

    path: str
    articles: tuple[Article, ...]
    skipped: tuple[SkippedFile, ...]


def upload_name(name: str) -> str:
    """The safe relative path an upload named ``name`` is stored at: ``added/<slug>-<random>.<ext>``.
    Raises ``UploadError`` for a name with a path in it or an unsupported type."""
    if "/" in name or "\\" in name or "\x00" in name or name.strip().startswith(".") or ".." in name:
        raise UploadError("The file name must be a plain name, without a folder or path in it.")
    stem, dot, ext = name.strip().rpartition(".")
    suffix = f".{ext.lower()}" if dot else ""
    if suffix not in SUFFIXES:
        raise UploadError(f"Only {', '.join(SUFFIXES)} files can be added (got {name!r}).")
    return f"{ADDED}/{_slug(stem)}-{secrets.token_hex(3)}{suffix}"


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")[:40].strip("-") or "article"


def add_upload(
    seeds_dir: Path, name: str, data: bytes, *, max_file_bytes: int, max_article_chars: int, known_ids: set[str]
) -> Upload:
    """Check ``data`` (a file called ``name``) as the corpus reader would, then write it
    atomically into ``seeds_dir``. Refused (``UploadError``, nothing written) when it holds no
    usable article or an article whose id is already indexed (``known_ids``)."""
    rel = upload_name(name)
    items = read_upload(data, rel, max_file_bytes=max_file_bytes, max_article_chars=max_article_chars)
    articles = tuple(i for i in items if isinstance(i, Article))
    skipped = tuple(i for i in items if isinstance(i, SkippedFile))
    if not articles:
        reason = skipped[0].reason if skipped else "no article text found"
        raise UploadError(f"{name} was not added: {reason}.")
    taken = sorted(a.id for a in articles if a.id in known_ids)
    if taken:
        raise UploadError(f"{name} was not added: an article with the id {taken[0]} is already indexed.")
    _write_atomically(seeds_dir / rel, data)
    return Upload(rel, articles, skipped)


def text_upload(title: str, text: str) -> tuple[str, bytes]:
    """Pasted text and a title as a Markdown file (name, bytes) for ``add_upload``."""
    title = " ".join(title.split())
    if not title or not text.strip():
        raise UploadError("Give both a title and the article's text (or attach a file).")
    escaped = title.replace("\\", "\\\\").replace('"', '\\"')
    return f"{_slug(title)}.md", f'---\ntitle: "{escaped}"\n---\n\n{text.strip()}\n'.encode()


def remove_article(seeds_dir: Path, article: Article, indexed: Sequence[Article]) -> str:
    """Delete the file that holds ``article`` alone; return its relative path. A file holding
    other ``indexed`` articles too (a JSON list, JSONL) is left alone: ``UploadError`` says so."""
    rel = article.path.split(":")[0]
    if sum(1 for a in indexed if a.path.split(":")[0] == rel) > 1:
        raise UploadError(f"{article.title!r} is one of several articles in {rel}; edit that file instead.")
    path = seeds_dir / rel
    if not Path(os.path.realpath(path)).is_relative_to(os.path.realpath(seeds_dir)) or not path.is_file():
        raise UploadError(f"The file of {article.title!r} is no longer in the articles folder.")
    path.unlink()
    return rel


def _write_atomically(target: Path, data: bytes) -> None:
    # A hidden temporary name: the corpus reader skips it until it is complete and renamed.
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.link(tmp, target)  # fails rather than replace an existing file
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
