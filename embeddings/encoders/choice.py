"""NEWSBOT_ENCODER_BACKEND=auto: the ONNX variant chosen by measurement on this machine.

On first use each candidate variant (``variants.CANDIDATES``) embeds one fixed batch of
news-like texts; a variant whose vectors stray from the fp32 export's (mean cosine below
``MIN_COSINE``) is turned away; the others are timed in interleaved rounds, best of
``ROUNDS``, and the fastest wins. The choice is written to the model cache (atomically) under a
name made of the CPU's kernel-relevant features and the onnxruntime version, so a new CPU kind
or a new onnxruntime measures again and every later process just reads it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.encoders.cpu import cpu_info
from embeddings.encoders.export import EXPORT_VERSION, cache_lock, slug
from embeddings.encoders.onnx import OnnxEncoder
from embeddings.encoders.variants import CANDIDATES, load_variant, prepare

log = logging.getLogger(__name__)

MIN_COSINE = 0.995
ROUNDS = 4
# The timed batch is the sample twice over, in one batch: int8's per-batch quantisation steps cost
# relatively more on tiny batches than on the ingest's, so a too-small batch favours fp32.
TIMED_COPIES = 2
CHOICE_VERSION = 1

# Eight short news stories written for this purpose (60-80 word pieces each, about half a
# chunk): the fixed batch every variant is measured and checked on.
SAMPLE_TEXTS = (
    "The city council voted on Tuesday to extend the tram line to three northern districts by 2028. "
    "The project will cost an estimated 410 million euros, most of it paid by the regional government. "
    "Opponents said the route would cut through a protected wetland, and a local group has promised "
    "to challenge the decision in court. Work on the first section is due to begin next spring.",
    "Heavy rain caused flooding across the coastal province over the weekend, forcing about 2,300 "
    "people from their homes. Emergency services said two fishermen were still missing after their "
    "boat overturned near the harbour on Saturday night. The weather service expects the rain to ease "
    "by Wednesday, but warned that rivers could keep rising for several days.",
    "The central bank raised its main interest rate by a quarter of a percentage point to 4.75%, its "
    "third increase this year. The governor told reporters that inflation, at 6.1% in October, "
    'remained "far too high" and that further rises could not be ruled out. Shares in the country\'s '
    "largest lenders rose after the announcement, while the currency barely moved.",
    "Researchers at the university hospital reported that a new treatment halved the number of "
    "readmissions among heart-failure patients in a trial of 1,800 people. The results, published in "
    "a medical journal on Thursday, were welcomed by doctors, though some cautioned that the study "
    "lasted only eighteen months. A larger trial is planned across five countries.",
    "The home side came from two goals down to win 3-2 in front of a sold-out crowd of 52,000. "
    "Their captain scored the winner in the 89th minute, heading in a corner from the left. The "
    "result lifts the club to second place in the league, one point behind the leaders, with six "
    "matches left to play. The coach praised his players' patience after the break.",
    "Mr. Okafor, the opposition leader, accused the government of hiding the true cost of the new "
    "airport, which he put at twice the official figure. The transport minister rejected the claim "
    "and said an independent audit would be published in January. Parliament is expected to vote on "
    "the airport's funding before the end of the month.",
    "Exports of wheat fell by 18% in the first quarter compared with a year earlier, according to "
    "figures released by the agriculture ministry on Monday. Officials blamed a dry winter and higher "
    "shipping costs, and said farmers had planted more barley instead. Traders expect prices in the "
    "region to stay high until the summer harvest.",
    "Police closed the old river bridge on Friday evening after engineers found cracks in one of its "
    "stone supports. Drivers were told to expect delays of up to an hour on the bypass. The bridge, "
    "built in 1887, carries about 14,000 vehicles a day; the council said repairs could take several "
    "weeks and would begin as soon as the inspection was complete.",
)


def sample_texts() -> list[str]:
    """The fixed batch the variants are measured on (``SAMPLE_TEXTS``)."""
    return list(SAMPLE_TEXTS)


@dataclass(frozen=True, slots=True)
class Trial:
    """One candidate's result: its best time on the batch (None when it was not timed), its
    mean cosine to the fp32 vectors, whether it passed the gate, and why not."""

    variant: str
    seconds: float | None
    cosine: float
    passed: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class Choice:
    """The measured choice for one CPU kind and onnxruntime version."""

    variant: str
    key: str
    trials: tuple[Trial, ...]
    measured_at: str
    version: int = CHOICE_VERSION

    @property
    def reason(self) -> str:
        """Why this variant runs, in one line (``newsbot status`` and the benchmarks show it)."""
        timed = sorted((t for t in self.trials if t.passed and t.seconds), key=lambda t: t.seconds or 0.0)
        ranking = ", ".join(f"{t.variant} {1000 * (t.seconds or 0):.0f} ms" for t in timed)
        rejected = "; ".join(f"{t.variant} rejected ({t.note})" for t in self.trials if not t.passed)
        return f"auto: fastest passing variant on {self.key} (measured {self.measured_at}): {ranking}" + (
            f"; {rejected}" if rejected else ""
        )


def choice_key() -> str:
    """What a measured choice is valid for: the CPU's features and the onnxruntime version."""
    import onnxruntime

    return f"{cpu_info().key}-onnxruntime-{onnxruntime.__version__}"


