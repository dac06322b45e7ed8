"""Connections to the database: a psycopg 3 pool with timeouts that reconnects after a server
restart, the URL with its password masked (the only form ever logged or shown), and database
faults turned into one clear ``NewsbotError`` line."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import psycopg_pool
from psycopg import conninfo

from embeddings.errors import IndexUnavailableError

log = logging.getLogger(__name__)

_HIDDEN = "***"


def mask_url(url: str) -> str:
    """``url`` (a postgresql:// URL or a key=value string) without its password, as
    ``postgresql://user@host:port/dbname``; "(an unreadable database URL)" when it cannot be parsed."""
    try:
        parts = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable database URL)"
    user = str(parts.get("user") or "")
    host = str(parts.get("host") or "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    who = f"{user}{':' + _HIDDEN if parts.get('password') else ''}@" if user or parts.get("password") else ""
    if host.startswith("/"):  # a unix socket folder
        return f"postgresql://{who}/{parts.get('dbname') or ''}?host={host}"
    return f"postgresql://{who}{host}{port}/{parts.get('dbname') or ''}"


@dataclass(frozen=True)
class Database:
    """Where the database is and how long to wait for it: ``url`` (secret), ``timeout`` in
    seconds for connecting, waiting for a pooled connection and running one read."""

    url: str
    timeout: float = 10.0
    pool_size: int = 4

    @property
    def location(self) -> str:
        return mask_url(self.url)

    def connect(self, *, autocommit: bool = False) -> psycopg.Connection:
        """One dedicated connection (the writer's), without a statement timeout: an update may
        run long. Faults become IndexUnavailableError."""
        with faults(self.location):
            return psycopg.connect(self.url, autocommit=autocommit, **self._options(statement_timeout=False))

    def pool(self) -> psycopg_pool.ConnectionPool:
        """A pool for readers: every connection checked before it is lent, so that one broken
        by a server restart is replaced instead of failing a query. One connection is tried
        first, so that a database that cannot be reached says why (IndexUnavailableError)."""
        self.connect(autocommit=True).close()
        pool = psycopg_pool.ConnectionPool(
            self.url,
            min_size=1,
            max_size=self.pool_size,
            kwargs={"autocommit": True, **self._options(statement_timeout=True)},
            check=psycopg_pool.ConnectionPool.check_connection,
            timeout=self.timeout,
            reconnect_timeout=max(60.0, self.timeout),
            open=False,
            name="newsbot",
        )
        pool.open(wait=False)
        return pool

    def _options(self, *, statement_timeout: bool) -> dict[str, Any]:
        # The URL's own options (if any) come after ours, so they win.
        own = str(conninfo.conninfo_to_dict(self.url).get("options") or "")
        settings = "-c hnsw.iterative_scan=relaxed_order"
        if statement_timeout:
            settings += f" -c statement_timeout={int(self.timeout * 1000)}"
        return {
            "connect_timeout": max(1, round(self.timeout)),
            "options": f"{settings} {own}".strip(),
            "application_name": "newsbot",
            # A writer killed on another machine lets go of its lock once the server notices.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
        }


class Pooled:
    """``database``'s readers' pool, opened on first use. When the database fails
    (IndexUnavailableError), the pool is dropped: the next call starts a new one, whose first
    connection says at once whether the database is back, instead of waiting out the old
    pool's reconnection back-off. Shared by the search backend and the feedback store."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._pool: psycopg_pool.ConnectionPool | None = None
        self._lock = threading.Lock()

    def pool(self) -> psycopg_pool.ConnectionPool:
        with self._lock:
            if self._pool is None:
                self._pool = self.database.pool()
            return self._pool

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection (autocommit, with the read timeout); faults become
        IndexUnavailableError and drop the pool."""
        try:
            with faults(self.database.location), self.pool().connection() as conn:
                yield conn
        except IndexUnavailableError:
            self.close()
            raise

    def close(self) -> None:
        """Close the pool (it is opened again on the next call)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=1.0)


@contextlib.contextmanager
def faults(location: str) -> Iterator[None]:
    """Turn a database that cannot be reached, restarted or timed out into IndexUnavailableError
    (one line naming ``location``, never the password); other errors pass."""
    try:
        yield
    except (
        psycopg.OperationalError,
        psycopg_pool.PoolTimeout,
        psycopg_pool.PoolClosed,
        psycopg.errors.QueryCanceled,
    ) as exc:
        raise IndexUnavailableError(
            f"The database {location} cannot be reached right now ({reason(exc)}). "
            "Try again in a moment; newsbot reconnects by itself once it is back."
        ) from exc


def reason(exc: BaseException) -> str:
    """The first line of ``exc``'s message, shortened, without any password it might quote."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    text = text.split("password=")[0].rstrip(" ,;(") or type(exc).__name__
    return text[:200]
