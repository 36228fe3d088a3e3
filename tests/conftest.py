"""Shared fixtures: the real embedding model (loaded once) and engines in tmp_path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
