"""``newsbot eval`` and ``newsbot eval-news``: answer quality measured on SQuAD-format data and on
natural questions about the Wikinews corpus. Registered on the app by ``bot.cli``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import render
from .cli_context import AsJson, Mode, engine_of


def evaluate(
    ctx: typer.Context,
    file: Annotated[
        Path | None, typer.Argument(help="SQuAD v1.1-format JSON (or .zip); not needed with --feedback.")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    mode: Mode = "hybrid",
    holdout: Annotated[
        int,
        typer.Option(
            min=0, help="Leave every Nth article out of the index; its questions must be refused (0: keep all)."
        ),
    ] = 5,
    as_json: AsJson = False,
    feedback: Annotated[
        bool,
        typer.Option(
            "--feedback", help="Ask the 👎-with-correction questions of the feedback store again; exit 1 if any fails."
        ),
    ] = False,
) -> None:
    """Measure retrieval and answers on SQuAD-format data, in a temporary index."""
    from embeddings.evaluation import load_squad, run_evaluation

    if feedback:
        from .cli_feedback import check_corrections

        check_corrections(ctx)
        return
    if file is None:
        raise typer.BadParameter("give a SQuAD-format FILE, or --feedback", param_hint="FILE")
    engine = engine_of(ctx)
    result = run_evaluation(load_squad(file, limit=limit), engine.settings, engine.encoder, mode=mode, holdout=holdout)
    result = {"file": str(file), **result}
    if as_json:
        typer.echo(render.dumps(result))
    else:
        typer.echo("\n".join(f"{key:22} {_fmt(value)}" for key, value in result.items()))


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def evaluate_news(
    ctx: typer.Context,
    questions: Annotated[Path, typer.Argument(help="Folder of natural-question files (*.jsonl).")] = Path(
        "benchmarks/questions"
    ),
    corpus: Annotated[Path, typer.Option(help="The Wikinews JSONL corpus.")] = Path(
        "../shared/corpus/wikinews-en.jsonl"
    ),
    cache_dir: Annotated[Path, typer.Option(help="Where the whole-corpus index is kept for reruns.")] = Path(
        "data/natural-eval"
    ),
    setting: Annotated[
        list[str] | None, typer.Option("--setting", help="whole, small or heldout (repeatable; default: all).")
    ] = None,
    small_sizes: Annotated[str, typer.Option(help="Other articles per small corpus, comma-separated.")] = "5,50",
    seed: Annotated[int, typer.Option(help="Seed of the small corpora's random articles.")] = 0,
    details: Annotated[
        Path | None,
        typer.Option(help="Also write one JSON line per question and setting (answer, hits, failure) to this file."),
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Measure answers on natural questions about the Wikinews corpus: the whole corpus, small
    corpora and held-out articles (see docs/EVALUATION.md, "Natural questions")."""
    from embeddings.natural.corpora import read_corpus_file
    from embeddings.natural.questions import load_questions
    from embeddings.natural.runner import SETTINGS, run_natural

    which = tuple(setting or SETTINGS)
    if bad := [s for s in which if s not in SETTINGS]:
        raise typer.BadParameter(f"unknown setting {', '.join(bad)} (one of {', '.join(SETTINGS)})")
    sizes = tuple(int(n) for n in small_sizes.split(",") if n.strip())
    articles, digest = read_corpus_file(corpus)
    asked = load_questions(questions, {a.id for a in articles.articles})
    engine = engine_of(ctx)
    result = run_natural(
        asked,
        articles,
        digest,
        engine.settings,
        engine.encoder,
        cache_dir=cache_dir,
        which=which,
        sizes=sizes,
        seed=seed,
        details=details,
    )
    result = {"questions_dir": str(questions), "corpus": str(corpus), **result}
    typer.echo(render.dumps(result) if as_json else _natural_table(result))


def _natural_table(result: dict) -> str:
    """One column per setting and split, one row per score."""
    facts = [f"{key:22} {value}" for key, value in result.items() if not isinstance(value, dict)]
    columns = [
        (f"{name}/{split}", scores) for name, v in result.items() if isinstance(v, dict) for split, scores in v.items()
    ]
    if not columns:
        return "\n".join(facts)
    header = f"{'':28}" + "".join(f"{name:>16}" for name, _ in columns)
    rows = [f"{key:28}" + "".join(f"{_fmt(s[key]):>16}" for _, s in columns) for key in columns[0][1]]
    return "\n".join([*facts, "", header, *rows])
