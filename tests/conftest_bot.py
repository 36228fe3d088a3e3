"""Fixtures for the bot's end-to-end tests: a real engine built once per module, the fake Discord, a connected bot."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from bot.app import NewsdeskBot
from bot.settings import DiscordSettings
from index import Engine, Settings

from .conftest import SEEDS
from .fake_discord import FakeDiscord, FakeInteraction


@dataclass
class Harness:
    """A fake Discord and the real bot connected to it."""

    fake: FakeDiscord
    bot: NewsdeskBot

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)


def make_engine(data_dir: Path, embed_model: Any, *, seeded: bool = True, **settings: Any) -> Engine:
    """A real engine (embedded Chroma, real embedding model) in data_dir."""
    engine = Engine(Settings(data_dir=data_dir, seeds_dir=SEEDS, **settings), embed_model=embed_model)
    if seeded:
        engine.ensure_seeded()
    return engine


@pytest.fixture(scope="module")
def bot_engine(tmp_path_factory: pytest.TempPathFactory, embed_model: Any) -> Any:
    """The seeded real engine shared by a test module."""
    engine = make_engine(tmp_path_factory.mktemp("bot-engine"), embed_model)
    yield engine
    engine.close()


@contextlib.asynccontextmanager
async def connected(engine: Any, *, heartbeat_ms: int = 1000, **discord_settings: Any) -> AsyncIterator[Harness]:
    """Start a fake Discord and the bot against it; on exit stop both and fail on any recorded violation."""
    fake = await FakeDiscord(heartbeat_ms=heartbeat_ms).start()
    settings = DiscordSettings(token=fake.token, guild_id=int(fake.guild_id), **discord_settings)
    bot = NewsdeskBot(settings, engine, guild_ready_timeout=0.1)
    with fake.patched():
        runner = asyncio.create_task(bot.start(fake.token))
        ready = asyncio.create_task(bot.wait_until_ready())
        try:
            await asyncio.wait({runner, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                runner.result()
            assert ready.done(), "the bot did not become ready"
            yield Harness(fake, bot)
        finally:
            ready.cancel()
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)
            await fake.stop()
    assert fake.violations == [], f"Discord rules broken: {fake.violations}"


@pytest.fixture
async def discord_env(bot_engine: Any) -> AsyncIterator[Harness]:
    """The bot, with default Discord settings, connected to a fresh fake Discord."""
    async with connected(bot_engine) as env:
        yield env


class RecordingEngine:
    """The real engine, remembering what ask() was given (to check follow-up history)."""

    def __init__(self, engine: Any, fail_with: BaseException | None = None) -> None:
        self._engine, self._fail = engine, fail_with
        self.asks: list[tuple[str, list]] = []

    def ask(self, question: str, **kwargs: Any) -> Any:
        self.asks.append((question, list(kwargs.get("history") or [])))
        if self._fail is not None:
            raise self._fail
        return self._engine.ask(question, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


async def done(env: Harness, ix: FakeInteraction) -> FakeInteraction:
    """Wait until the interaction has a final (non-placeholder) reply."""
    await env.wait_for(lambda: ix.messages and not ix.placeholder, 30)
    return ix
