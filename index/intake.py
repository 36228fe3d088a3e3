"""Live intake: followed feeds and sitemaps polled into articles, and young articles fetched again when their
page changed. Polling policy and parsing live in polling.py and feeds.py; this module stores feeds and their
items in the catalog and hands new articles to the one write path."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from . import fetch as fetching
from .articles import Article, article_from_bytes, canonical_url, url_article_id
from .catalog import Catalog, now_text
from .errors import FeedError, FeedNotFound, InvalidArticle, InvalidInput, NewsdeskError
from .feeds import ItemArticle, KnownURL, article_for_item, parse_source
from .fetch import FetchedPage
from .polling import FeedState, HostGate, PollPolicy, due_by_host, poll_feed
from .results import AddResult, ArticleInfo, _jsonable
from .servers import scoped_article_id, server_of
from .settings import Settings

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]


class AddArticles(Protocol):
    """The one write path: articles added to a server's corpus (None: the shared one), by an actor."""

    def __call__(
        self, articles: Sequence[Article], *, server: str | None = None, actor: str | None = None
    ) -> list[AddResult]: ...


MAX_ITEM_ATTEMPTS = 3  # an item that failed this often is given up ('skipped')
_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FeedInfo:
    """A followed feed or sitemap as listed: where it is, what it is called, how its polling goes."""

    id: int
    url: str
    title: str | None
    added_at: datetime | None
    last_poll: datetime | None
    next_poll: datetime | None
    items_added: int
    last_error: str | None
    failures: int = 0  # polls that failed in a row (the feed backs off)
    server: str | None = None  # the server whose corpus its articles join; None: the shared corpus

    @property
    def name(self) -> str:
        """The feed's title, else its URL."""
        return self.title or self.url

    def to_dict(self) -> dict:
        """JSON-able form."""
        return _jsonable(asdict(self))  # type: ignore[return-value]


@dataclass(frozen=True)
class ItemFailure:
    """A feed item (or an article being re-fetched) that could not become an article, and why."""

    url: str
    error: str


@dataclass(frozen=True)
class FeedReport:
    """One feed's poll: the articles it added, the items that failed, or why the feed itself failed."""

    feed: FeedInfo
    added: tuple[ArticleInfo, ...] = ()
    failed: tuple[ItemFailure, ...] = ()
    error: str | None = None
    not_modified: bool = False
    more: bool = False  # more new items than one poll takes: the rest come with the next poll
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        """JSON-able form."""
        return _jsonable(asdict(self))  # type: ignore[return-value]


@dataclass(frozen=True)
class RefreshReport:
    """Young articles fetched again: how many were checked, which changed, which could not be fetched."""

    checked: int = 0
    updated: tuple[ArticleInfo, ...] = ()
    failed: tuple[ItemFailure, ...] = ()


