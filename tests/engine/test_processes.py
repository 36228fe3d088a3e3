"""Processes sharing one data directory (the bot and `newsdesk add`/`rebuild` from a shell), and processes
killed with SIGKILL at chosen points of their work: real subprocesses, real Chroma, real embedding model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from index import Engine, Settings

from .procs import article

ROOT = Path(__file__).resolve().parents[2]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "CHROMA_", "LLM_"))}
    env.update(PYTHONPATH=str(ROOT), TQDM_DISABLE="1", **extra)
    return env


def run(data_dir: Path, *args: str, **env: str) -> dict:
    """Run the helper process to the end; its JSON line (with "returncode")."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.engine.procs", args[0], str(data_dir), *args[1:]],
        cwd=ROOT,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {done.returncode}): {done.stderr[-2000:]}"
    return {**json.loads(lines[-1]), "returncode": done.returncode}


def start(
    data_dir: Path, tmp_path: Path, *args: str, pause_at: str | None = None, **env: str
) -> tuple[subprocess.Popen, Path]:
    """Start the helper process; with pause_at, wait until it stops there. Returns it and its pause file."""
    flag = tmp_path / f"pause-{time.monotonic_ns()}"
    if pause_at:
        env.update(PAUSE_AT=pause_at, PAUSE_FILE=str(flag))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.engine.procs", args[0], str(data_dir), *args[1:]],
        cwd=ROOT,
        env=_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    if pause_at:
        deadline = time.monotonic() + 120
        while not flag.exists():
            if proc.poll() is not None:
                pytest.fail(f"the process ended before {pause_at}: {proc.stderr.read()[-2000:]}")
            assert time.monotonic() < deadline, f"the process never reached {pause_at}"
            time.sleep(0.05)
    return proc, flag


def finish(proc: subprocess.Popen) -> dict:
    """Wait for a started helper; its JSON line (with "returncode")."""
    out, err = proc.communicate(timeout=300)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    assert lines, f"no result (exit {proc.returncode}): {err[-2000:]}"
    return {**json.loads(lines[-1]), "returncode": proc.returncode}


def kill(proc: subprocess.Popen) -> None:
    """SIGKILL, as an operator's kill -9 or the OOM killer would."""
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


@pytest.fixture
def shared(tmp_path: Path, embed_model) -> tuple[Settings, Engine]:
    """An engine in this process (as the bot is) on a data directory other processes will use too."""
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=ROOT / "seeds")
    engine = Engine.open(settings, embed_model=embed_model)
    yield settings, engine
    engine.close()


def assert_consistent(settings: Settings, embed_model) -> Engine:
    """Open the index as the next command would: every article whole, the store and the catalog agreeing."""
    engine = Engine.open(settings, embed_model=embed_model, seed=False)
    catalog = engine._catalog
    store = engine._view.live()
    assert store.chunk_ids() == catalog.chunk_ids()
    assert store.title_ids() == set(catalog.article_ids())
    assert all(catalog.chunks(a) for a in catalog.article_ids())  # no article without its chunks
    assert not catalog.query("SELECT * FROM pending_vectors")
    assert_searchable(engine)
    return engine


def assert_searchable(engine: Engine) -> None:
    """Every chunk is in the store's search index itself (a stale process writing back its index would lose
    some while the store's own listing still names them)."""
    store = engine._view.live()
    rows = engine._catalog.chunks_of(engine._catalog.article_ids())
    vectors = engine._cache.get(r.embed_key for r in rows)
    lost = [r.id for r in rows if r.id not in dict(store.query_chunks(vectors[r.embed_key], 10, where=None))]
    assert not lost, f"{len(lost)} of {len(rows)} chunks are not found by a search for their own vector"


def segment_folders(settings: Settings) -> int:
    """Segment folders of the embedded store (two per live generation: chunks and titles)."""
    return sum(1 for p in (Path(settings.data_dir) / "chroma").iterdir() if p.is_dir())


def test_a_running_process_follows_another_processes_adds_and_rebuild(shared, embed_model):
    settings, engine = shared
    assert "Kyiv" in engine.ask("Which cities were hit?").text  # its view of the store is loaded
    assert run(settings.data_dir, "add", "3", "Westport")["returncode"] == 0
    question = "Did the harbour number 2 of Westport reopen?"
    assert engine.retrieve(question, as_of=date(2024, 1, 5)).passages[0].article_id == article("Westport", 2).id
    assert run(settings.data_dir, "rebuild")["returncode"] == 0
    assert "Kyiv" in engine.ask("Which cities were hit?").text  # no "Collection does not exist"
    assert engine.retrieve(question, as_of=date(2024, 1, 5)).passages[0].article_id == article("Westport", 2).id
    engine.add_article(article("Eastport", 1))  # and it can still write, from a fresh view
    engine.close()
    assert_consistent(settings, embed_model).close()


def test_a_command_during_another_processes_rebuild_does_not_break_it(shared, tmp_path, embed_model):
    settings, engine = shared
    engine.add_articles([article("Northport", i) for i in range(4)])
    rebuild, flag = start(settings.data_dir, tmp_path, "rebuild", pause_at="during-fill", FILL_BATCH="2")
    answer = run(settings.data_dir, "ask", "Which cities were hit?")  # its start-up must leave the build alone
    assert answer["returncode"] == 0 and answer["covered"]
    engine.add_article(article("Northport", 10))  # an add meanwhile reaches the new generation too
    flag.unlink()
    result = finish(rebuild)
    assert result["returncode"] == 0, result
    engine.close()
    checked = assert_consistent(settings, embed_model)
    assert checked._catalog.state().collection == result["collection"]
    assert article("Northport", 10).id in checked._view.live().title_ids()
    checked.close()


