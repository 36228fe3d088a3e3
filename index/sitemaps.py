"""Sitemaps (<urlset>, with or without <news:news>) and sitemap indexes, read in one streaming pass."""

from __future__ import annotations

import heapq
import re
from datetime import UTC, datetime
from urllib.parse import urljoin

from .articles import canonical_url
from .feeds import FeedItem, KnownURL, ParsedSource, SitemapRef
from .feedxml import XmlWalker

_OLDEST = datetime.min.replace(tzinfo=UTC)
_FIELDS = {  # (parent, element) -> field; prefixes are ignored, so news:title is ('news', 'title')
    ("url", "loc"): "loc",
    ("url", "lastmod"): "lastmod",
    ("news", "title"): "title",
    ("news", "publication_date"): "published",
    ("publication", "name"): "outlet",
    ("sitemap", "loc"): "loc",
    ("sitemap", "lastmod"): "lastmod",
}


def parse_sitemap(document: bytes, *, url: str, known_url: KnownURL, max_items: int, max_children: int) -> ParsedSource:
    """The newest max_items new URLs of a sitemap, or the newest max_children children of a sitemap index."""
    reader = _SitemapReader(url, known_url, max_items, max_children)
    reader.run(document)
    if reader.stack_root == "sitemapindex":
        children = [ref for _, _, ref in sorted(reader.children, reverse=True)]
        return ParsedSource(
            kind="sitemapindex",
            title=None,
            children=tuple(children),
            skipped_children=reader.child_count - len(children),
        )
    items = [item for _, _, item in sorted(reader.items, reverse=True)]
    return ParsedSource(kind="sitemap", title=reader.outlet, items=tuple(items), more=reader.unknown > max_items)


def w3c_datetime(text: str) -> datetime | None:
    """A sitemap date ('2024-02-10', '2024-02-10T08:30:00Z', '2024-02-10T08:30+01:00', '2024-02'); UTC."""
    text = text.strip()
    if re.fullmatch(r"\d{4}(-\d{2})?", text):
        text = (text + "-01-01")[:10]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _SitemapReader(XmlWalker):
    """Collects <url> and <sitemap> entries, keeping only the newest ones in two bounded heaps."""

    def __init__(self, base_url: str, known_url: KnownURL, max_items: int, max_children: int) -> None:
        super().__init__("sitemap")
        self.base_url, self.known_url = base_url, known_url
        self.max_items, self.max_children = max_items, max_children
        self.items: list[tuple[datetime, int, FeedItem]] = []
        self.children: list[tuple[datetime, int, SitemapRef]] = []
        self.unknown = self.child_count = self.seq = 0
        self.outlet: str | None = None
        self.stack_root = ""
        self._seen: set[str] = set()
        self._entry: dict[str, str] = {}
        self._field: str | None = None
        self._text: list[str] = []

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if len(self.stack) == 1:
            self.stack_root = name
        elif len(self.stack) == 2:
            self._entry = {}
        elif len(self.stack) > 2:
            self._field = _FIELDS.get((self.stack[-2], name))
            self._text = []

    def text(self, data: str) -> None:
        if self._field is not None:
            self._text.append(data)

    def end(self, name: str, qname: str) -> None:
        if self._field is not None:
            self._entry.setdefault(self._field, "".join(self._text).strip())
            self._field = None
        elif len(self.stack) == 2 and self._entry.get("loc"):
            self.seq += 1
            if name == "sitemap":
                self._add_child()
            elif name == "url":
                self._add_item()

    def _add_child(self) -> None:
        self.child_count += 1
        lastmod = w3c_datetime(self._entry.get("lastmod", ""))
        ref = SitemapRef(urljoin(self.base_url, self._entry["loc"]), lastmod)
        _push(self.children, (lastmod or _OLDEST, -self.seq, ref), self.max_children)

    def _add_item(self) -> None:
        try:
            url = canonical_url(urljoin(self.base_url, self._entry["loc"]))
        except ValueError:
            return
        if not url.startswith(("http://", "https://")) or url in self._seen or self.known_url(url):
            return
        self._seen.add(url)
        self.unknown += 1
        published = w3c_datetime(self._entry.get("published") or self._entry.get("lastmod", ""))
        outlet = " ".join(self._entry.get("outlet", "").split()) or None
        self.outlet = self.outlet or outlet
        item = FeedItem(
            url=url, title=" ".join(self._entry.get("title", "").split()) or None, published=published, outlet=outlet
        )
        _push(self.items, (published or _OLDEST, -self.seq, item), self.max_items)


def _push(heap: list, entry: tuple, limit: int) -> None:
    """Keep the `limit` largest entries (newest, then earliest in the document)."""
    if len(heap) < limit:
        heapq.heappush(heap, entry)
    elif limit > 0 and entry[:2] > heap[0][:2]:
        heapq.heapreplace(heap, entry)
