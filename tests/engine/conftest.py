"""Fixtures of the engine tests: a real engine holding running stories."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index import Engine, Settings


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory: pytest.TempPathFactory, embed_model: object) -> Iterator[Engine]:
    """A real engine holding the story articles of story_docs (added once for the module)."""
    from . import story_docs

    engine = Engine(Settings(data_dir=tmp_path_factory.mktemp("newsroom") / "data"), embed_model=embed_model)
    engine.add_articles(story_docs.ALL)
    yield engine
    engine.close()
