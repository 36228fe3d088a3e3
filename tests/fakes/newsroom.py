"""A small news site on the tests' real HTTP server (tests/conftest.py's `site`): article pages and an RSS
feed that change as a test publishes or edits, both answering conditional GETs with 304 when nothing changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from .site import Reply, Site, SiteHandler

OUTLET = "Harbour Gazette"
PROMO = "Sign up for the Harbour Gazette morning briefing to get the day's top stories in your inbox."
CREDIT = "The harbour wall at dawn on Saturday. Omar Torres/AFP/Getty Images"
CORRECTION = "Correction: An earlier version of this story gave the wrong length for the repaired wall."

# Stories with distinct vocabularies, so that a question finds its own.
STORIES: dict[str, tuple[str, list[str]]] = {
    "harbour": (
        "Harbour at Port Elwin reopens after storm repairs",
        [
            "The harbour at Port Elwin reopened on Saturday after a week of repairs to the sea wall, the port "
            "authority said.",
            "Engineers replaced forty metres of the wall, which the storm had breached in two places.",
            "Fishing boats returned to their moorings and the ferry to Castle Island resumes its timetable on Monday.",
        ],
    ),
    "library": (
        "Council approves new library on Mill Street",
        [
            "The town council voted nine to two on Tuesday to build a new public library on Mill Street.",
            "The library will hold a children's reading room, a makerspace with three 3D printers and a local archive.",
            "Construction is expected to begin in the autumn and to cost 4.2 million pounds.",
        ],
    ),
    "rail": (
        "Rail strike ends after drivers accept pay deal",
        [
            "Train drivers on the coastal line ended their strike on Wednesday after accepting a pay offer of "
            "six percent.",
            "The union said the deal also limits night shifts to four a week.",
            "Full services between Port Elwin and Brackenford return on Thursday morning.",
        ],
    ),
    "wildfire": (
        "Wildfire near Pine Ridge contained by firefighters",
        [
            "Firefighters contained a wildfire that burned three hundred hectares of forest near Pine Ridge.",
            "Two helicopters dropped water on the fire for six hours before the wind changed direction.",
            "Residents of forty homes who had been evacuated were allowed back on Friday evening.",
        ],
    ),
    "hospital": (
        "St Agnes hospital opens new cancer wing",
        [
            "St Agnes hospital opened a cancer treatment wing with two radiotherapy machines on Monday.",
            "The wing was paid for by a fundraising appeal that collected 1.8 million pounds in three years.",
            "Patients who travelled to the city for treatment can now be treated in town.",
        ],
    ),
}


@dataclass
class Page:
    """An article page: its title and paragraphs as served now."""

    slug: str
    title: str
    paragraphs: list[str]
    published: datetime
    author: str = "Ann Lee"

    def html(self) -> bytes:
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in self.paragraphs)
        return (
            f"<html><head><title>{escape(self.title)} - {OUTLET}</title>"
            f'<meta property="og:title" content="{escape(self.title)}">'
            f'<meta property="og:site_name" content="{OUTLET}"><meta name="author" content="{self.author}">'
            f"</head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article>"
            f"<h1>{escape(self.title)}</h1>{paragraphs}</article><footer>Copyright {OUTLET}</footer>"
            f"</body></html>"
        ).encode()


@dataclass
class Newsroom:
    """The site's pages and its feed (newest first); `feed_path` serves the feed, `/news/<slug>` the pages."""

    site: Site
    base: str = ""  # how the feed links pages (default the server's own address)
    feed_path: str = "/feed.xml"
    pages: dict[str, Page] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)  # pages the server answers 404 for

    def __post_init__(self) -> None:
        self.base = self.base or self.site.base
        self.site.routes[self.feed_path] = conditional(lambda: (self.feed(), "application/rss+xml"))

    @property
    def feed_url(self) -> str:
        return self.base + self.feed_path

    def url(self, slug: str) -> str:
        return f"{self.base}/news/{slug}"

    def publish(
        self, slug: str, *, extra: tuple[str, ...] = (), first: tuple[str, ...] = (), published: datetime | None = None
    ) -> str:
        """Put one of STORIES on the site and in the feed, with extra lines after its first paragraph and
        `first` lines before it; returns its URL."""
        title, paragraphs = STORIES[slug]
        when = published or datetime.now(UTC) - timedelta(minutes=60 - len(self.pages))  # newest last
        self.pages[slug] = Page(slug, title, [*first, paragraphs[0], *extra, *paragraphs[1:]], when)
        self.site.routes[f"/news/{slug}"] = conditional(lambda: self._page(slug))
        return self.url(slug)

    def edit(self, slug: str, paragraphs: list[str]) -> None:
        """Change a page's text (the feed still lists it the same)."""
        self.pages[slug].paragraphs = paragraphs

    def _page(self, slug: str) -> tuple[bytes, str] | None:
        return None if slug in self.hidden else (self.pages[slug].html(), "text/html; charset=utf-8")

    def feed(self) -> bytes:
        items = "".join(
            f"<item><title>{escape(p.title)}</title><link>{self.url(p.slug)}</link>"
            f"<guid isPermaLink='true'>{self.url(p.slug)}</guid><pubDate>{format_datetime(p.published, True)}"
            f"</pubDate><description>{escape(p.paragraphs[0][:80])}…</description></item>"
            for p in sorted(self.pages.values(), key=lambda p: p.published, reverse=True)
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{OUTLET}</title>'
            f"<link>{self.base}/</link><description>Local news</description>{items}</channel></rss>"
        ).encode()


def conditional(make: Callable[[], tuple[bytes, str] | None]) -> Callable[[SiteHandler], None]:
    """A route serving what make() gives (None: 404) with an ETag, and 304 to a request that has it already."""

    def route(handler: SiteHandler) -> None:
        made = make()
        if made is None:
            handler.reply(Reply(b"gone", "text/plain", 404))
            return
        body, content_type = made
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if handler.headers.get("If-None-Match") == etag:
            handler.reply(Reply(b"", "", 304, headers=[("ETag", etag)]))
        else:
            handler.reply(Reply(body, content_type, headers=[("ETag", etag)]))

    return route
