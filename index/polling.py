"""Polite feed polling, as pure logic: per-feed state, when to poll next, one poll, one request per host."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from .articles import _host, canonical_url
from .errors import NewsdeskError
from .feeds import DEFAULT_MAX_CHILDREN, DEFAULT_MAX_ITEMS, FeedItem, KnownURL, ParsedSource, newest_first, parse_source
from .fetch import FetchedPage


class FeedFetcher(Protocol):
    """fetch_url bound to the settings with feed=True: fetch(url, etag=..., last_modified=...)."""

    def __call__(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchedPage: ...


Parser = Callable[..., ParsedSource]  # parse_source's signature


@dataclass(frozen=True)
class PollPolicy:
    """How often to poll, how to back off, and how much one poll may take."""

    interval: timedelta = timedelta(minutes=15)
    max_backoff: timedelta = timedelta(hours=6)
    backlog_interval: timedelta = timedelta(minutes=1)  # sooner when a poll left new items for the next one
    max_items: int = DEFAULT_MAX_ITEMS
    max_children: int = DEFAULT_MAX_CHILDREN  # child sitemaps fetched per poll of a sitemap index
    max_depth: int = 2  # sitemap index -> sitemap index -> sitemap at most


@dataclass(frozen=True)
class FeedState:
    """What is remembered about one feed between polls (store it with to_dict / from_dict)."""

    url: str
    title: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    last_poll: datetime | None = None
    next_poll: datetime | None = None  # None: due now
    consecutive_failures: int = 0
    last_error: str | None = None
    items_added: int = 0
    backlog: bool = False  # the last poll left new items: the next one asks unconditionally
    child_lastmod: tuple[tuple[str, str], ...] = ()  # sitemap index: each child's lastmod when last read

    def is_due(self, now: datetime) -> bool:
        """Whether the feed should be polled at `now`."""
        return self.next_poll is None or self.next_poll <= now

    def with_added(self, count: int) -> FeedState:
        """The state after the engine stored `count` of a poll's items."""
        return replace(self, items_added=self.items_added + count)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able form."""
        data: dict[str, Any] = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("last_poll", "next_poll"):
            data[key] = data[key].isoformat() if data[key] else None
        data["child_lastmod"] = [list(pair) for pair in self.child_lastmod]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeedState:
        """Inverse of to_dict (unknown keys are ignored)."""
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        for key in ("last_poll", "next_poll"):
            values[key] = datetime.fromisoformat(values[key]) if values.get(key) else None
        values["child_lastmod"] = tuple((str(a), str(b)) for a, b in values.get("child_lastmod") or ())
        return cls(**values)


@dataclass(frozen=True)
class PollResult:
    """One poll's outcome: the new items to ingest (newest first) and the feed's next state."""

    state: FeedState
    items: tuple[FeedItem, ...] = ()
    not_modified: bool = False
    more: bool = False  # new items beyond max_items were left for the next poll
    error: str | None = None  # the poll failed (state carries the backoff)
    warnings: tuple[str, ...] = field(default=())


def next_poll_at(now: datetime, failures: int, policy: PollPolicy, *, backlog: bool = False) -> datetime:
    """The base interval after a success (shorter with a backlog); doubling per failure up to max_backoff."""
    if failures <= 0:
        return now + (min(policy.backlog_interval, policy.interval) if backlog else policy.interval)
    return now + min(policy.interval * 2 ** min(failures, 32), policy.max_backoff)


def poll_feed(
    state: FeedState,
    fetch: FeedFetcher,
    known_url: KnownURL,
    *,
    parse: Parser = parse_source,
    policy: PollPolicy = PollPolicy(),
    now: datetime | None = None,
) -> PollResult:
    """Poll one feed or sitemap: conditional GET, parse, the items not stored yet; failures back off.

    known_url(canonical_url) -> True when that article is stored (or was seen in an earlier poll)."""
    now = now or datetime.now(UTC)
    try:
        page = fetch(
            state.url,
            etag=None if state.backlog else state.etag,
            last_modified=None if state.backlog else state.last_modified,
        )
        if page.not_modified:
            return PollResult(_succeeded(state, page, now, policy), not_modified=True)
        source = parse(
            page.data,
            url=page.url,
            content_type=page.content_type,
            known_url=known_url,
            max_items=policy.max_items,
            max_children=policy.max_children,
        )
        if source.kind == "sitemapindex":
            return _poll_index(state, page, source, fetch, known_url, parse, policy, now)
        new_state = _succeeded(state, page, now, policy, title=source.title, backlog=source.more)
        return PollResult(new_state, items=source.items, more=source.more)
    except NewsdeskError as exc:
        return _failed(state, str(exc), now, policy)


def _poll_index(
    state: FeedState,
    page: FetchedPage,
    index: ParsedSource,
    fetch: FeedFetcher,
    known_url: KnownURL,
    parse: Parser,
    policy: PollPolicy,
    now: datetime,
) -> PollResult:
    """Read a sitemap index's children (bounded in number and depth; cycles skipped) and merge their items."""
    visited = {canonical_url(state.url), canonical_url(page.url)}
    seen_lastmod = dict(state.child_lastmod)
    lastmods: dict[str, str] = {}  # children read (or unchanged) in this poll
    items: dict[str, FeedItem] = {}
    problems: list[str] = []
    more = index.skipped_children > 0
    if more:
        problems.append(
            f"{index.skipped_children} child sitemaps over the limit of {policy.max_children} were left out."
        )
    queue = deque((child, 1) for child in index.children)
    fetched = 0
    while queue:
        child, depth = queue.popleft()
        try:
            key = canonical_url(child.url)
        except ValueError:
            problems.append(f"The sitemap index lists an invalid URL: {child.url[:200]!r}.")
            continue
        if key in visited:
            problems.append(f"The sitemap index lists {child.url} again (a cycle); it was skipped.")
            continue
        visited.add(key)
        stamp = child.lastmod.isoformat() if child.lastmod else ""
        if stamp and seen_lastmod.get(key) == stamp and not state.backlog:
            lastmods[key] = stamp  # unchanged since it was last read
            continue
        if fetched >= policy.max_children:
            more = True
            problems.append(f"More than {policy.max_children} child sitemaps to read; the rest wait for the next poll.")
            break
        fetched += 1
        try:
            child_page = fetch(child.url)
            source = parse(
                child_page.data,
                url=child_page.url,
                content_type=child_page.content_type,
                known_url=known_url,
                max_items=policy.max_items,
                max_children=policy.max_children,
            )
        except NewsdeskError as exc:
            problems.append(f"{child.url}: {exc}")
            continue
        if source.kind == "sitemapindex":
            if depth >= policy.max_depth:
                problems.append(f"{child.url} is a sitemap index nested too deep; it was skipped.")
            else:
                queue.extend((grandchild, depth + 1) for grandchild in source.children)
            continue
        lastmods[key] = stamp
        more = more or source.more
        for item in source.items:
            items.setdefault(item.url, item)
    if not lastmods:
        reason = "; ".join(problems[:3]) or "it lists no sitemaps"
        return _failed(state, f"Nothing could be read from the sitemap index {state.url}: {reason}", now, policy)
    ordered = newest_first(list(items.values()))
    more = more or len(ordered) > policy.max_items
    child_lastmod = tuple(sorted((k, v) for k, v in lastmods.items() if v))
    new_state = _succeeded(state, page, now, policy, backlog=more, child_lastmod=child_lastmod)
    return PollResult(new_state, items=tuple(ordered[: policy.max_items]), more=more, warnings=tuple(problems))


