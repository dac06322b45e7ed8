"""Application settings: the engine's, plus what the command line and the bot need."""

from __future__ import annotations

from typing import Literal

from embeddings.settings import EngineSettings


class AppSettings(EngineSettings):
    """All settings of a newsbot process; build once in ``main()``."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
