"""The encoder variant chosen by measurement (NEWSBOT_ENCODER_BACKEND=auto): the real model,
real variants derived from the session's fp32 export, a small real batch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from embeddings.encoders import choice, load_encoder
from embeddings.encoders.choice import MIN_COSINE, choice_key, choice_path, load_auto_encoder, measure, sample_texts
from embeddings.encoders.cpu import CpuInfo
from embeddings.encoders.variants import variant_folder
from embeddings.settings import DEFAULT_MODEL, EngineSettings

SMALL = sample_texts()[:3]


@pytest.fixture
def cache(tmp_path: Path, encoder, model_cache: Path) -> Path:
    """A model cache of its own holding a copy of the session's exports (the ``encoder``
    fixture made them), without its measured choice: nothing is exported again."""
    own = tmp_path / "cache"
    for folder in model_cache.glob(f"{variant_folder(model_cache, DEFAULT_MODEL, '').name}*"):
        if folder.is_dir() and not folder.name.endswith("-choice"):
            shutil.copytree(folder, own / folder.name)
    return own


def test_the_fastest_variant_that_passes_the_gate_is_chosen(cache):
    result = measure(DEFAULT_MODEL, cache, key="k", candidates=("fp32", "int8-mixed-rr"), texts=SMALL)
    trials = {t.variant: t for t in result.trials}
    assert trials["fp32"].passed and trials["fp32"].cosine > 0.9999
    passed = [t for t in result.trials if t.passed]
    assert all(t.seconds and t.seconds > 0 for t in passed)
    assert result.variant == min(passed, key=lambda t: t.seconds or 0).variant
    assert result.variant in result.reason and "fp32" in result.reason


def test_the_cosine_gate_turns_away_a_variant_whose_vectors_stray(cache):
    # onnxruntime's default recipe (per-tensor int8 on every operator) drifts from fp32.
    result = measure(DEFAULT_MODEL, cache, key="k", candidates=("fp32", "int8-tensor"), texts=SMALL)
    bad = next(t for t in result.trials if t.variant == "int8-tensor")
    assert not bad.passed and bad.cosine < MIN_COSINE and bad.seconds is None
    assert result.variant == "fp32"
    assert "int8-tensor rejected (mean cosine" in result.reason


def test_the_choice_is_measured_once_per_cpu_features_and_onnxruntime(cache, monkeypatch):
    calls: list[str] = []
    real = choice.measure

    def counted(name, cache_dir, **options):
        calls.append(options["key"])
        return real(name, cache_dir, **{**options, "candidates": ("fp32", "int8-rr"), "texts": SMALL})

    monkeypatch.setattr(choice, "measure", counted)
    first = load_auto_encoder(DEFAULT_MODEL, cache)
    again = load_auto_encoder(DEFAULT_MODEL, cache)
    assert len(calls) == 1 and first.variant == again.variant and again.reason == first.reason
    import onnxruntime

    key = choice_key()
    assert (onnxruntime.__version__ in key and "avx2" in key) or "avx2" not in Path("/proc/cpuinfo").read_text()
    stored = json.loads(choice_path(cache, DEFAULT_MODEL, key).read_text())
    assert stored["variant"] == first.variant and stored["key"] == key
    # Another CPU kind measures again, into its own file, and leaves this one's alone.
    monkeypatch.setattr(choice, "cpu_info", lambda: CpuInfo("other", "x86_64", ("avx2", "avx512_vnni")))
    load_auto_encoder(DEFAULT_MODEL, cache)
    assert len(calls) == 2 and "avx512_vnni" in calls[1] and calls[1] != key
    assert json.loads(choice_path(cache, DEFAULT_MODEL, key).read_text()) == stored
    # A damaged choice file is measured again, not trusted.
    choice_path(cache, DEFAULT_MODEL, calls[1]).write_text("{not json")
    load_auto_encoder(DEFAULT_MODEL, cache)
    assert len(calls) == 3


@pytest.mark.parametrize(("backend", "variant"), [("onnx", "fp32"), ("onnx-int8", None)])
def test_the_backend_setting_overrides_the_measured_choice(cache, backend, variant):
    settings = EngineSettings(_env_file=None, encoder_backend=backend, model_cache_dir=cache)
    chosen = load_encoder(settings)
    assert chosen.variant == (variant or ("int8-rr" if "int8-rr" in chosen.variant else "int8"))
    assert chosen.reason == f"NEWSBOT_ENCODER_BACKEND={backend}"
    assert not list(cache.glob("*-choice"))  # nothing was measured


def test_two_processes_choosing_at_once_share_one_whole_cache(cache):
    script = (
        "import sys, pathlib\n"
        "from embeddings.encoders import choice\n"
        "choice.CANDIDATES = ('fp32', 'int8-rr')\n"
        f"e = choice.load_auto_encoder({DEFAULT_MODEL!r}, pathlib.Path(sys.argv[1]))\n"
        "e.encode(['a question'])\n"
        "print(e.variant)\n"
    )
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(cache)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=600) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outputs]
    assert outputs[0][0] == outputs[1][0]
    assert not list(cache.glob(".export-*")) and len(list(cache.glob("*-choice/*.json"))) == 1
