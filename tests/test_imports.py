"""The engine is usable without Discord: importing it must not load discord.py."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import embeddings


def test_importing_every_engine_module_loads_no_discord():
    modules = [m.name for m in pkgutil.walk_packages(embeddings.__path__, "embeddings.")]
    assert {"embeddings.engine", "embeddings.retrieval", "embeddings.index.indexer"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'discord' or m.startswith('discord.'))\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
