"""What only the PostgreSQL backend has: a writer killed by SIGKILL at any moment, `newsbot
migrate`, a database that restarts, cannot be reached or lacks pgvector, and the password kept
out of every message. A real PostgreSQL throughout (``postgres_server``)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings.errors import IndexUnavailableError
from embeddings.index.local import LocalBackend
from embeddings.index.pg import PostgresBackend
from embeddings.index.pg.connection import Database
from embeddings.index.pg.migrate import migrate
from embeddings.index.pg.schema import SEARCH_INDEXES
from embeddings.ingest.chunking import ChunkingConfig, chunk_article
from embeddings.ingest.corpus import read_corpus

from ..conftest import update_folder
from .backends import engine_on
from .test_crash_safety import write_articles


def pg_backend(url: str, encoder, request, timeout: float = 5.0) -> PostgresBackend:
    backend = PostgresBackend(Database(url, timeout=timeout), encoder.dimension)
    request.addfinalizer(backend.close)
    return backend


def newsbot(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from bot.cli import main; main()", *args],
        cwd=cwd,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def advisory_locks(backend: PostgresBackend) -> int:
    with backend.connection() as conn:
        return int(conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0])


@pytest.mark.slow
def test_killing_the_writer_never_breaks_the_served_corpus(tmp_path, pg_url, encoder, request):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    write_articles(seeds, 0, 10)
    backend = pg_backend(pg_url, encoder, request)
    engine_on(backend, seeds, tmp_path, encoder).refresh()
    write_articles(seeds, 10, 40)  # the next run has 40 new articles to embed and write
    env = {"NEWSBOT_DATABASE_URL": pg_url, "NEWSBOT_SEEDS_DIR": str(seeds)}

    rng = random.Random(int(os.environ.get("NEWSBOT_CRASH_SEED", "20261202")))
    for attempt in range(5):
        proc = newsbot(["index"], env, tmp_path)
        delay = rng.uniform(1.0, 12.0)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        snapshot = backend.open_snapshot()  # must load, whatever the moment
        articles = snapshot.manifest["articles"]
        print(f"attempt {attempt}: killed after {delay:.1f}s; live index has {articles} articles")
        assert articles in (10, 50) and len(snapshot.articles) == articles
        assert snapshot.dense_candidates(encoder.encode(["railway project"])[0], 3)
        assert snapshot.lexical_candidates("railway project", 3)
        assert snapshot.chunk_count() == len(snapshot.chunks(range(1, 10**5)))

    # The server lets go of a killed writer's lock once it notices (at the end of the statement
    # it was running): wait for that, as the next scheduled run would.
    deadline = time.monotonic() + 120
    while advisory_locks(backend) and time.monotonic() < deadline:
        time.sleep(0.5)
    finished = newsbot(["index"], env, tmp_path)
    assert finished.wait(timeout=300) == 0, finished.stderr.read()
    assert backend.open_snapshot().manifest["articles"] == 50


def test_migrate_copies_a_local_index_without_embedding_and_answers_the_same(tmp_path, seeds, pg_url, encoder, request):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    proc = newsbot(["migrate"], {"NEWSBOT_DATABASE_URL": pg_url, "NEWSBOT_DATA_DIR": str(data)}, tmp_path)
    out, errors = proc.communicate(timeout=120)
    assert proc.returncode == 0, errors
    assert "copied 5 articles" in out and "into postgresql://" in out

    local = engine_on(LocalBackend(data, probe_encoder=encoder), seeds, tmp_path, encoder)
    postgres = engine_on(pg_backend(pg_url, encoder, request), seeds, tmp_path, encoder)
    for question in [
        "How much did the Portmere harbour bridge cost?",
        "When will the SCO security council secretaries meet?",
        "Who won the Portmere marathon?",
        "What is the capital of France?",
    ]:
        a, b = local.answer(question), postgres.answer(question)
        assert (a.answered, a.short_answer, a.sentences) == (b.answered, b.short_answer, b.sentences), question
    # The sentence vectors come along (int8 both sides: the same to within one rounding).
    mine, theirs = local.backend.open_snapshot(), postgres.backend.open_snapshot()
    by_place = {(c.article_id, c.ordinal): i for i, (c, _) in theirs.chunks(range(1, 1000)).items()}
    local_ids = {(c.article_id, c.ordinal): i for i, (c, _) in mine.chunks(range(1, 1000)).items()}
    assert set(by_place) == set(local_ids)
    copied = theirs.sentence_vectors(by_place.values())
    for place, i in local_ids.items():
        original = mine.sentence_vectors([i])[i]
        assert np.all((copied[by_place[place]] * original).sum(axis=1) > 0.999), place
    # The copy is a live index like any other: an update embeds only what changed.
    (seeds / "ferry.txt").write_text("Ferry strike ends\n\nThe ferry workers of Portmere ended their strike.")
    report = postgres.refresh()
    assert report.added == ("ferry",) and report.unchanged == 5


def test_a_database_restart_is_a_friendly_error_then_answers_come_back(
    seeds, tmp_path, postgres_server, encoder, request
):
    url = postgres_server.url(postgres_server.new_database())
    engine = engine_on(pg_backend(url, encoder, request, timeout=3.0), seeds, tmp_path, encoder)
    engine.refresh()
    question = "How much did the Portmere harbour bridge cost?"
    assert engine.answer(question).short_answer == "310 million euros"
    postgres_server.stop()
    try:
        with pytest.raises(IndexUnavailableError, match=r"cannot be reached right now.*Try again in a moment"):
            engine.answer(question)
    finally:
        postgres_server.start()
    assert engine.answer(question).short_answer == "310 million euros"  # the pool reconnected
    postgres_server.pg_ctl("-m", "fast", "restart")  # and without a question in between
    assert engine.answer(question).short_answer == "310 million euros"


def test_an_unreachable_database_is_one_clear_line_without_the_password(tmp_path):
    url = f"postgresql://news:s3cret-pw@/newsroom?host={tmp_path / 'no-server-here'}"
    proc = newsbot(["status"], {"NEWSBOT_DATABASE_URL": url}, tmp_path)
    out, errors = proc.communicate(timeout=120)
    assert proc.returncode == 1 and not out
    lines = [line for line in errors.splitlines() if line.strip()]
    assert len(lines) <= 2 and lines[0].startswith("error: The database postgresql://news:***@/newsroom")
    assert "cannot be reached" in errors and "s3cret" not in errors


def test_a_database_without_pgvector_says_what_to_install(tmp_path, seeds, pg_url, encoder, request):
    # PostgreSQL 18 looks for extensions along extension_control_path: an empty folder there
    # makes this connection's server one without pgvector.
    empty = Path(tempfile.mkdtemp(prefix="newsbot-no-extensions-"))  # the server's user must read it
    request.addfinalizer(lambda: shutil.rmtree(empty, ignore_errors=True))
    (empty / "extension").mkdir()
    empty.chmod(0o755)
    url = f"{pg_url}&options=-c%20extension_control_path%3D{empty}"
    engine = engine_on(pg_backend(url, encoder, request), seeds, tmp_path, encoder)
    with pytest.raises(IndexUnavailableError, match=r"lacks the pgvector extension.*install pgvector"):
        engine.refresh()
    with pytest.raises(IndexUnavailableError, match="lacks the pgvector extension"):
        engine.load()


def search_indexes(backend: PostgresBackend) -> set[str]:
    with backend.connection() as conn:
        rows = conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'newsbot_chunks'").fetchall()
    return {str(name) for (name,) in rows} & set(SEARCH_INDEXES)


def test_a_first_migration_loads_in_bulk_and_answers_like_one_copied_row_by_row(
    tmp_path, seeds, postgres_server, encoder, request
):
    data = tmp_path / "data"
    update_folder(data, read_corpus(seeds), encoder, ChunkingConfig())
    bulk = pg_backend(postgres_server.url(postgres_server.new_database()), encoder, request)
    rows = pg_backend(postgres_server.url(postgres_server.new_database()), encoder, request)
    migrate(LocalBackend(data), bulk)  # an empty database: indexes built after the rows
    migrate(LocalBackend(data), rows, bulk=False)  # into the indexes row by row
    assert search_indexes(bulk) == search_indexes(rows) == set(SEARCH_INDEXES)
    with bulk.connection() as conn:  # the rebuilt HNSW index is the one dense search uses
        conn.execute("SET enable_seqscan = off")
        plan = conn.execute(
            "EXPLAIN SELECT id FROM newsbot_chunks ORDER BY embedding <#> %s::vector LIMIT 5",
            ("[" + ",".join(["0.05"] * encoder.dimension) + "]",),
        ).fetchall()
    assert "newsbot_chunks_embedding" in " ".join(str(r[0]) for r in plan)
    engines = [engine_on(b, seeds, tmp_path, encoder) for b in (bulk, rows)]
    for query in ["harbour bridge tolls", "when do the secretaries meet", "marathon winner"]:
        hits = [[(h.article.id, h.chunk.ordinal, round(h.score, 4)) for h in e.search(query, 5)] for e in engines]
        assert hits[0] == hits[1], query
    # The next run is an update of a table that has rows: it keeps the indexes and adds to them.
    (seeds / "ferry.txt").write_text("Ferry strike ends\n\nThe ferry workers of Portmere ended their strike.")
    assert engines[0].refresh().added == ("ferry",)
    assert search_indexes(bulk) == set(SEARCH_INDEXES)
    assert engines[0].search("ferry workers strike", 1)[0].article.id == "ferry"


def test_a_bulk_load_that_dies_before_publishing_leaves_the_indexes_as_they_were(seeds, pg_url, encoder, request):
    backend = pg_backend(pg_url, encoder, request)
    with backend.writer() as writer:  # an empty generation: the schema exists, the table is empty
        assert writer.bulk
        writer.publish({"model": encoder.name})
    article = read_corpus(seeds).articles[0]
    chunks = chunk_article(article, encoder, ChunkingConfig())
    with pytest.raises(RuntimeError, match="died"), backend.writer() as writer:
        assert writer.bulk
        writer.add_article(article, chunks, encoder.encode([c.embed_text for c in chunks]))
        writer._flush()  # the rows are in, the indexes dropped: then the writer dies
        assert search_indexes(backend) == set(SEARCH_INDEXES)  # other sessions still see them
        raise RuntimeError("died")
    assert search_indexes(backend) == set(SEARCH_INDEXES)
    assert backend.live_manifest()["chunks"] == 0
