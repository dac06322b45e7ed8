"""The shape of ``bot/``: its modules import each other without cycles.

Every import counts, also those under ``if TYPE_CHECKING:`` and inside functions: a cycle that
only type checkers or a late import can see is still two modules that cannot be understood (or
changed) one without the other.
"""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"


def _imported(tree: ast.Module, package: str, modules: set[str]) -> set[str]:
    """The modules of ``package`` that ``tree`` imports, by their short names."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level == 0 and not base.startswith(package):
                continue
            base = base.removeprefix(package).lstrip(".")
            # "from . import render" names a module; "from .send import tell" names one by its path.
            names = [base] if base else [alias.name for alias in node.names]
            names = [f"{package}.{n}" for n in names]
        else:
            continue
        found |= {n.removeprefix(f"{package}.").split(".")[0] for n in names if n.startswith(f"{package}.")}
    return found & modules


def import_graph(folder: Path) -> dict[str, set[str]]:
    """Each module of the package in ``folder`` and the package modules it imports."""
    modules = {p.stem for p in folder.glob("*.py") if p.stem != "__init__"}
    return {
        name: _imported(ast.parse((folder / f"{name}.py").read_text(encoding="utf-8")), folder.name, modules)
        for name in modules
    }


def test_the_import_graph_sees_relative_and_absolute_imports():
    graph = import_graph(BOT)
    assert {"channel", "commands", "state"} <= graph["client"]
    assert "render" in graph["cli"] and "serve" in graph["cli"]  # "from . import render", a late import


def test_bot_modules_import_each_other_without_cycles():
    graph = import_graph(BOT)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle in bot/: {' -> '.join(exc.args[1])}") from None
    assert set(order) == set(graph)


def test_commands_and_channel_questions_do_not_know_the_client():
    graph = import_graph(BOT)
    for name in ("commands", "channel", "state", "pages"):
        assert "client" not in graph[name], name
    assert "channel" not in graph["commands"] and "commands" not in graph["channel"]
