"""The engine's one exception family: every message is fit to show a user as is."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base of every error the engine raises on purpose; ``str(err)`` is a user-fit message."""


class CorpusError(NewsbotError):
    """The seeds folder cannot be read at all (missing, not a directory)."""


class IndexMissingError(NewsbotError):
    """No index has been built yet in the data directory."""


class IndexMismatchError(NewsbotError):
    """The index on disk was built with another model or chunking settings."""


class IndexCorruptError(NewsbotError):
    """A file of the index on disk cannot be read."""


class IndexBusyError(NewsbotError):
    """Another process or task is writing the index right now."""


class QueryError(NewsbotError):
    """The question or search text cannot be used (empty, too long)."""


class ArticleNotFoundError(NewsbotError):
    """No article matches the given id or title."""
