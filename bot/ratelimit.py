"""Per-user sliding-window rate limits with a friendly "try again in N s"."""

from __future__ import annotations

import contextlib
import math
import time
from collections import defaultdict, deque
from collections.abc import Callable, Hashable, Iterator

from .checks import Refused


class RateLimited(Refused):
    """The user asked too often; carries how long to wait."""

    def __init__(self, what: str, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(f"You're {what} too quickly; try again in {max(1, math.ceil(retry_after))} s.")


class SlidingWindowLimiter:
    """At most `limit` hits per `window` seconds for each key (limit ≤ 0 means unlimited)."""

    def __init__(self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: dict[Hashable, deque[float]] = defaultdict(deque)

    def retry_after(self, key: Hashable) -> float:
        """Seconds until `key` may hit again (0 when it may now); does not record a hit."""
        if self.limit <= 0:
            return 0.0
        now, hits = self.clock(), self._hits[key]
        while hits and now - hits[0] >= self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return 0.0
        return 0.0 if len(hits) < self.limit else hits[0] + self.window - now

    def hit(self, key: Hashable, what: str = "going") -> float | None:
        """Record a hit for `key` and return its time, or raise RateLimited if it is over its limit."""
        wait = self.retry_after(key)
        if wait > 0:
            raise RateLimited(what, wait)
        if self.limit <= 0:
            return None
        stamp = self.clock()
        self._hits[key].append(stamp)
        return stamp

    def refund(self, key: Hashable, stamp: float | None) -> None:
        """Forget the hit `hit` recorded at `stamp` (if it is still in the window)."""
        hits = self._hits.get(key)
        if stamp is not None and hits is not None and stamp in hits:
            hits.remove(stamp)

    @contextlib.contextmanager
    def charge(
        self, key: Hashable, what: str = "going", refund_on: tuple[type[BaseException], ...] = (BaseException,)
    ) -> Iterator[None]:
        """Record a hit for `key` that is refunded if the block raises one of `refund_on`."""
        stamp = self.hit(key, what)
        try:
            yield
        except refund_on:
            self.refund(key, stamp)
            raise


class OncePerWait:
    """Lets a refusal be said once per key until the wait it announced is over (no flood of "try again")."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._until: dict[Hashable, float] = {}

    def first(self, key: Hashable, wait: float) -> bool:
        """True if `key` has not been told within its current wait; then starts a wait of `wait` seconds."""
        now = self.clock()
        if self._until.get(key, 0.0) > now:
            return False
        if len(self._until) > 1000:  # forget waits that are over
            self._until = {k: t for k, t in self._until.items() if t > now}
        self._until[key] = now + wait
        return True
