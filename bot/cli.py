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
from .cli_context import AsJson
from .cli_context import engine_of as _engine
from .cli_context import settings_of as _settings
from .cli_eval import evaluate, evaluate_news
from .cli_feedback import feedback_command
from .settings import AppSettings

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Answer questions about a folder of news articles.",
)
err = Console(stderr=True)
log = logging.getLogger("newsbot")


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
    handler = RichHandler(console=err, show_path=False, show_time=False)
    # The level on the handler too: a library that sets its own logger's level when it is
    # imported (bm25s: DEBUG, after this runs) would otherwise print its debug lines through it.
    handler.setLevel(settings.log_level)
    logging.basicConfig(level=settings.log_level, format="%(message)s", handlers=[handler])
    ctx.obj = {"settings": settings}


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


# Registered here, in this order, so that `newsbot --help` lists them as it always has.
app.command("eval")(evaluate)
app.command("eval-news")(evaluate_news)
app.command("feedback")(feedback_command)
