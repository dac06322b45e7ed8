"""Engine settings that are not about one module: where shared files live."""

from __future__ import annotations

from pathlib import Path

import pytest

from embeddings.settings import EngineSettings


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("NEWSBOT_MODEL_CACHE_DIR", raising=False)  # the test session sets one
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_model_cache_is_one_folder_per_user_shared_by_every_data_folder(user_cache: Path, tmp_path: Path) -> None:
    first = EngineSettings(_env_file=None, data_dir=tmp_path / "a")
    second = EngineSettings(_env_file=None, data_dir=tmp_path / "b")
    assert first.model_cache == second.model_cache == user_cache / "newsbot" / "models"


def test_configured_model_cache_wins_over_the_user_cache(user_cache: Path, tmp_path: Path) -> None:
    settings = EngineSettings(_env_file=None, data_dir=tmp_path / "a", model_cache_dir=tmp_path / "mine")
    assert settings.model_cache == tmp_path / "mine"
