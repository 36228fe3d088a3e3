"""Shared fixtures: the real embedding model (loaded once) and engines in tmp_path."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fakes.site import PUBLIC_IP, Site, SiteHandler

os.environ.setdefault("TQDM_DISABLE", "1")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embed_model():
    """The real offline embedding model, shared by every test."""
    from index.embedding import OnnxMiniLMEmbedding

    return OnnxMiniLMEmbedding()


@pytest.fixture
def settings(tmp_path: Path):
    """Settings with a fresh data directory and the project's seeds."""
    from index.settings import Settings

    return Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS)


@pytest.fixture
def engine(settings, embed_model):
    """A real engine (embedded Chroma in tmp_path), empty."""
    from index.engine import Engine

    engine = Engine(settings, embed_model=embed_model)
    yield engine
    engine.close()


@pytest.fixture
def seeded(engine):
    """A real engine holding the seed articles."""
    engine.ensure_seeded()
    return engine


@pytest.fixture
def site() -> Iterator[Site]:
    """A real HTTP server on 127.0.0.1 serving what a test puts on it."""
    stop = threading.Event()
    handler: type[SiteHandler] = type("Handler", (SiteHandler,), {})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    handler.site = Site(httpd, stop)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield handler.site
    stop.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def public(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    """Connections to PUBLIC_IP reach the local server, so the allow_private=False paths run for real."""
    from index import fetch

    real_open = fetch._open_socket

    def open_socket(address: str, port: int, timeout: float) -> socket.socket:
        if address == PUBLIC_IP:
            return socket.create_connection(("127.0.0.1", site.port), timeout=timeout)
        return real_open(address, port, timeout)

    monkeypatch.setattr(fetch, "_open_socket", open_socket)
