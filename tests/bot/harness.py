"""The bot test harness: the real bot connected to a fresh fake Discord; real engines and wrappers of them."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.app import PROGRESS_INTERVAL, STREAM_INTERVAL, NewsdeskBot
from bot.progress import HANDOVER
from bot.settings import DiscordSettings
from index import Engine, Settings

from ..conftest import SEEDS
from ..fakes.discord import FakeDiscord, FakeInteraction, Rules
from ..fakes.discord.rules import EDIT_WINDOW, TOKEN_LIFETIME

# The bot's edit intervals and the fake's edit-rate window, as a share of the real ones: the same ratio to the
# rule as in production (so a bot that edits too often still breaks it), with 25 times less waiting.
FAST = 0.04


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


@contextlib.asynccontextmanager
async def connected(
    engine: Any,
    *,
    heartbeat_ms: int = 1000,
    time_scale: float = FAST,
    token_lifetime: float = TOKEN_LIFETIME,
    progress_handover: float = HANDOVER,
    bot_class: type[NewsdeskBot] = NewsdeskBot,
    **discord_settings: Any,
) -> AsyncIterator[Harness]:
    """The bot on a fresh fake Discord, intervals and edit window times `time_scale`; fails on any rule broken."""
    async with running_fake(heartbeat_ms=heartbeat_ms, time_scale=time_scale, token_lifetime=token_lifetime) as fake:
        async with bot_on(
            fake,
            engine,
            time_scale=time_scale,
            progress_handover=progress_handover,
            bot_class=bot_class,
            **discord_settings,
        ) as bot:
            yield Harness(fake, bot)


@contextlib.asynccontextmanager
async def running_fake(
    *, heartbeat_ms: int = 1000, time_scale: float = FAST, token_lifetime: float = TOKEN_LIFETIME
) -> AsyncIterator[FakeDiscord]:
    """A fresh fake Discord (edit window times `time_scale`) that bots connect to; fails on any rule broken."""
    rules = Rules(edit_window=EDIT_WINDOW * time_scale, token_lifetime=token_lifetime)
    fake = await FakeDiscord(heartbeat_ms=heartbeat_ms, rules=rules).start()
    try:
        yield fake
    finally:
        await fake.stop()
    assert fake.violations == [], f"Discord rules broken: {fake.violations}"


@contextlib.asynccontextmanager
async def bot_on(
    fake: FakeDiscord,
    engine: Any,
    *,
    time_scale: float = FAST,
    progress_handover: float = HANDOVER,
    bot_class: type[NewsdeskBot] = NewsdeskBot,
    **discord_settings: Any,
) -> AsyncIterator[NewsdeskBot]:
    """The real bot connected to a running fake until the block ends (a second one on the same fake is a restart:
    Discord keeps its messages)."""
    settings = DiscordSettings(**{"token": fake.token, "guild_id": int(fake.guild_id), **discord_settings})
    bot = bot_class(
        settings,
        engine,
        guild_ready_timeout=0.1,
        stream_interval=STREAM_INTERVAL * time_scale,
        progress_interval=PROGRESS_INTERVAL * time_scale,
        progress_handover=progress_handover,
    )
    with fake.patched():
        runner = asyncio.create_task(bot.start(fake.token))
        ready = asyncio.create_task(bot.wait_until_ready())
        try:
            await asyncio.wait({runner, ready}, timeout=20, return_when=asyncio.FIRST_COMPLETED)
            if runner.done():
                runner.result()
            assert ready.done(), "the bot did not become ready"
            yield bot
        finally:
            ready.cancel()
            await bot.close()
            await asyncio.gather(runner, return_exceptions=True)


class EngineWrapper:
    """The real engine, with some methods changed by a subclass; everything else passes through."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


class RecordingEngine(EngineWrapper):
    """Remembers what ask() was given (to check follow-up history); fails with `fail_with` when given."""

    def __init__(self, engine: Any, fail_with: BaseException | None = None) -> None:
        super().__init__(engine)
        self._fail = fail_with
        self.asks: list[tuple[str, list]] = []

    def ask(self, question: str, **kwargs: Any) -> Any:
        self.asks.append((question, list(kwargs.get("history") or [])))
        if self._fail is not None:
            raise self._fail
        return self._engine.ask(question, **kwargs)


class HeldEngine(EngineWrapper):
    """ask() waits until the test calls release() (at most 30 s), then answers."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def ask(self, question: str, **kwargs: Any) -> Any:
        self._released.wait(30)
        return self._engine.ask(question, **kwargs)


class HeldAdds(EngineWrapper):
    """add_bytes(), add_text() and add_url() wait until the test calls release() (at most 60 s), then add."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self._released = threading.Event()
        self._lock = threading.Lock()
        self.waiting = 0  # adds in progress, held

    def release(self) -> None:
        self._released.set()

    def _held(self, add: Any, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            self.waiting += 1
        try:
            self._released.wait(60)
        finally:
            with self._lock:
                self.waiting -= 1
        return add(*args, **kwargs)

    def add_bytes(self, *args: Any, **kwargs: Any) -> Any:
        return self._held(self._engine.add_bytes, *args, **kwargs)

    def add_text(self, *args: Any, **kwargs: Any) -> Any:
        return self._held(self._engine.add_text, *args, **kwargs)

    def add_url(self, *args: Any, **kwargs: Any) -> Any:
        return self._held(self._engine.add_url, *args, **kwargs)


class HastyEngine(EngineWrapper):
    """Reports `burst` texts (ask) or progress steps (rebuild) 5 ms apart, faster than edits are allowed; then works."""

    def __init__(self, engine: Any, burst: int = 40) -> None:
        super().__init__(engine)
        self.burst = burst

    def ask(self, question: str, **kwargs: Any) -> Any:
        for i in range(self.burst):
            kwargs["on_text"](f"Partial answer {i}")
            time.sleep(0.005)
        return self._engine.ask(question, **kwargs)

    def rebuild(self, progress: Any = None) -> Any:
        for i in range(self.burst):
            progress(i, self.burst)
            time.sleep(0.005)
        return self._engine.rebuild(progress=progress)

    def rebuild_server(self, server: Any, progress: Any = None) -> Any:
        for i in range(self.burst):
            progress(i, self.burst)
            time.sleep(0.005)
        return self._engine.rebuild_server(server, progress=progress)


class SlowRebuild(EngineWrapper):
    """rebuild() reports 10 steps over `seconds` (a long job), then rebuilds."""

    def __init__(self, engine: Any, seconds: float) -> None:
        super().__init__(engine)
        self.seconds = seconds

    def rebuild(self, progress: Any = None) -> Any:
        for i in range(10):
            progress(i, 10)
            time.sleep(self.seconds / 10)
        return self._engine.rebuild(progress=progress)

    def rebuild_server(self, server: Any, progress: Any = None) -> Any:
        for i in range(10):
            progress(i, 10)
            time.sleep(self.seconds / 10)
        return self._engine.rebuild_server(server, progress=progress)


async def until(predicate: Callable[[], Any], timeout: float = 30) -> None:
    """Poll for a condition the fake cannot see (state inside the bot or the engine)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        await asyncio.sleep(0.02)


async def done(env: Harness, ix: FakeInteraction) -> FakeInteraction:
    """Wait until the interaction has a final (non-placeholder) reply."""
    await env.wait_for(lambda: ix.messages and not ix.placeholder, 30)
    return ix
