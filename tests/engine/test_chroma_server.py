"""The same engine against a real Chroma server started on 127.0.0.1."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from index.articles import Article
from index.errors import StoreError

from .chroma_server import ChromaServer, free_port


@pytest.fixture
def chroma_server(tmp_path):
    """A real `chroma run` on a free loopback port; stopped with SIGTERM afterwards."""
    server = ChromaServer(tmp_path / "server").start()
    yield server.port
    server.stop()


def test_engine_on_a_chroma_server(settings, embed_model, chroma_server):
    from index.engine import Engine

    server_settings = replace(settings, chroma_host="127.0.0.1", chroma_port=chroma_server)
    engine = Engine(server_settings, embed_model=embed_model)
    article = Article(
        title="Bridge reopens",
        body="The Golden Gate Bridge reopened on Monday after repairs to its cables.",
        outlet="Test Wire",
        published=date(2024, 5, 6),
        url="https://news.example/bridge",
    )
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
        Engine(replace(settings, chroma_host="127.0.0.1", chroma_port=free_port()), embed_model=embed_model)
