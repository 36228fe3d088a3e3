"""Throttled edits of one message: live progress and streamed text without hitting Discord's rate limits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord

log = logging.getLogger(__name__)
Edit = Callable[..., Awaitable[Any]]


class ThrottledEditor:
    """Edits a message at most once per `interval` seconds, always with the latest update (older ones are dropped)."""

    def __init__(self, edit: Edit, interval: float, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._edit, self.interval = edit, interval
        self._loop = loop or asyncio.get_running_loop()
        self._pending: dict[str, Any] | None = None
        self._task: asyncio.Task | None = None
        self._last = 0.0
        self._lock = asyncio.Lock()
        self._broken = False  # a failed progress edit (e.g. an expired interaction token) stops further ones
        self.edits = 0

    def update(self, **kwargs: Any) -> None:
        """Schedule an edit (call on the event loop)."""
        if self._broken:
            return
        self._pending = kwargs
        if self._task is None or self._task.done():
            self._task = self._loop.create_task(self._flush())

    def update_threadsafe(self, **kwargs: Any) -> None:
        """Schedule an edit from a worker thread."""
        self._loop.call_soon_threadsafe(lambda: self.update(**kwargs))

    async def final(self, **kwargs: Any) -> Any:
        """Drop pending updates and make the last edit, still respecting the interval; returns the edit's result."""
        self._pending = None
        if self._task is not None:  # let an in-flight edit finish; a waiting one finds nothing to send
            await asyncio.gather(self._task, return_exceptions=True)
        async with self._lock:
            await self._wait_turn()
            return await self._send(kwargs, raise_errors=True)

    async def _flush(self) -> None:
        async with self._lock:
            await self._wait_turn()
            if self._pending is not None:
                kwargs, self._pending = self._pending, None
                await self._send(kwargs, raise_errors=False)

    async def _wait_turn(self) -> None:
        delay = self._last + self.interval - self._loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _send(self, kwargs: dict[str, Any], raise_errors: bool) -> Any:
        try:
            return await self._edit(**kwargs)
        except discord.HTTPException as exc:
            if raise_errors:
                raise
            self._broken = True
            log.warning("progress edit failed, no more progress on this message: %s", exc)
        finally:
            self._last = self._loop.time()
            self.edits += 1
