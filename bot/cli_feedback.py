"""``newsbot feedback``: the votes of the Discord buttons, counted, exported and turned into
regression questions. Registered on the app by ``bot.cli``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from . import render
from .cli_context import engine_of, settings_of


def feedback_command(
    ctx: typer.Context,
    export: Annotated[Path | None, typer.Option("--export", help="Write every vote as JSONL to FILE.")] = None,
    regressions: Annotated[
        Path | None, typer.Option("--regressions", help="Write the 👎-with-correction rows as questions (JSONL).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Ask those questions again; exit 1 if any still fails.")
    ] = False,
) -> None:
    """Feedback from the Discord buttons: counts, an export, and the corrected answers as regression questions."""
    from embeddings.feedback import open_feedback_store, regression_questions, row_to_dict

    store = open_feedback_store(settings_of(ctx))
    try:
        rows = list(store.rows())
        counts = store.counts()
    finally:
        store.close()
    if export is not None:
        _write_jsonl(export, (row_to_dict(r) for r in rows))
    questions = regression_questions(rows)
    if regressions is not None:
        _write_jsonl(
            regressions, ({"question": q.question, "expected": q.expected, "answer_id": q.answer_id} for q in questions)
        )
    typer.echo(
        f"{counts.answers} answers kept, {counts.up} 👍, {counts.down} 👎 ({counts.explained} with a reason), "
        f"{len(questions)} corrections"
    )
    if check:
        check_corrections(ctx, questions)


def check_corrections(ctx: typer.Context, questions: list | None = None) -> None:
    """Ask the 👎-with-correction questions again (all of the store's when ``questions`` is
    None); print each one still wrong and exit 1 if any is (``feedback --check``, ``eval --feedback``)."""
    from embeddings.feedback import open_feedback_store, passes, regression_questions

    if questions is None:
        store = open_feedback_store(settings_of(ctx))
        try:
            questions = regression_questions(list(store.rows()))
        finally:
            store.close()
    engine = engine_of(ctx)
    failed = [q for q in questions if not passes(q.expected, render.answer_text(engine.answer(q.question)))]
    for q in failed:
        typer.echo(f"still wrong: {q.question!r} (expected {q.expected!r})")
    typer.echo(f"{len(questions) - len(failed)}/{len(questions)} corrected questions now answered right")
    if failed:
        sys.exit(1)


def _write_jsonl(path: Path, rows) -> None:
    """Write ``rows`` as JSON lines, atomically (a temporary file renamed into place)."""
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)
