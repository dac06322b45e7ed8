"""Per-stage timing of a query, recorded only when someone asks (benchmarks, debugging).

``with recording() as stages: engine.answer(q)`` leaves e.g. ``{"encode": 0.004, "dense": ...}``
in ``stages`` (seconds); outside ``recording`` each ``stage`` costs one context-variable read.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_recorder: ContextVar[dict[str, float] | None] = ContextVar("newsbot_stages", default=None)


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Add the time spent inside the block to stage ``name`` of the active recording, if any."""
    stages = _recorder.get()
    if stages is None:
        yield
        return
    started = time.perf_counter()
    try:
        yield
    finally:
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - started


@contextmanager
def recording() -> Iterator[dict[str, float]]:
    """Record the stages of whatever runs inside the block (in this thread or task)."""
    stages: dict[str, float] = {}
    token = _recorder.set(stages)
    try:
        yield stages
    finally:
        _recorder.reset(token)
