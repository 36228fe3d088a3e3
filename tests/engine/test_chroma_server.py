"""The same engine against a real Chroma server started on 127.0.0.1."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from index.articles import Article
from index.errors import StoreError


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_binary() -> str:
    found = Path(sys.executable).with_name("chroma")
    return str(found) if found.exists() else (shutil.which("chroma") or "chroma")


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free loopback port; stopped with SIGTERM afterwards."""
    port = _free_port()
    proc = subprocess.Popen([_chroma_binary(), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("chroma run did not start")
    yield port
    proc.terminate()
    proc.wait(timeout=10)


def test_engine_on_a_chroma_server(settings, embed_model, chroma_server):
    from index.engine import Engine

    server_settings = replace(settings, chroma_host="127.0.0.1", chroma_port=chroma_server)
    engine = Engine(server_settings, embed_model=embed_model)
    article = Article(title="Bridge reopens", body="The Golden Gate Bridge reopened on Monday after repairs to its cables.",
                      outlet="Test Wire", published=date(2024, 5, 6), url="https://news.example/bridge")
    assert engine.add_article(article).status == "added"
    assert engine.add_article(article).status == "unchanged"
    status = engine.status()
    assert status.store.startswith("chroma server 127.0.0.1")
    assert status.extra["vectors"] == status.chunks > 0
    answer = engine.ask("Which bridge reopened?", as_of=date(2024, 5, 7))
    assert "Golden Gate" in answer.text and answer.citations[0].passage.url == article.url
    engine.rebuild()
    assert engine.status().extra["vectors"] == status.chunks
    engine.remove(article.id)
    assert engine.status().extra["vectors"] == 0
    engine.close()


def test_unreachable_chroma_server_is_a_clear_error(settings, embed_model):
    from index.engine import Engine

    with pytest.raises(StoreError, match="Chroma"):
        Engine(replace(settings, chroma_host="127.0.0.1", chroma_port=_free_port()), embed_model=embed_model)
