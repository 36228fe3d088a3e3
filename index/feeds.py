"""Feeds (RSS 0.9x-2.0, RSS 1.0, Atom) and news sitemaps read into items; an item becomes an article."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from .articles import Article, _host, _parse_content_type, article_from_bytes, article_from_text, canonical_url
from .errors import BlockedURL, FeedError, NewsdeskError
from .feedxml import FeedScanner, root_element, to_utf8, without_items
from .fetch import FetchedPage

DEFAULT_MAX_ITEMS = 200
DEFAULT_MAX_CHILDREN = 10
MIN_FALLBACK_WORDS = 80  # a feed's own text shorter than this is a teaser, not an article
FEED_ROOTS = {"rss", "rdf", "feed"}
SITEMAP_ROOTS = {"urlset", "sitemapindex"}
KnownURL = Callable[[str], bool]
_BLOCK_TAGS = (
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "tr",
    "pre",
    "section",
    "article",
    "figure",
    "figcaption",
    "ul",
    "ol",
    "table",
    "hr",
)


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed or sitemap: a canonical link and what the source says about it."""

    url: str
    title: str | None = None
    published: datetime | None = None
    summary: str = ""  # the item's own text (content or description), HTML removed
    authors: tuple[str, ...] = ()
    outlet: str | None = None  # the feed's title, or the news sitemap's publication name

    def fallback_article(self, *, max_bytes: int, min_words: int = MIN_FALLBACK_WORDS) -> Article | None:
        """The item's own text as an article, when it is long enough to be one (else None)."""
        if not self.title or len(self.summary.split()) < min_words:
            return None
        return article_from_text(
            self.summary,
            title=self.title,
            outlet=self.outlet,
            url=self.url,
            published=self.published.date() if self.published else None,
            authors=self.authors,
            max_bytes=max_bytes,
        )


@dataclass(frozen=True)
class SitemapRef:
    """A child sitemap named by a sitemap index."""

    url: str
    lastmod: datetime | None = None


@dataclass(frozen=True)
class ParsedSource:
    """What one feed or sitemap document holds that is not stored yet (newest first, at most max_items)."""

    kind: str  # 'rss', 'atom', 'sitemap' or 'sitemapindex'
    title: str | None
    items: tuple[FeedItem, ...] = ()
    more: bool = False  # more new items than max_items: the rest waits for the next poll
    children: tuple[SitemapRef, ...] = ()  # a sitemap index's children, newest first, at most max_children
    skipped_children: int = 0  # children over max_children


def parse_source(
    data: bytes,
    *,
    url: str,
    content_type: str | None = None,
    known_url: KnownURL = lambda u: False,
    max_items: int = DEFAULT_MAX_ITEMS,
    max_children: int = DEFAULT_MAX_CHILDREN,
) -> ParsedSource:
    """Read a feed or sitemap document; known_url(canonical_url) says which items are already stored."""
    from .sitemaps import parse_sitemap

    _, charset = _parse_content_type(content_type)
    document = to_utf8(data, charset)
    root = root_element(document, "feed")
    if root in SITEMAP_ROOTS:
        return parse_sitemap(document, url=url, known_url=known_url, max_items=max_items, max_children=max_children)
    if root not in FEED_ROOTS:
        what = "an HTML page" if root == "html" else f"an XML document with a <{root}> root"
        raise FeedError(f"{url} is {what}, not an RSS/Atom feed or a sitemap.")
    return _parse_feed(document, url=url, known_url=known_url, max_items=max_items)


