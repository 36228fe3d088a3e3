"""Worker lanes for engine calls: each lane has its own threads, so questions never wait for a write slot."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

T = TypeVar("T")
# ask: questions; write: adds, removals, imports, feed polls and rebuilds; quick: listings, status, autocomplete.
Lane = Literal["ask", "write", "quick"]
WRITE_WORKERS = 2  # a rebuild and an add can run side by side; further writes queue behind them
QUICK_WORKERS = 4


class Lanes:
    """One thread pool per lane; a busy lane never takes threads from another."""

    def __init__(
        self, *, ask_workers: int | None = None, write_workers: int = WRITE_WORKERS, quick_workers: int = QUICK_WORKERS
    ) -> None:
        sizes = {"ask": ask_workers or max(2, os.cpu_count() or 2), "write": write_workers, "quick": quick_workers}
        self.sizes: dict[str, int] = sizes
        self._pools = {
            lane: ThreadPoolExecutor(size, thread_name_prefix=f"newsdesk-{lane}") for lane, size in sizes.items()
        }

    async def run(self, lane: Lane, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Call a blocking function in the lane's threads (with the caller's context variables)."""
        call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._pools[lane], call)

    def shutdown(self) -> None:
        """Stop taking work; calls already running finish in their threads."""
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)
