"""What ``newsbot`` prints is its own: no library's log lines at the default log level (bm25s
sets its logger to DEBUG when it is imported, after the command line has set up logging)."""

from __future__ import annotations

from pathlib import Path

from ..conftest import SEED
from .test_cli import run


def test_newsbot_index_prints_its_report_and_no_library_debug_lines(tmp_path: Path, encoder):
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / SEED.name).write_bytes(SEED.read_bytes())
    for args in (["index"], ["index", "--rebuild"]):
        result = run(args, tmp_path)
        assert result.returncode == 0, result.stderr
        assert "articles: 1 added" in result.stdout, result.stdout
        printed = (result.stdout + result.stderr).splitlines()
        strays = [line for line in printed if "DEBUG" in line or "Building index" in line or "bm25s" in line]
        assert strays == [], strays
