"""What /status reports about the running bot: answer latencies and the last reload."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import datetime

from embeddings.models import IndexReport


@dataclass(frozen=True, slots=True)
class Latencies:
    """Percentiles, in seconds, of the last ``count`` engine answers."""

    count: int
    p50: float
    p95: float
    max: float


class LatencyTracker:
    """Keeps the durations of the most recent answers (event loop only, no lock needed)."""

    def __init__(self, keep: int = 1000) -> None:
        self._seconds: deque[float] = deque(maxlen=keep)

    def record(self, seconds: float) -> None:
        self._seconds.append(seconds)

    def summary(self) -> Latencies | None:
        """Nearest-rank percentiles of what was recorded, or None before the first answer."""
        if not self._seconds:
            return None
        ordered = sorted(self._seconds)
        return Latencies(len(ordered), _rank(ordered, 0.50), _rank(ordered, 0.95), ordered[-1])


def _rank(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


@dataclass(frozen=True, slots=True)
class ReloadRecord:
    """One finished /reload: who ran it, when it ended, and what it did (or why it failed)."""

    by: str
    at: datetime
    report: IndexReport | None = None
    error: str | None = None