def _parse_feed(document: bytes, *, url: str, known_url: KnownURL, max_items: int) -> ParsedSource:
    import feedparser

    spans = FeedScanner(document, url).scan()
    keep: set[int] = set()
    seen: set[str] = set()
    unknown = 0
    for index, span in enumerate(spans):  # feeds list their newest items first
        link = _canonical(span.link) if span.link else None  # a guess: feedparser's link is checked again below
        if link is not None and (link in seen or known_url(link)):
            continue
        if link is not None:
            seen.add(link)
        unknown += 1
        if len(keep) < max_items:
            keep.add(index)
    parsed = feedparser.parse(
        io.BytesIO(without_items(document, spans, keep)),
        response_headers={"content-location": url},
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    title = _one_line(parsed.feed.get("title"))
    items: list[FeedItem] = []
    links: set[str] = set()
    for entry in parsed.entries:
        item = _feed_item(entry, title)
        if item is not None and item.url not in links and not known_url(item.url):
            links.add(item.url)
            items.append(item)
    kind = "atom" if parsed.get("version", "").startswith("atom") else "rss"
    return ParsedSource(kind=kind, title=title, items=tuple(newest_first(items)[:max_items]), more=unknown > max_items)


def _feed_item(entry: dict, outlet: str | None) -> FeedItem | None:
    link = entry.get("link") or (entry.get("id") if entry.get("guidislink") else None)
    url = _canonical(link) if link and re.match(r"https?://", link, re.I) else None
    if url is None:
        return None
    texts = [*(entry.get("content") or []), entry.get("summary_detail") or {}]
    summary = max((_plain(text) for text in texts), key=len, default="")
    names = [a.get("name") for a in entry.get("authors") or [] if isinstance(a, dict)] or [entry.get("author")]
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    return FeedItem(
        url=url,
        title=_one_line(entry.get("title")),
        summary=summary,
        outlet=outlet,
        published=_utc(stamp) if stamp else None,
        authors=tuple(dict.fromkeys(n.strip() for n in names if n and n.strip())),
    )


def newest_first(items: list[FeedItem]) -> list[FeedItem]:
    """Dated items newest first, then the undated ones in the order the source gave them."""
    oldest = datetime.min.replace(tzinfo=UTC)
    return sorted(items, key=lambda item: item.published or oldest, reverse=True)


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment, block elements on their own lines."""
    from lxml import etree
    from lxml import html as lxml_html

    from .articles import normalise_text

    if not html.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(html, create_parent="div")
    except (etree.LxmlError, ValueError):
        return normalise_text(html)
    for junk in root.xpath("//script|//style"):
        junk.drop_tree()
    for element in root.iter(*_BLOCK_TAGS):
        element.tail = "\n\n" + (element.tail or "")
    lines = (" ".join(line.split()) for line in root.text_content().split("\n"))
    return normalise_text("\n".join(lines))


@dataclass(frozen=True)
class ItemArticle:
    """The article an item gave (from its page, or from the feed's own text), or why there is none."""

    item: FeedItem
    article: Article | None
    source: str | None  # 'page', 'feed' or None
    error: str | None = None  # why the page could not be used (also set when the feed's text stood in)


def article_for_item(
    item: FeedItem, fetch_page: Callable[[str], FetchedPage], *, max_bytes: int, min_words: int = MIN_FALLBACK_WORDS
) -> ItemArticle:
    """Fetch and extract the item's page like a URL add; when that fails, fall back on the item's own text.

    A link refused by the fetch guard (private address, bad scheme) is never replaced by the feed's text."""
    try:
        page = fetch_page(item.url)
        article = article_from_bytes(page.data, content_type=page.content_type, url=page.url, max_bytes=max_bytes)
        if item.outlet and article.outlet == _host(article.url or page.url):  # the reader's last resort
            article = replace(article, outlet=item.outlet)
        return ItemArticle(
            item,
            article.with_defaults(
                url=page.url,
                title=item.title,
                outlet=item.outlet,
                authors=item.authors,
                published=item.published.date() if item.published else None,
            ),
            "page",
        )
    except BlockedURL as exc:
        return ItemArticle(item, None, None, str(exc))
    except NewsdeskError as exc:
        fallback = item.fallback_article(max_bytes=max_bytes, min_words=min_words)
        return ItemArticle(item, fallback, "feed" if fallback else None, str(exc))


def _canonical(link: str) -> str | None:
    try:
        return canonical_url(link.strip())
    except ValueError:  # e.g. 'http://[broken'
        return None


def _one_line(text: str | None) -> str | None:
    return " ".join(text.split()) or None if text else None


def _utc(stamp: time.struct_time) -> datetime | None:
    """feedparser's parsed date (a UTC struct_time) as an aware datetime; impossible dates give None."""
    try:
        return datetime(
            stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, min(stamp.tm_sec, 59), tzinfo=UTC
        )
    except ValueError:
        return None


def _plain(text: dict) -> str:
    """A feedparser text construct ({'type': ..., 'value': ...}) as plain text."""
    from .articles import normalise_text

    value = str(text.get("value") or "")
    return normalise_text(value) if text.get("type") == "text/plain" else html_to_text(value)