class Intake:
    """Feeds in the catalog, polled politely (conditional GET, one request at a time per host, backoff)."""

    def __init__(self, catalog: Catalog, settings: Settings, add: AddArticles) -> None:
        self.catalog, self.settings, self.add = catalog, settings, add
        self.gate = HostGate()
        self._pass = threading.Lock()  # one polling pass at a time in this process

    def policy(self) -> PollPolicy:
        """The polling policy of the settings."""
        s = self.settings
        return PollPolicy(
            interval=timedelta(minutes=s.feed_poll_minutes),
            max_items=s.feed_max_items,
            max_backoff=timedelta(hours=max(s.feed_backoff_hours, s.feed_poll_minutes / 60)),
        )

    def fetch_feed(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchedPage:
        """The safe fetch in feed mode, conditional when validators are given, holding the URL's host."""
        return self._fetch(url, feed=True, etag=etag, last_modified=last_modified)

    def fetch_page(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> FetchedPage:
        """The safe fetch of an article page, as a URL add does it, holding the URL's host."""
        return self._fetch(url, feed=False, etag=etag, last_modified=last_modified)

    def _fetch(self, url: str, **options: object) -> FetchedPage:
        s = self.settings
        with self.gate.hold(url):
            return fetching.fetch_url(
                url,
                timeout=s.fetch_timeout,
                max_bytes=s.fetch_max_bytes,
                allow_private=s.fetch_allow_private,
                user_agent=s.user_agent,
                resolver=fetching.resolve_host,
                **options,  # type: ignore[arg-type]
            )

    # feeds ----------------------------------------------------------------------------------------
    def add_feed(self, url: str, server: str | None = None) -> FeedInfo:
        """Follow a feed or sitemap for a server (None: the shared corpus) after reading it once; a source that
        cannot be read stores nothing."""
        url = url.strip()
        if not url.lower().startswith(("http://", "https://")) or len(url) > 2048:
            raise InvalidInput(f"{url[:200]!r} is not a feed address: give an http(s) URL.")
        if existing := self._find(url, server):
            raise InvalidInput(f"That feed is already followed: {existing.name} (feed {existing.id}).")
        policy = replace(self.policy(), max_items=1)
        page = self.fetch_feed(url)
        source = parse_source(
            page.data, url=page.url, content_type=page.content_type, max_items=1, max_children=policy.max_children
        )
        if source.kind == "sitemapindex":  # its children must be readable too (and not loop back to it)
            check = poll_feed(FeedState(url), self.fetch_feed, lambda u: False, policy=policy)
            if check.error:
                raise FeedError(check.error)
        state = FeedState(url, title=source.title)
        with self.catalog.transaction("follow the feed") as db:
            feed_id = db.execute(
                "INSERT INTO feeds(url, title, state, added_at, server) VALUES(?, ?, ?, ?, ?)",
                (url, source.title, json.dumps(state.to_dict()), now_text(), server),
            ).lastrowid
        return self._info(int(feed_id or 0))

    def remove_feed(self, feed: int | str, server: str | None = None) -> FeedInfo:
        """Stop following one of a server's own feeds (None: a shared one), by id or URL; the articles it
        brought stay."""
        info = self._resolve(feed, server)
        with self.catalog.transaction("remove the feed") as db:
            db.execute("DELETE FROM feeds WHERE id=?", (info.id,))
        return info

    def list_feeds(self, server: str | None = None, *, own: bool = False) -> list[FeedInfo]:
        """The feeds a server reads (its own and the shared ones; with own, its own only; None: the shared
        ones), in the order they were added."""
        servers = [server] if own or server is None else [server, None]
        sql = f"SELECT {_FEED_COLUMNS} FROM feeds WHERE server IS ?" + " OR server IS ?" * (len(servers) - 1)
        return [_feed_info(row) for row in self.catalog.query(sql + " ORDER BY id", servers)]

    def poll(
        self,
        progress: Progress | None = None,
        now: datetime | None = None,
        *,
        every: bool = False,
        on_feed: Callable[[FeedReport], None] | None = None,
    ) -> list[FeedReport]:
        """Poll the feeds that are due (every feed with every=True), one after another; new items become
        articles. Returns one report per feed polled; `on_feed` gets each as soon as it is done."""
        with self._pass:
            now = now or datetime.now(UTC)
            servers = dict(self.catalog.query("SELECT id, server FROM feeds"))
            states = {id_: state for id_, state in self._states()}
            ids = {id(state): id_ for id_, state in states.items()}
            order = due_by_host(states.values(), _FAR_FUTURE if every else now)
            reports = []
            if progress:
                progress(0, len(order))
            for done, state in enumerate(order, 1):
                report = self._poll_one(ids[id(state)], state, now, servers.get(ids[id(state)]))
                reports.append(report)
                if on_feed:
                    on_feed(report)
                if progress:
                    progress(done, len(order))
            return reports

    def _poll_one(self, feed_id: int, state: FeedState, now: datetime, server: str | None) -> FeedReport:
        result = poll_feed(state, self.fetch_feed, self._known(feed_id, server), policy=self.policy(), now=now)
        pages: dict[str, FetchedPage] = {}

        def fetch_item(url: str) -> FetchedPage:
            page = pages[url] = self.fetch_page(url)
            return page

        outcomes = [
            article_for_item(item, fetch_item, max_bytes=self.settings.max_article_bytes) for item in result.items
        ]
        stored = self._store(outcomes, server, f"feed:{feed_id}")
        added = [r.article for r in stored.values() if r.status != "unchanged"]
        failed = [ItemFailure(o.item.url, o.error or "No article text.") for o in outcomes if o.item.url not in stored]
        with self.catalog.transaction("record the feed's poll") as db:
            if db.execute("SELECT 1 FROM feeds WHERE id=?", (feed_id,)).fetchone() is None:
                return FeedReport(_info_of(feed_id, result.state, server), tuple(added), tuple(failed), result.error)
            new_state = result.state.with_added(len(added))
            db.execute(
                "UPDATE feeds SET state=?, title=COALESCE(?, title) WHERE id=?",
                (json.dumps(new_state.to_dict()), new_state.title, feed_id),
            )
            for outcome in outcomes:
                _record_item(db, feed_id, outcome, stored.get(outcome.item.url))
            for o in outcomes:
                if o.source == "page" and o.item.url in stored and (page := pages.get(o.item.url)) is not None:
                    remember_fetch(db, stored[o.item.url].article.id, page)
        if result.error:
            log.warning("Feed %s failed: %s", state.url, result.error)
        return FeedReport(
            self._info(feed_id),
            tuple(added),
            tuple(failed),
            result.error,
            result.not_modified,
            result.more,
            result.warnings,
        )

    def _store(self, outcomes: list[ItemArticle], server: str | None, actor: str) -> dict[str, AddResult]:
        """Add the items' articles to the feed's corpus in one batch; when the batch is refused, one by one (by
        item URL)."""
        ready = [(o.item.url, o.article) for o in outcomes if o.article is not None]
        if not ready:
            return {}
        try:
            return dict(
                zip([u for u, _ in ready], self.add([a for _, a in ready], server=server, actor=actor), strict=False)
            )
        except InvalidArticle:
            pass
        out = {}
        for url, article in ready:
            try:
                out[url] = self.add([article], server=server, actor=actor)[0]
            except InvalidArticle as exc:
                outcomes[:] = [replace(o, article=None, error=str(exc)) if o.item.url == url else o for o in outcomes]
        return out

    def _known(self, feed_id: int, server: str | None) -> KnownURL:
        """known_url for one feed: its items added or given up, and every article stored in its corpus."""
        rows = self.catalog.query(
            "SELECT url, status FROM feed_items WHERE feed_id=? AND status != 'failed'", (feed_id,)
        )
        seen = {url for url, _ in rows}

        def known(url: str) -> bool:
            base = url_article_id(url)
            return (
                url in seen
                or self.catalog.content_hash(base if server is None else scoped_article_id(server, base)) is not None
            )

        return known

    # updates --------------------------------------------------------------------------------------
    def refresh(self, max_age: timedelta | None = None, now: datetime | None = None) -> RefreshReport:
        """Fetch again (conditionally) the articles from the web younger than max_age (default the setting
        NEWSDESK_REFRESH_HOURS); a changed page replaces its article, whose id stays."""
        age = timedelta(hours=self.settings.refresh_hours) if max_age is None else max_age
        if age <= timedelta(0):
            return RefreshReport()
        since = ((now or datetime.now(UTC)) - age).date().isoformat()
        rows = self.catalog.query(
            "SELECT id, url, etag, last_modified, outlet, published, authors, server FROM articles"
            " WHERE fetched_at IS NOT NULL AND url IS NOT NULL AND COALESCE(published, substr(added_at, 1, 10)) >= ?"
            " ORDER BY id",
            (since,),
        )
        updated, failed = [], []
        for article_id, url, etag, last_modified, outlet, published, authors, corpus in rows:
            try:
                page = self.fetch_page(url, etag=etag, last_modified=last_modified)
                if not page.not_modified:
                    fresh = article_from_bytes(
                        page.data, content_type=page.content_type, url=url, max_bytes=self.settings.max_article_bytes
                    )
                    fresh = replace(
                        fresh,
                        url=url,
                        outlet=outlet or fresh.outlet,  # the id and outlet stay
                        published=date.fromisoformat(published) if published else fresh.published,
                        authors=fresh.authors or tuple(json.loads(authors)),
                    )
                    result = self.add([fresh], server=server_of(corpus), actor="refresh")[0]  # same id, corpus
                    if result.status != "unchanged":
                        updated.append(result.article)
            except NewsdeskError as exc:
                failed.append(ItemFailure(url, str(exc)))
                continue
            with self.catalog.transaction("remember the fetch") as db:
                remember_fetch(db, article_id, page)
        return RefreshReport(len(rows), tuple(updated), tuple(failed))

    # helpers --------------------------------------------------------------------------------------
    def _states(self) -> list[tuple[int, FeedState]]:
        return [
            (int(id_), _state(url, title, state))
            for id_, url, title, state in self.catalog.query("SELECT id, url, title, state FROM feeds")
        ]

    def _info(self, feed_id: int) -> FeedInfo:
        rows = self.catalog.query(f"SELECT {_FEED_COLUMNS} FROM feeds WHERE id=?", (feed_id,))
        if not rows:
            raise FeedNotFound(f"No feed has the id {feed_id}.")
        return _feed_info(rows[0])

    def _own(self, feed_id: int, server: str | None) -> FeedInfo:
        info = self._info(feed_id)
        if info.server != server:  # another server's feed, or a shared one asked for by a server: not this one's
            raise FeedNotFound(f"No feed of {'this server' if server else 'the shared corpus'} has the id {feed_id}.")
        return info

    def _find(self, url: str, server: str | None) -> FeedInfo | None:
        wanted = _canonical(url)
        return next((f for f in self.list_feeds(server, own=True) if f.url == url or _canonical(f.url) == wanted), None)

    def _resolve(self, feed: int | str, server: str | None) -> FeedInfo:
        text = str(feed).strip()
        if text.isdigit():
            return self._own(int(text), server)
        found = self._find(text, server)
        if found is None:
            raise FeedNotFound(f"No feed is followed at {text[:200]!r}; `feeds list` shows them.")
        return found


def remember_fetch(db: sqlite3.Connection, article_id: str, page: FetchedPage) -> None:
    """When an article's page was fetched, with its validators (inside a transaction)."""
    db.execute(
        "UPDATE articles SET fetched_at=?, etag=COALESCE(?, etag), last_modified=COALESCE(?, last_modified) WHERE id=?",
        (now_text(), page.etag, page.last_modified, article_id),
    )


def _record_item(db: sqlite3.Connection, feed_id: int, outcome: ItemArticle, result: AddResult | None) -> None:
    """Remember an item: added (with its article), or failed once more (given up after MAX_ITEM_ATTEMPTS)."""
    status = "added" if result is not None else "failed"
    db.execute(
        "INSERT INTO feed_items(feed_id, url, status, attempts, last_error, article_id, seen_at)"
        " VALUES(?, ?, ?, 1, ?, ?, ?) ON CONFLICT(feed_id, url) DO UPDATE SET"
        " attempts=attempts + 1, last_error=excluded.last_error, article_id=excluded.article_id,"
        " status=CASE WHEN excluded.status='failed' AND attempts + 1 >= ? THEN 'skipped' ELSE excluded.status END",
        (
            feed_id,
            outcome.item.url,
            status,
            None if result else outcome.error,
            result.article.id if result else None,
            now_text(),
            MAX_ITEM_ATTEMPTS,
        ),
    )


_FEED_COLUMNS = "id, url, title, state, added_at, server"


def _state(url: str, title: str | None, text: str) -> FeedState:
    data = json.loads(text or "{}")
    return FeedState.from_dict({**data, "url": url, "title": data.get("title") or title})


def _feed_info(row: tuple) -> FeedInfo:
    feed_id, url, title, text, added_at, server = row
    state = _state(url, title, text)
    return replace(
        _info_of(int(feed_id), state, server), added_at=datetime.fromisoformat(added_at) if added_at else None
    )


def _info_of(feed_id: int, state: FeedState, server: str | None = None) -> FeedInfo:
    return FeedInfo(
        id=feed_id,
        url=state.url,
        title=state.title,
        added_at=None,
        last_poll=state.last_poll,
        next_poll=state.next_poll,
        items_added=state.items_added,
        last_error=state.last_error,
        failures=state.consecutive_failures,
        server=server,
    )


def _canonical(url: str) -> str:
    try:
        return canonical_url(url)
    except ValueError:
        return url