def _succeeded(
    state: FeedState,
    page: FetchedPage,
    now: datetime,
    policy: PollPolicy,
    *,
    title: str | None = None,
    backlog: bool = False,
    child_lastmod: tuple[tuple[str, str], ...] | None = None,
) -> FeedState:
    return replace(
        state,
        title=title or state.title,
        etag=page.etag,
        last_modified=page.last_modified,
        last_poll=now,
        next_poll=next_poll_at(now, 0, policy, backlog=backlog),
        consecutive_failures=0,
        last_error=None,
        backlog=backlog,
        child_lastmod=state.child_lastmod if child_lastmod is None else child_lastmod,
    )


def _failed(state: FeedState, error: str, now: datetime, policy: PollPolicy) -> PollResult:
    failures = state.consecutive_failures + 1
    return PollResult(
        replace(
            state,
            last_poll=now,
            next_poll=next_poll_at(now, failures, policy),
            consecutive_failures=failures,
            last_error=error,
        ),
        error=error,
    )


# --- one request at a time per host --------------------------------------------------------------


def host_key(url: str) -> str:
    """The host a URL's request goes to (lower case, without 'www.')."""
    return _host(url) or ""


class HostGate:
    """Lets one request at a time go to each host, optionally spaced min_gap seconds apart; thread-safe."""

    def __init__(
        self,
        min_gap: float = 0.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.min_gap, self.clock, self.sleep = min_gap, clock, sleep
        self._guard = threading.Lock()
        self._locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._last: dict[str, float] = {}

    @contextmanager
    def hold(self, url: str) -> Iterator[None]:
        """Hold the URL's host for the duration of one request."""
        host = host_key(url)
        with self._guard:
            lock = self._locks[host]
        with lock:
            wait = self._last.get(host, float("-inf")) + self.min_gap - self.clock()
            if wait > 0:
                self.sleep(wait)
            try:
                yield
            finally:
                self._last[host] = self.clock()

    def wrap(self, fetch: Callable[..., FetchedPage]) -> Callable[..., FetchedPage]:
        """A fetch function whose every call holds the host of the URL it asks for."""

        def gated(url: str, **kwargs: Any) -> FetchedPage:
            with self.hold(url):
                return fetch(url, **kwargs)

        return gated


def due_by_host(states: Iterable[FeedState], now: datetime) -> list[FeedState]:
    """The feeds due at `now`, most overdue first, interleaved by host so parallel workers spread over hosts."""
    oldest = datetime.min.replace(tzinfo=UTC)
    queues: dict[str, deque[FeedState]] = defaultdict(deque)
    for state in sorted((s for s in states if s.is_due(now)), key=lambda s: s.next_poll or oldest):
        queues[host_key(state.url)].append(state)
    order: list[FeedState] = []
    while queues:
        for host in list(queues):
            order.append(queues[host].popleft())
            if not queues[host]:
                del queues[host]
    return order
