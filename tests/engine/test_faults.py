"""The store failing underneath: a hung or emptied Chroma server, a full disk, damaged or unusable files.
Each fault surfaces in seconds as a message saying what to do, loses nothing, and leaves a way out."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from index import Article, Engine, Settings, StoreError

from .chroma_server import ChromaServer, free_port
from .test_processes import ROOT, _env, assert_consistent

SEEDS = ROOT / "seeds"
FLOOD = Article(
    title="River floods the old town",
    body="Heavy rain made the Elbe river burst its banks in Dresden. "
    "Firefighters evacuated 300 residents from the old town.",
    outlet="Daily Test",
    published=date(2024, 3, 2),
    url="https://news.example/flood-2024",
)


def within(seconds: float, fn: Callable[[], Any]) -> Any:
    """fn's result or exception; fails the test when fn is still running after `seconds` (it hangs)."""
    box: list = []

    def run() -> None:
        try:
            box.append(fn())
        except BaseException as exc:
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert box, f"still waiting after {seconds} s"
    return box[0]


@pytest.fixture
def servers():
    """Chroma servers a test starts; every one is stopped afterwards, whatever happened."""
    started: list[ChromaServer] = []

    def start(path: Path, port: int | None = None) -> ChromaServer:
        server = ChromaServer(path, port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def test_a_hung_server_is_reported_as_not_answering_and_nothing_half_stored(tmp_path, embed_model, servers):
    server = servers(tmp_path / "server")
    settings = Settings(
        data_dir=tmp_path / "data", seeds_dir=SEEDS, chroma_host="127.0.0.1", chroma_port=server.port, chroma_timeout=3
    )
    engine = Engine.open(settings, embed_model=embed_model)
    try:
        server.freeze()
        asked = within(30, lambda: engine.ask("Which cities were hit?"))
        assert isinstance(asked, StoreError) and "not answering" in str(asked) and "server" in str(asked)
        added = within(10, lambda: engine.add_article(FLOOD))  # a 3 s ping, not the write deadline (18 s)
        assert isinstance(added, StoreError) and "not answering" in str(added)
        assert FLOOD.id not in engine._catalog.article_ids()
        server.thaw()
        assert "Kyiv" in engine.ask("Which cities were hit?").text
        assert engine.add_article(FLOOD).status == "added"
        engine.close()
        assert_consistent(settings, embed_model).close()
    finally:
        server.thaw()


def test_a_server_restarted_empty_is_noticed_and_restored_without_embedding(tmp_path, embed_model, servers):
    port = free_port()
    server = servers(tmp_path / "first", port)
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS, chroma_host="127.0.0.1", chroma_port=port)
    engine = Engine.open(settings, embed_model=embed_model)
    engine.add_article(FLOOD)
    server.stop()
    servers(tmp_path / "second", port)  # all vectors gone
    problem = engine.status().extra["problem"]
    chunks = engine.status().chunks
    assert f"0 of {chunks} chunk vectors" in problem and "newsdesk rebuild" in problem
    cached = engine._cache.count()
    engine.close()
    restored = Engine.open(settings, embed_model=embed_model)  # a start restores it from the catalog
    assert restored._cache.count() == cached  # nothing embedded again
    assert "problem" not in restored.status().extra
    assert "Kyiv" in restored.ask("Which cities were hit?").text
    restored.close()
    assert_consistent(settings, embed_model).close()


def test_a_full_disk_fails_an_add_clearly_and_the_index_keeps_working(tmp_path, embed_model):
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS)
    Engine.open(settings, embed_model=embed_model).close()
    limit = max(p.stat().st_size for p in settings.data_dir.rglob("*") if p.is_file()) + 512_000

    def small_disk() -> None:  # every file may grow only this far: as a full disk, for this process alone
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.Popen(
        [
            sys.executable,
            "-X",
            "faulthandler",
            "-m",
            "tests.engine.procs",
            "add",
            str(settings.data_dir),
            "200",
            "Bigport",
        ],
        cwd=ROOT,
        env=_env(ADD_BATCH="5"),
        preexec_fn=small_disk,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)  # faulthandler prints where it hangs
        out, err = proc.communicate()
        pytest.fail(f"the add hung on a full disk:\n{err[-8000:]}")
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert done.returncode == 1 and "disk is full" in done.stdout, done.stdout + done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr
    engine = assert_consistent(settings, embed_model)  # whole articles or none, the journal settled
    assert "Kyiv" in engine.ask("Which cities were hit?").text
    assert engine.add_article(FLOOD).status == "added"
    engine.close()


FILL_CACHE = """
import resource, sys
import numpy as np
from index import EmbeddingCache, StoreError
cache = EmbeddingCache(sys.argv[1])
cache.put({"warm": np.zeros(384, dtype=np.float32)})
resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, resource.RLIM_INFINITY))
try:
    cache.put({f"key-{i}": np.ones(384, dtype=np.float32) for i in range(2000)})
except StoreError as exc:
    print(exc)
"""


