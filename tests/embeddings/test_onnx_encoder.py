"""The ONNX Runtime encoder: same word pieces and (nearly) the same vectors as the torch path,
exported once and then loaded without torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from embeddings.encoders.onnx import CONFIG
from embeddings.encoders.variants import load_variant, variant_folder
from embeddings.errors import NewsbotError
from embeddings.settings import DEFAULT_MODEL

TEXTS = [
    "When does the SCO security meeting happen?",
    "The secretaries of the Security Councils of the SCO member states will meet on May 21-22 in Beijing.",
    "short",
    "Storms closed the harbour bridge for three days; tolls were suspended. " * 30,  # past the window
    "",
]


def test_int8_vectors_stay_close_to_torch_ones(encoder, torch_encoder):
    ours, reference = encoder.encode(TEXTS), torch_encoder.encode(TEXTS)
    assert ours.shape == reference.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() > 0.97, cosines


def test_fp32_export_matches_torch_exactly(model_cache, encoder, torch_encoder):
    fp32 = load_variant(DEFAULT_MODEL, model_cache, "fp32")
    cosines = (fp32.encode(TEXTS) * torch_encoder.encode(TEXTS)).sum(axis=1)
    assert cosines.min() > 0.9999, cosines


def test_word_piece_counts_match_the_torch_tokenizer(encoder, torch_encoder):
    assert encoder.count_tokens(TEXTS) == torch_encoder.count_tokens(TEXTS)
    assert encoder.max_tokens == torch_encoder.max_tokens and encoder.dimension == torch_encoder.dimension


def test_batches_sorted_by_length_come_back_in_the_callers_order(encoder):
    together = encoder.encode(TEXTS, batch_size=2)
    alone = np.vstack([encoder.encode([t]) for t in TEXTS])
    # int8 activations are scaled per batch, so batch-mates nudge a vector slightly; each row
    # must still be its own text's vector, not a neighbour's.
    similarity = together @ alone.T
    assert list(similarity.argmax(axis=1)) == list(range(len(TEXTS)))
    assert similarity.diagonal()[:-1].min() > 0.98, similarity.diagonal()  # the empty text varies most
    seen = []
    encoder.encode(TEXTS, batch_size=2, progress=seen.append)
    assert sum(seen) == len(TEXTS)


def test_a_cached_export_loads_without_importing_torch(encoder, model_cache):
    script = (
        "import sys, pathlib\n"
        "from embeddings.encoders import load_encoder\n"
        "from embeddings.settings import EngineSettings\n"
        f"e = load_encoder(EngineSettings(_env_file=None, model_cache_dir=pathlib.Path({str(model_cache)!r})))\n"
        "e.encode(['a question'])\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_a_damaged_export_is_redone(tmp_path, model_cache, encoder):
    cache = tmp_path / "cache"
    shutil.copytree(variant_folder(model_cache, DEFAULT_MODEL, "fp32"), variant_folder(cache, DEFAULT_MODEL, "fp32"))
    first = load_variant(DEFAULT_MODEL, cache, encoder.variant)
    (first.folder / "model.onnx").write_bytes(b"not a model")
    again = load_variant(DEFAULT_MODEL, cache, encoder.variant)
    assert np.allclose(again.encode(TEXTS[:2]), encoder.encode(TEXTS[:2]), atol=1e-5)
    assert json.loads((again.folder / CONFIG).read_text())["pooling"] == "mean"


def test_a_model_it_cannot_run_says_to_use_torch(tmp_path):
    from sentence_transformers import SentenceTransformer, models

    from embeddings.encoders.sentence_transformer import resolve_model

    word = models.Transformer(resolve_model(DEFAULT_MODEL))
    odd = tmp_path / "weighted-mean-model"
    # A pooling the ONNX path does not implement.
    SentenceTransformer(modules=[word, models.Pooling(word.get_embedding_dimension(), "weightedmean")]).save(str(odd))
    with pytest.raises(NewsbotError, match="NEWSBOT_ENCODER_BACKEND=torch"):
        load_variant(str(odd), tmp_path / "cache", "fp32")
