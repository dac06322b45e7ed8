"""What every ``newsbot`` command reads from its typer context, shared by the modules that
define commands (``cli``, ``cli_eval``, ``cli_feedback``): the settings ``main()``'s callback
built, the engine built from them on first use, and the option types used by several commands."""

from __future__ import annotations

from typing import Annotated

import typer

from embeddings.settings import RetrievalMode

from .settings import AppSettings

# typer turns the engine's own Literal into the option's choices: one type, no CLI twin of it.
Mode = Annotated[RetrievalMode, typer.Option("--mode", help="How to search: BM25 and dense fused, or one alone.")]
AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def settings_of(ctx: typer.Context) -> AppSettings:
    """The process's settings, built once by the app's callback."""
    return ctx.obj["settings"]


def engine_of(ctx: typer.Context):
    """The engine with its model, built once per process."""
    if "engine" not in ctx.obj:
        from embeddings.encoders import load_encoder
        from embeddings.engine import Engine

        settings = settings_of(ctx)
        ctx.obj["engine"] = Engine(settings, load_encoder(settings))
    return ctx.obj["engine"]