def test_a_full_disk_while_caching_vectors_says_the_disk_is_full(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", FILL_CACHE, str(tmp_path / "cache.sqlite3")],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "disk is full" in done.stdout, done.stdout + done.stderr[-2000:]


SETPRIV = shutil.which("setpriv")
PERMISSIONS_APPLY = [SETPRIV, "--bounding-set=-dac_override,-dac_read_search"] if SETPRIV else []


def _cli(data_dir: Path, *args: str, as_user: bool = False) -> subprocess.CompletedProcess:
    """The newsdesk command in a fresh process; as_user: without root's power to ignore file permissions."""
    env = _env(NEWSDESK_DATA_DIR=str(data_dir), NEWSDESK_SEEDS_DIR=str(SEEDS))
    prefix = PERMISSIONS_APPLY if as_user else []
    return subprocess.run(
        [*prefix, sys.executable, "-m", "cli", "--env-file", "/nonexistent", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def built(tmp_path, embed_model) -> Settings:
    """A seeded index on disk, closed."""
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS)
    engine = Engine.open(settings, embed_model=embed_model)
    engine.add_article(FLOOD)
    engine.close()
    return settings


def test_a_damaged_vector_store_names_the_way_out_and_rebuild_takes_it(built, embed_model):
    store = built.data_dir / "chroma" / "chroma.sqlite3"
    store.write_bytes(b"this is not a database" * 100)
    asked = _cli(built.data_dir, "ask", "Which cities were hit?")
    assert asked.returncode == 1 and "newsdesk rebuild" in asked.stderr and "Traceback" not in asked.stderr
    rebuilt = _cli(built.data_dir, "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert list(built.data_dir.glob("chroma.damaged-*"))  # kept for inspection
    asked = _cli(built.data_dir, "ask", "Which cities were hit?")
    assert asked.returncode == 0 and "Kyiv" in asked.stdout
    assert_consistent(built, embed_model).close()


@pytest.mark.parametrize(
    "damage, expected",
    [
        (lambda p: p.write_bytes(p.read_bytes()[:4096]), "damaged"),
        (lambda p: p.write_bytes(b"not a database at all" * 300), "damaged"),
        (lambda p: p.write_bytes(b""), "0 bytes"),
    ],
    ids=["truncated", "not a database", "emptied"],
)
def test_a_damaged_catalog_is_a_clear_error(built, damage, expected):
    for extra in built.data_dir.glob("newsdesk.sqlite3-*"):
        extra.unlink()
    damage(built.data_dir / "newsdesk.sqlite3")
    asked = _cli(built.data_dir, "ask", "Which cities were hit?")
    assert asked.returncode == 1 and expected in asked.stderr and "Traceback" not in asked.stderr
    assert "backup" in asked.stderr


def test_a_truncated_store_file_is_a_clear_error(built):
    segment = next(p for p in (built.data_dir / "chroma").rglob("data_level0.bin"))
    segment.write_bytes(segment.read_bytes()[:100])
    store = built.data_dir / "chroma" / "chroma.sqlite3"
    store.write_bytes(store.read_bytes()[:8192])
    asked = _cli(built.data_dir, "ask", "Which cities were hit?")
    assert asked.returncode == 1 and "Traceback" not in asked.stderr and "newsdesk rebuild" in asked.stderr


def test_a_data_dir_that_is_a_file_is_a_clear_error(tmp_path):
    path = tmp_path / "data"
    path.write_text("oops")
    asked = _cli(path, "status")
    assert asked.returncode == 1 and "is a file, not a folder" in asked.stderr and "Traceback" not in asked.stderr


def _chmod_tree(root: Path, mode_dirs: int, mode_files: int) -> None:
    for path in [*root.rglob("*"), root]:
        path.chmod(mode_dirs if path.is_dir() else mode_files)


needs_setpriv = pytest.mark.skipif(
    not PERMISSIONS_APPLY or os.geteuid() != 0,
    reason="needs setpriv (and root) to run a command that file permissions apply to",
)


@needs_setpriv
def test_an_unreadable_data_dir_is_a_clear_error(built):
    built.data_dir.chmod(0o000)
    try:
        asked = _cli(built.data_dir, "ask", "Which cities were hit?", as_user=True)
    finally:
        built.data_dir.chmod(0o755)
    assert asked.returncode == 1 and "cannot be read" in asked.stderr and "Traceback" not in asked.stderr


@needs_setpriv
def test_a_read_only_data_dir_still_answers_and_refuses_writes_clearly(built):
    _chmod_tree(built.data_dir, 0o555, 0o444)
    try:
        asked = _cli(built.data_dir, "ask", "Which cities were hit?", as_user=True)
        added = _cli(built.data_dir, "add", str(SEEDS / "000_8df5a7230fa5c5a8.txt"), as_user=True)
    finally:
        _chmod_tree(built.data_dir, 0o755, 0o644)
    assert asked.returncode == 0 and "Kyiv" in asked.stdout, asked.stderr[-2000:]
    assert added.returncode == 1 and "read-only" in added.stderr and "Traceback" not in added.stderr
