"""Load: the full soak in CI. 2,000 questions from 50 people, at most 20 waiting for an answer at
once, a /reload in the middle with an article added before it, then a flooding user against a
tight cooldown. The machinery and the limits (with why they are what they are) are in
``tests/bot/soak.py``; ``benchmarks/soak.py`` runs this module at any size, given in the environment
(``SOAK_QUESTIONS``, ``FLOOD_PEOPLE``, ...; see ``from_env``). Unset, the sizes are the CI ones below.

The full size fits: on the shared 2-core machine the 2,000 questions take 17-28 s and the whole
module 65-70 s (the rest is building the indexes, rendering the expected answers over the old
and the new index, and the ~28 s of the flood run). ``pytest -s`` prints the figures; they are also
in every assertion message.
"""

from __future__ import annotations

import pytest

from .soak import FloodConfig, SoakConfig, from_env, run_flood, run_soak, seeds_for_soak

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def soak_engine(tmp_path_factory, encoder):
    """An engine of its own over the Discord tests' seeds (the soak adds an article to them)."""
    from embeddings.engine import Engine
    from embeddings.settings import EngineSettings

    root = tmp_path_factory.mktemp("soak")
    seeds = seeds_for_soak(root / "seeds")
    engine = Engine(EngineSettings(_env_file=None, data_dir=root / "data", seeds_dir=seeds), encoder)
    engine.refresh()
    return engine, seeds, root


def test_2000_questions_from_50_people_each_get_one_answer_across_a_reload_in_flat_memory(soak_engine):
    engine, seeds, root = soak_engine
    config = from_env(SoakConfig(questions=2000, users=50, concurrency=20), "SOAK_")
    result = run_soak(engine, seeds, root, config)
    print(f"\nsoak\n{result.summary()}")

    assert len(result.asked) == config.questions and len(result.latencies) == config.questions, result.summary()
    problems = result.problems()  # lost, duplicated, wrong, old/new mixed up, stray, memory growth
    assert not problems, "\n".join(problems[:20]) + "\n" + result.summary()
    kinds = {a.kind for a in result.asked}
    assert kinds == {"mention", "channel", "ask", "followup"}, result.summary()


def test_a_flooding_user_is_slowed_by_the_cooldown_without_delaying_the_others(soak_engine):
    engine, _, _ = soak_engine
    result = run_flood(engine, from_env(FloodConfig(), "FLOOD_"))
    print(f"\nflood\n{result.summary()}")

    problems = result.problems()  # others refused or slowed, flooder answered beyond the cooldown
    assert not problems, "\n".join(problems) + "\n" + result.summary()
    assert result.flood_sent >= 5 * result.flood_answered, result.summary()