def test_two_rebuilds_at_once_the_second_is_refused_clearly(shared, tmp_path, embed_model):
    settings, engine = shared
    first, flag = start(settings.data_dir, tmp_path, "rebuild", pause_at="during-fill", FILL_BATCH="1")
    second = run(settings.data_dir, "rebuild")
    assert second["returncode"] == 1 and "rebuild is already running" in second["error"]
    flag.unlink()
    assert finish(first)["returncode"] == 0
    engine.close()
    assert_consistent(settings, embed_model).close()


def test_every_article_of_an_add_lands_while_a_rebuild_runs(shared, tmp_path, embed_model):
    settings, engine = shared
    adding, _ = start(settings.data_dir, tmp_path, "add", "30", "Southport")
    time.sleep(3)  # the add is under way
    rebuilt = run(settings.data_dir, "rebuild")
    added = finish(adding)
    assert added["returncode"] == 0 and rebuilt["returncode"] == 0, (added, rebuilt)
    engine.close()
    checked = assert_consistent(settings, embed_model)
    assert {article("Southport", i).id for i in range(30)} <= set(checked._catalog.article_ids())
    checked.close()


def test_two_adds_at_once_both_land(shared, tmp_path, embed_model):
    settings, engine = shared
    one, _ = start(settings.data_dir, tmp_path, "add", "8", "Redport")
    two, _ = start(settings.data_dir, tmp_path, "add", "8", "Blueport", ADD_BATCH="4")
    assert finish(one)["returncode"] == 0 and finish(two)["returncode"] == 0
    engine.close()
    checked = assert_consistent(settings, embed_model)
    assert len(checked._catalog.article_ids()) == 2 + 16
    checked.close()


def test_killed_after_writing_vectors_leaves_no_orphans(shared, tmp_path, embed_model):
    settings, engine = shared
    proc, _ = start(settings.data_dir, tmp_path, "add", "1", "Greyport", pause_at="after-vectors")
    kill(proc)
    assert article("Greyport", 0).id not in engine._catalog.article_ids()
    engine.close()
    checked = assert_consistent(settings, embed_model)  # the next start finds the orphan vectors and drops them
    assert article("Greyport", 0).id not in checked._catalog.article_ids()
    checked.close()


def test_killed_after_replacing_an_article_leaves_no_old_vectors(shared, tmp_path, embed_model):
    settings, engine = shared
    old = article("Greyport", 0)
    engine.add_article(Article_with_body(old, "An earlier version of the story said 5 ships were waiting."))
    old_chunks = engine._catalog.chunk_ids([old.id])
    proc, _ = start(settings.data_dir, tmp_path, "add", "1", "Greyport", pause_at="after-commit")
    kill(proc)
    engine.close()
    checked = assert_consistent(settings, embed_model)
    assert not old_chunks & checked._view.live().chunk_ids()
    assert checked.get_article(old.id).body == old.body
    checked.close()


def Article_with_body(a, body: str):
    from dataclasses import replace

    return replace(a, body=body)


@pytest.mark.parametrize("point", ["during-fill", "before-switch"])
def test_a_killed_rebuild_leaves_the_live_index_answering_and_its_files_removed(shared, tmp_path, embed_model, point):
    settings, engine = shared
    live = engine._catalog.state().collection
    proc, _ = start(settings.data_dir, tmp_path, "rebuild", pause_at=point, FILL_BATCH="1")
    kill(proc)
    assert "Kyiv" in engine.ask("Which cities were hit?").text
    engine.close()
    checked = assert_consistent(settings, embed_model)
    assert checked._catalog.state().collection == live
    assert checked._handle.names("newsdesk") == [live, f"{live}-titles"]  # the half-built one is gone
    assert segment_folders(settings) == 2
    checked.close()


def test_rebuilds_leave_no_old_segment_folders(shared, embed_model):
    settings, engine = shared
    for _ in range(3):
        engine.rebuild()
        assert segment_folders(settings) == 2
    assert run(settings.data_dir, "rebuild")["returncode"] == 0
    assert segment_folders(settings) == 2


@pytest.mark.slow
def test_two_large_adds_at_once_lose_no_vector_from_the_search_index(shared, tmp_path, embed_model):
    settings, engine = shared  # each process writes past Chroma's persist threshold (1,000 vectors)
    one, _ = start(settings.data_dir, tmp_path, "add", "500", "Redport", ADD_BATCH="50")
    two, _ = start(settings.data_dir, tmp_path, "add", "500", "Blueport", ADD_BATCH="50")
    assert finish(one)["returncode"] == 0 and finish(two)["returncode"] == 0
    engine.close()
    assert_consistent(settings, embed_model).close()


@pytest.mark.slow
def test_kill_9_at_random_moments_leaves_every_article_whole(shared, tmp_path, embed_model):
    import random

    settings, engine = shared
    engine.close()
    rng = random.Random(11)
    for round_ in range(12):
        job = rng.choice([("add", "12", f"Port{round_}"), ("remove", "Port"), ("rebuild",)])
        proc, _ = start(settings.data_dir, tmp_path, *job, ADD_BATCH="3", FILL_BATCH="2")
        time.sleep(rng.uniform(2.0, 9.0))  # start-up takes a few seconds; the kill lands anywhere after
        kill(proc)
        assert_consistent(settings, embed_model).close()  # the next command settles what was left
