"""`newsdesk feeds ...` and `newsdesk import` end to end: a real news site on 127.0.0.1, a real engine in tmp_path,
output and exit codes; an import process killed with SIGKILL and run again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from cli import main as cli
from tests.conftest import ROOT, SEEDS
from tests.engine.feed_docs import MALFORMED
from tests.engine.procs import article
from tests.fakes.newsroom import CORRECTION, Newsroom
from tests.fakes.site import Reply, Site


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embed_model: object) -> object:
    """The CLI on a fresh data directory, allowed to fetch from 127.0.0.1 (where the test site is)."""
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSDESK_SEEDS_DIR", str(SEEDS))
    monkeypatch.setenv("NEWSDESK_FETCH_ALLOW_PRIVATE", "true")
    return embed_model


def run(capsys: pytest.CaptureFixture[str], embed_model: object, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["--env-file", "/nonexistent", *argv], embed_model=embed_model)  # type: ignore[arg-type]
    out, err = capsys.readouterr()
    return code, out, err


def test_feeds_add_list_poll_remove(env: object, capsys: pytest.CaptureFixture[str], site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    room.publish("rail")
    code, out, _ = run(capsys, env, "feeds", "add", room.feed_url)
    assert code == 0 and out.startswith(f"Following feed 1: Harbour Gazette <{room.feed_url}>")
    code, out, _ = run(capsys, env, "feeds", "list")
    assert code == 0 and out.strip() == (
        f"1  Harbour Gazette (shared)  <{room.feed_url}>  last poll never, next now, 0 item(s) added"
    )

    code, out, err = run(capsys, env, "feeds", "poll")
    assert code == 0 and out.splitlines()[0] == "Harbour Gazette: 2 added, 0 failed"
    assert "'Rail strike ends after drivers accept pay deal'" in out and "Polling feeds: 1/1" in err
    assert "1 feed(s) polled: 2 article(s) added" in err
    code, out, _ = run(capsys, env, "ask", "When do full rail services between Port Elwin and Brackenford return?")
    assert code == 0 and "[1] Rail strike ends after drivers accept pay deal — Harbour Gazette" in out
    assert room.url("rail") in out

    site.routes["/feed.xml"] = Reply(MALFORMED)
    code, out, _ = run(capsys, env, "feeds", "poll")
    assert code == 1 and out.startswith("Harbour Gazette: failed: The feed is not well-formed XML")
    code, out, _ = run(capsys, env, "feeds", "list", "--json")
    (listed,) = json.loads(out)
    assert listed["items_added"] == 2 and listed["failures"] == 1 and "not well-formed" in listed["last_error"]

    code, out, _ = run(capsys, env, "feeds", "remove", "1")
    assert code == 0 and out.startswith("Stopped following feed 1: Harbour Gazette")
    code, _, err = run(capsys, env, "feeds", "remove", "1")
    assert code == 1 and err == "error: No feed has the id 1.\n"
    code, _, err = run(capsys, env, "feeds", "add", f"{site.base}/feed.xml")
    assert code == 1 and err.startswith("error: The feed is not well-formed XML")
    code, out, _ = run(capsys, env, "feeds", "list")
    assert out == ""
    for argv in (["feeds"], ["feeds", "add"], ["feeds", "poll", "--every"]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 2


def test_updated_and_corrected_articles_in_citations(
    env: object, capsys: pytest.CaptureFixture[str], site: Site
) -> None:
    room = Newsroom(site)
    room.publish("harbour", first=(CORRECTION,))
    run(capsys, env, "feeds", "add", room.feed_url)
    run(capsys, env, "feeds", "poll")
    paragraphs = list(room.pages["harbour"].paragraphs)
    paragraphs[2] = "Engineers replaced sixty metres of the wall, which the storm had breached in three places."
    room.edit("harbour", paragraphs)
    code, out, err = run(capsys, env, "feeds", "poll")
    assert code == 0 and "Harbour Gazette: not modified" in out and "Updated u" in out and "1 updated" in err
    code, out, _ = run(capsys, env, "ask", "How many metres of the harbour wall did the engineers replace?")
    assert f"(updated {date.today().isoformat()})" in out and "sixty metres" in out
    assert f"    {CORRECTION}" in out and out.count("earlier version") == 1  # beside the citation, not quoted


def test_import_prints_progress_and_line_errors(
    env: object, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "wire.jsonl"
    path.write_text("\n".join([json.dumps(_record(0)), "{broken", json.dumps(_record(1))]) + "\n")
    code, out, err = run(capsys, env, "import", str(path))
    assert code == 1 and out == f"Imported {path}: 2 added, 0 already there, 1 line(s) refused.\n"
    assert "error: line 2: not valid JSON" in err and "Importing: 3/3" in err
    code, out, _ = run(capsys, env, "import", str(path))
    assert code == 0 and out == f"{path} was imported before (3 lines); nothing to do.\n"


def test_import_killed_and_run_again_resumes(env: object, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(160)))
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "CHROMA_", "LLM_"))}
    environ.update(PYTHONPATH=str(ROOT), NEWSDESK_DATA_DIR=str(tmp_path / "data"), NEWSDESK_SEEDS_DIR=str(SEEDS))
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli", "--env-file", "/nonexistent", "import", str(path)],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    catalog = tmp_path / "data" / "newsdesk.sqlite3"
    deadline = time.monotonic() + 240
    while _position(catalog) < 32:  # one batch landed: kill it in the middle
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:] if proc.stderr else ""
        assert time.monotonic() < deadline, "the import made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    stopped = _position(catalog)
    assert 32 <= stopped < 160
    code, out, _ = run(capsys, env, "import", str(path))
    assert code == 0 and out.endswith(f"line(s) refused, resumed at line {stopped}.\n")
    code, out, _ = run(capsys, env, "list", "--json")
    ids = [a["id"] for a in json.loads(out)]
    assert len(ids) == 160 + 2 and {article("Wire", i).id for i in range(160)} <= set(ids)  # and the 2 seeds


def test_feeds_and_imports_of_one_server(
    env: object, capsys: pytest.CaptureFixture[str], site: Site, tmp_path: Path
) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    assert run(capsys, env, "feeds", "add", room.feed_url, "--server", "A")[0] == 0
    code, out, _ = run(capsys, env, "feeds", "list", "--server", "A")
    assert code == 0 and out.strip().startswith(f"1  Harbour Gazette  <{room.feed_url}>")
    assert run(capsys, env, "feeds", "list")[1] == ""  # no shared feeds
    for argv in (["feeds", "remove", "1"], ["--server", "B", "feeds", "remove", "1"]):
        code, _, err = run(capsys, env, *argv)
        assert code == 1 and "No feed" in err
    assert run(capsys, env, "feeds", "poll")[0] == 0
    own = {a["title"] for a in json.loads(run(capsys, env, "list", "--json", "--server", "A")[1])}
    shared = {a["title"] for a in json.loads(run(capsys, env, "list", "--json")[1])}
    assert own - shared == {"Harbour at Port Elwin reopens after storm repairs"}

    path = tmp_path / "wire.jsonl"
    path.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(2)))
    code, out, _ = run(capsys, env, "import", str(path), "--server", "B")
    assert code == 0 and out.startswith(f"Imported {path}: 2 added")
    own = {a["title"] for a in json.loads(run(capsys, env, "list", "--json", "--server", "B")[1])}
    assert own - shared == {_record(0)["title"], _record(1)["title"]}
    assert {a["title"] for a in json.loads(run(capsys, env, "list", "--json")[1])} == shared
    assert run(capsys, env, "feeds", "remove", "1", "--server", "A")[0] == 0


def _record(i: int) -> dict:
    a = article("Wire", i)
    return {"url": a.url, "title": a.title, "published": str(a.published), "authors": [], "body": a.body}


def _position(catalog: Path) -> int:
    if not catalog.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{catalog}?mode=ro", uri=True, timeout=1) as db:
            row = db.execute("SELECT position FROM imports").fetchone()
    except sqlite3.OperationalError:  # not created yet
        return 0
    return int(row[0]) if row else 0
