"""The ``newsbot`` command line: the composition root that builds settings, model and index
once and hands them to the engine."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from embeddings.errors import IndexCorruptError, IndexMismatchError, IndexMissingError, NewsbotError
from embeddings.requests import fulfil, parse_request
from embeddings.settings import RetrievalMode

from . import render
from .settings import AppSettings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Answer questions about a folder of news articles.",
)
err = Console(stderr=True)
log = logging.getLogger("newsbot")

# typer turns the engine's own Literal into the option's choices: one type, no CLI twin of it.
Mode = Annotated[RetrievalMode, typer.Option("--mode", help="How to search: BM25 and dense fused, or one alone.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def main() -> None:
    """Console-script entry point: run the app and turn engine errors into one line + exit 1."""
    try:
        app(standalone_mode=False)
    except NewsbotError as exc:
        _fail(str(exc))
    except ValidationError as exc:  # a bad NEWSBOT_* value in the environment or .env
        problems = "; ".join(f"{_env_name(e['loc'])}: {e['msg']}" for e in exc.errors())
        _fail(f"invalid setting: {problems}")
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:  # click usage errors carry their own exit code
        code = getattr(exc, "exit_code", None)
        if code is None:
            raise
        if hasattr(exc, "show"):
            exc.show()
        sys.exit(code)


def _env_name(loc: tuple) -> str:
    """The variable a settings error is about: un-prefixed aliases (DISCORD_TOKEN) as they are."""
    name = "_".join(map(str, loc))
    return name if name.isupper() else f"NEWSBOT_{name.upper()}"


def _fail(message: str) -> None:
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    sys.exit(1)


@app.callback()
def _setup(ctx: typer.Context) -> None:
    settings = AppSettings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(message)s",
        handlers=[RichHandler(console=err, show_path=False, show_time=False)],
    )
    logging.getLogger("bm25s").setLevel(max(logging.INFO, logging.getLogger().level))
    ctx.obj = {"settings": settings}


def _settings(ctx: typer.Context) -> AppSettings:
    return ctx.obj["settings"]


def _engine(ctx: typer.Context):
    """The engine with its model, built once per process."""
    if "engine" not in ctx.obj:
        from embeddings.encoders import load_encoder
        from embeddings.engine import Engine

        settings = _settings(ctx)
        ctx.obj["engine"] = Engine(settings, load_encoder(settings))
    return ctx.obj["engine"]


class _SpeedColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed or 0:6.1f} chunks/s")


class _RichIndexProgress:
    """Shows embedding progress with chunks per second."""

    def __init__(self, progress: Progress) -> None:
        self._progress = progress
        self._task: TaskID | None = None

    def begin(self, total_chunks: int) -> None:
        self._task = self._progress.add_task("embedding", total=total_chunks)

    def advance(self, chunks: int) -> None:
        self._progress.advance(self._task, chunks)


@app.command()
def index(
    ctx: typer.Context,
    seeds: Annotated[Path | None, typer.Option(help="Article folder (default NEWSBOT_SEEDS_DIR).")] = None,
    rebuild: Annotated[bool, typer.Option(help="Start from scratch (after a model change).")] = False,
    as_json: AsJson = False,
) -> None:
    """Build or update the index from the seeds folder (only new or changed articles are embedded)."""
    engine = _engine(ctx)
    if not rebuild and _damaged(engine, seeds):
        rebuild = True  # a damaged index cannot be updated; the seeds hold everything to rebuild it
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _SpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=as_json,
    ) as progress:
        report = engine.refresh(seeds, rebuild=rebuild, progress=_RichIndexProgress(progress))
    if as_json:
        typer.echo(render.dumps(render.report_to_dict(report)))
        return
    for skipped in report.skipped:
        err.print(f"skipped {skipped.path}: {skipped.reason}", highlight=False, markup=False, soft_wrap=True)
    typer.echo(report.summary())


def _damaged(engine, seeds: Path | None = None) -> bool:
    """Whether the live index exists but cannot be loaded (logged as a warning)."""
    try:
        engine.check_index()
    except IndexCorruptError as exc:
        log.warning("%s Rebuilding it from %s instead.", exc, seeds or engine.settings.seeds_dir)
        return True
    except IndexMissingError:
        pass
    return False


def _load_or_rebuild(engine) -> None:
    """Load the index at start-up; when it is damaged or was built with other settings, warn
    and rebuild it from the seeds folder (it holds everything the index does), then go on.
    A missing index still raises IndexMissingError."""
    try:
        engine.load()
    except (IndexCorruptError, IndexMismatchError) as exc:
        log.warning("%s Rebuilding it from %s instead.", exc, engine.settings.seeds_dir)
        with Progress(
            TextColumn("rebuilding the index"),
            BarColumn(),
            MofNCompleteColumn(),
            _SpeedColumn(),
            console=err,
            transient=True,
        ) as progress:
            report = engine.refresh(rebuild=True, progress=_RichIndexProgress(progress))
        log.warning("Index rebuilt: %s", report.summary())


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="What to look for.")],
    k: Annotated[
        int | None, typer.Option("--k", "-k", min=1, max=100, help="How many passages (default: NEWSBOT_SEARCH_K).")
    ] = None,
    mode: Annotated[
        RetrievalMode | None, typer.Option("--mode", help="hybrid, dense or bm25 (default: NEWSBOT_RETRIEVAL_MODE).")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """Show the passages that best match QUERY."""
    hits = _engine(ctx).search(query, k, mode)
    if as_json:
        typer.echo(render.dumps([render.hit_to_dict(i, h) for i, h in enumerate(hits, 1)]))
    elif not hits:
        typer.echo("No matching passages.")
    else:
        typer.echo("\n\n".join(render.hit_text(i, h) for i, h in enumerate(hits, 1)))


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="Your question, or - to read one question per line from stdin.")],
    as_json: AsJson = False,
) -> None:
    """Answer QUESTION from the articles: short answer, quoted evidence, citation."""
    engine = _engine(ctx)
    if question != "-":
        answer = engine.answer(question)
        typer.echo(render.dumps(render.answer_to_dict(answer)) if as_json else render.answer_text(answer))
        return
    for line in sys.stdin:  # one model load for all the questions
        if line.strip():
            typer.echo(_ask_line(engine, line.strip()))


def _ask_line(engine, question: str) -> str:
    try:
        return json.dumps(render.answer_to_dict(engine.answer(question)), ensure_ascii=False)
    except NewsbotError as exc:  # one bad line must not end the batch
        return json.dumps({"question": question, "error": str(exc)}, ensure_ascii=False)


@app.command()
def chat(ctx: typer.Context) -> None:
    """Ask questions in the terminal, one per line; follow-ups ("and where?") refer to the
    conversation so far; "summarize …", "timeline of …" and "help" work too. An empty line,
    'quit' or Ctrl-D leaves."""
    engine = _engine(ctx)
    _load_or_rebuild(engine)
    status = engine.status()
    typer.echo(f"newsbot: {status.articles} articles, {status.chunks} passages. Ask me about them.")
    history: list[str] = []
    while True:
        try:
            line = input("you> ").strip()
        except EOFError:
            break
        if line.lower() in ("", "quit", "exit", "q"):
            break
        try:
            request = parse_request(line)  # "summarize …", "timeline of …", "help" as well as questions
            typer.echo(render.reply_text(fulfil(engine, request, history)))
            if request.kind == "question":
                history.append(line)
        except NewsbotError as exc:
            typer.echo(str(exc))
        typer.echo("")


@app.command()
def summary(
    ctx: typer.Context,
    article: Annotated[str | None, typer.Argument(help="Article id, exact title or a few words of it.")] = None,
    topic: Annotated[str | None, typer.Option("--topic", help="Digest across the articles about this.")] = None,
    as_json: AsJson = False,
) -> None:
    """Summarise one article in 3-5 sentences, or give a cited digest of a topic."""
    if (article is None) == (topic is None):
        raise typer.BadParameter("give either an ARTICLE or --topic, not both")
    engine = _engine(ctx)
    result = engine.summarize(article) if article is not None else engine.summarize_topic(topic)
    typer.echo(render.dumps(render.summary_to_dict(result)) if as_json else render.summary_text(result))


@app.command()
def serve(ctx: typer.Context) -> None:
    """Run the Discord bot until stopped (needs DISCORD_TOKEN; see README, "Discord bot")."""
    from .serve import config_problem
    from .serve import serve as serve_bot

    settings = _settings(ctx)
    problem = config_problem(settings)  # before the model loads, so a missing token fails fast
    if problem:
        _fail(problem)
    engine = _engine(ctx)
    # A missing, damaged or mismatched index is built in the background once the bot is connected.
    code = serve_bot(settings, engine)
    if code:
        sys.exit(code)  # main() runs with standalone_mode=False, which drops typer.Exit codes


@app.command()
def migrate(
    ctx: typer.Context,
    data_dir: Annotated[
        Path | None, typer.Option("--from", help="The local index folder to copy (default NEWSBOT_DATA_DIR).")
    ] = None,
) -> None:
    """Copy the local index into the database NEWSBOT_DATABASE_URL names, vectors and all (nothing is re-embedded)."""
    from embeddings.index.local import LocalBackend
    from embeddings.index.pg import PostgresBackend
    from embeddings.index.pg.connection import Database
    from embeddings.index.pg.migrate import migrate as copy_index

    settings = _settings(ctx)
    if settings.database_url is None:
        _fail("newsbot migrate needs NEWSBOT_DATABASE_URL=postgresql://... (the database to copy the index into).")
    source = LocalBackend(data_dir or settings.data_dir)
    live = source.live_manifest()
    if live is None:
        raise IndexMissingError(f"There is no index in {source.location} to copy. Build it with `newsbot index`.")
    database = Database(
        settings.database_url.get_secret_value(), settings.database_timeout, settings.database_pool_size
    )
    target = PostgresBackend(database, int(live["dimension"]))
    stored = copy_index(source, target)
    typer.echo(
        f"copied {stored['articles']} articles and {stored['chunks']} chunks from {source.location} "
        f"into {target.location} (generation {stored['generation']})"
    )


@app.command()
def articles(ctx: typer.Context, as_json: AsJson = False) -> None:
    """List the indexed articles, newest first."""
    rows = _engine(ctx).live_articles()
    if as_json:
        typer.echo(render.dumps([render.article_to_dict(a) for a in rows]))
        return
    for a in rows:
        typer.echo(f"{a.published or '(undated)':10}  {a.id}  {a.title}")
    typer.echo(f"{len(rows)} articles")


@app.command()
def status(ctx: typer.Context, as_json: AsJson = False) -> None:
    """Describe the index: size, model, chunking, build time."""
    engine = _engine(ctx)
    s = engine.live_status()
    info = {
        "articles": s.articles,
        "chunks": s.chunks,
        "model": s.model,
        "dimension": s.dimension,
        "chunk_tokens": s.chunk_tokens,
        "overlap_sentences": s.overlap_sentences,
        "built_at": s.built_at,
        "path": s.path,
        "encoder": getattr(engine.encoder, "variant", "unknown"),  # the variant running now, and why
        "encoder_reason": getattr(engine.encoder, "reason", ""),
    }
    if as_json:
        typer.echo(render.dumps(info))
    else:
        typer.echo("\n".join(f"{key:18} {value}" for key, value in info.items()))


@app.command("eval")
def evaluate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="SQuAD v1.1-format JSON (or .zip).")],
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N questions.")] = None,
    mode: Mode = "hybrid",
    holdout: Annotated[
        int,
        typer.Option(
            min=0, help="Leave every Nth article out of the index; its questions must be refused (0: keep all)."
        ),
    ] = 5,
    as_json: AsJson = False,
) -> None:
    """Measure retrieval and answers on SQuAD-format data, in a temporary index."""
    from embeddings.evaluation import load_squad, run_evaluation

    engine = _engine(ctx)
    result = run_evaluation(load_squad(file, limit=limit), engine.settings, engine.encoder, mode=mode, holdout=holdout)
    result = {"file": str(file), **result}
    if as_json:
        typer.echo(render.dumps(result))
    else:
        typer.echo("\n".join(f"{key:22} {_fmt(value)}" for key, value in result.items()))


def _fmt(value) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@app.command("eval-news")
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
    engine = _engine(ctx)
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


@app.command("feedback")
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
    from embeddings.feedback import open_feedback_store, passes, regression_questions, row_to_dict

    store = open_feedback_store(_settings(ctx))
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
        engine = _engine(ctx)
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
