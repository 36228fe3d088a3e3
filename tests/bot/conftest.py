"""Fixtures for the bot's end-to-end tests: a real engine built once per module, and a connected bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .harness import Harness, connected, make_engine


@pytest.fixture(scope="module")
def bot_engine(tmp_path_factory: pytest.TempPathFactory, embed_model: Any) -> Any:
    """The seeded real engine shared by a test module."""
    engine = make_engine(tmp_path_factory.mktemp("bot-engine"), embed_model)
    yield engine
    engine.close()


@pytest.fixture
async def discord_env(bot_engine: Any) -> AsyncIterator[Harness]:
    """The bot, with default Discord settings, connected to a fresh fake Discord."""
    async with connected(bot_engine) as env:
        yield env
