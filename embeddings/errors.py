"""The engine's one exception family: every message is fit to show a user as is."""

from __future__ import annotations

import errno
import os
import sqlite3


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


class QuestionFileError(NewsbotError):
    """An evaluation question file has a bad line (the message names the file and line)."""


class IndexWriteError(NewsbotError):
    """A new index generation could not be written (disk full, quota, read-only or forbidden
    data folder). Nothing of it is left behind and the previous index stays live."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code  # the errno that stopped the write

    @classmethod
    def from_exception(cls, exc: BaseException, data_dir: str | os.PathLike[str]) -> IndexWriteError | None:
        """The user-fit error for ``exc``, raised while writing the index in ``data_dir``, when
        it comes from the storage (ENOSPC, EDQUOT, EFBIG, EROFS, EACCES, EPERM, whether raised
        as OSError, by SQLite or by FAISS); None for anything else, which is a bug to surface."""
        code = _write_fault_code(exc, data_dir)
        if code is None:
            return None
        reason, advice = _WRITE_FAULTS[code]
        return cls(
            f"Could not write the new index: {reason} ({data_dir}). The previous index is "
            f"unchanged and still in use; {advice}",
            code,
        )


_WRITE_FAULTS = {
    errno.ENOSPC: ("no space left on the device", "free some space, then index again."),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space, then index again."),
    errno.EFBIG: ("a file would exceed the size limit", "raise the file size limit, then index again."),
    errno.EROFS: ("the file system is read-only", "make the data folder writable, then index again."),
    errno.EACCES: ("permission denied", "give newsbot write access to the data folder, then index again."),
    errno.EPERM: ("permission denied", "give newsbot write access to the data folder, then index again."),
}
_SQLITE_FAULTS = {"SQLITE_FULL": errno.ENOSPC, "SQLITE_READONLY": errno.EROFS, "SQLITE_PERM": errno.EACCES}
_FREE_SPACE_FLOOR = 256 * 1024  # bytes; a failed write that leaves less than this hit a full disk


def _write_fault_code(exc: BaseException, data_dir: str | os.PathLike[str]) -> int | None:
    code = _reported_code(exc, data_dir)
    if code == errno.ENOSPC and _has_room(data_dir) and _file_size_limited():
        return errno.EFBIG  # SQLite reports a file-size limit (EFBIG) as a full disk
    return code


def _has_room(data_dir: str | os.PathLike[str]) -> bool:
    try:
        fs = os.statvfs(data_dir)
    except OSError:
        return False
    return fs.f_bavail * fs.f_frsize >= _FREE_SPACE_FLOOR


def _file_size_limited() -> bool:
    try:
        import resource
    except ImportError:  # not on POSIX
        return False
    return resource.getrlimit(resource.RLIMIT_FSIZE)[0] != resource.RLIM_INFINITY


def _reported_code(exc: BaseException, data_dir: str | os.PathLike[str]) -> int | None:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        if isinstance(current, OSError) and current.errno in _WRITE_FAULTS:
            return current.errno
        code = _SQLITE_FAULTS.get(getattr(current, "sqlite_errorname", ""))
        if code is not None:
            return code
        text = str(current)  # FAISS raises RuntimeError with the C library's strerror in its text
        for code in _WRITE_FAULTS:
            if os.strerror(code) in text:
                return code
        current = current.__cause__ or current.__context__
    if not any(isinstance(e, (OSError, sqlite3.Error, RuntimeError)) for e in seen):
        return None
    # Some writers lose the errno (numpy: "N requested and M written"; SQLite: "unable to open
    # database file"), so ask the file system itself.
    try:
        fs = os.statvfs(data_dir)
    except OSError:
        return None
    if fs.f_flag & os.ST_RDONLY:
        return errno.EROFS
    if fs.f_bavail * fs.f_frsize < _FREE_SPACE_FLOOR:
        return errno.ENOSPC
    if _file_size_limited():  # SQLite turns EFBIG into "disk I/O error"
        return errno.EFBIG
    return None