def choice_path(cache_dir: Path, name: str, key: str) -> Path:
    return cache_dir / f"{slug(name)}-e{EXPORT_VERSION}-choice" / f"{key}.json"


def load_auto_encoder(name: str, cache_dir: Path, *, threads: int = 0, key: str | None = None) -> OnnxEncoder:
    """The fastest passing variant of ``name`` on this machine, measured on first use (and
    whenever the CPU kind or onnxruntime changes) and cached in ``cache_dir``."""
    path = choice_path(cache_dir, name, key or choice_key())
    choice = read_choice(path)
    if choice is None:
        with cache_lock(cache_dir, name):  # a second process waits here, then reads the first one's choice
            choice = read_choice(path) or measure(name, cache_dir, key=key or choice_key(), threads=threads)
            write_choice(path, choice)
    log.info("encoder variant %s (%s)", choice.variant, choice.reason)
    return load_variant(name, cache_dir, choice.variant, threads=threads, reason=choice.reason)


def measure(
    name: str,
    cache_dir: Path,
    *,
    key: str,
    threads: int = 0,
    candidates: tuple[str, ...] | None = None,
    texts: list[str] | None = None,
) -> Choice:
    """Make each candidate variant (the caller holds ``cache_lock``), gate it on its cosine to
    fp32 and time the ones that pass; the fastest is the choice."""
    texts, candidates = texts or sample_texts(), candidates or CANDIDATES
    reference = OnnxEncoder(name, prepare(name, cache_dir, "fp32"), threads=threads)
    expected = reference.encode(texts, batch_size=len(texts))
    trials: dict[str, Trial] = {}
    passing: dict[str, OnnxEncoder] = {}
    for variant in candidates:
        try:
            encoder = (
                reference
                if variant == "fp32"
                else OnnxEncoder(name, prepare(name, cache_dir, variant), threads=threads)
            )
            cosine = cosine_to(expected, encoder.encode(texts, batch_size=len(texts)))
        except Exception as exc:  # a recipe this model or onnxruntime does not support
            log.warning("the %s variant could not be made (%s: %s)", variant, type(exc).__name__, exc)
            trials[variant] = Trial(variant, None, 0.0, False, f"{type(exc).__name__}")
            continue
        if cosine < MIN_COSINE:
            trials[variant] = Trial(variant, None, cosine, False, f"mean cosine {cosine:.4f} < {MIN_COSINE}")
        else:
            passing[variant] = encoder
            trials[variant] = Trial(variant, None, cosine, True)
    best = _time_interleaved(passing, texts)
    for variant, seconds in best.items():
        trials[variant] = Trial(variant, round(seconds, 4), round(trials[variant].cosine, 5), True)
    chosen = min(best, key=best.__getitem__) if best else "fp32"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return Choice(chosen, key, tuple(trials[v] for v in candidates), stamp)


def _time_interleaved(encoders: dict[str, OnnxEncoder], texts: list[str]) -> dict[str, float]:
    """Best of ``ROUNDS`` per encoder, the encoders taking turns so that a busy moment of the
    machine hits them alike."""
    best = dict.fromkeys(encoders, float("inf"))
    batch = texts * TIMED_COPIES
    for _ in range(ROUNDS):
        for variant, encoder in encoders.items():
            started = time.perf_counter()
            encoder.encode(batch, batch_size=len(batch))
            best[variant] = min(best[variant], time.perf_counter() - started)
    return best


def read_choice(path: Path) -> Choice | None:
    """The choice stored at ``path``, or None if there is none or it is unreadable or outdated."""
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != CHOICE_VERSION or data.get("export_version") != EXPORT_VERSION:
            return None
        trials = tuple(Trial(**t) for t in data["trials"])
        return Choice(data["variant"], data["key"], trials, data["measured_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_choice(path: Path, choice: Choice) -> None:
    """Store ``choice`` at ``path`` atomically: written beside, fsynced, renamed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {**asdict(choice), "export_version": EXPORT_VERSION, "reason": choice.reason}
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def cosine_to(reference: np.ndarray, vectors: np.ndarray) -> float:
    """Mean cosine of unit row vectors to their reference rows."""
    return float((reference * vectors).sum(axis=1).mean())
