"""Clutter removed in the write path: each article's body is cleaned against its outlet's line counts before it
is chunked; the body as it came and its correction notices are stored beside the cleaned one, and the line
counts are recorded in the article's own transaction (index/clutter.py does the judging)."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from .articles import Article
from .catalog import Catalog, now_text
from .chunking import index_title
from .clutter import MemoryLineStats, SqliteLineStats, body_fingerprints, clean, outlet_key
from .servers import server_of

MIN_BODY_WORDS = 10  # a cleaned body shorter than this was all clutter (a consent or video form): index the title
Crossed = dict[str, set[int]]  # outlet -> fingerprints that just became boilerplate


@dataclass(frozen=True)
class Prepared:
    """An article ready to be chunked (its cleaned body), and what is stored beside it."""

    article: Article  # the body is the cleaned one: what is chunked, hashed and quoted
    raw_body: str
    corrections: tuple[str, ...] = ()
    outlet: str | None = None
    fingerprints: frozenset[int] = frozenset()

    @property
    def corrections_json(self) -> str:
        """The correction notices as stored."""
        return json.dumps(list(self.corrections))


class Cleaner:
    """Cleans the articles of one add against the catalog's line counts plus those of the add's own articles
    not recorded yet, so that a many-article add is judged as a whole (two passes in effect) while nothing
    is written before each article's own transaction."""

    def __init__(self, catalog: Catalog, articles: Sequence[Article]) -> None:
        self.catalog = catalog
        self.stored = SqliteLineStats(catalog.reader())
        self.pending = MemoryLineStats()
        if len(articles) > 1:
            recorded = _recorded(catalog, [a.id for a in articles])
            for article in articles:
                outlet = outlet_key(article.url)
                if outlet and article.id not in recorded:
                    self.pending.record(outlet, article.id, body_fingerprints(article.body))

    def seen(self, outlet: str, fingerprints: Iterable[int], exclude: str | None = None) -> dict[int, int]:
        """LineStats.seen over the catalog and the add's pending articles."""
        fps = list(fingerprints)
        counts = self.stored.seen(outlet, fps, exclude)
        for fp, n in self.pending.seen(outlet, fps, exclude).items():
            counts[fp] = counts.get(fp, 0) + n
        return counts

    def prepare(self, article: Article) -> Prepared:
        """The article with its clutter removed and its correction notices set apart. An article without a
        link is kept as given: its id is its content's hash, which cleaning would change."""
        outlet = outlet_key(article.url)
        if outlet is None:
            return Prepared(article, article.body)
        cleaned = clean(article.body, outlet, self, article.id)  # type: ignore[arg-type]
        body = cleaned.body
        if (cleaned.removed or cleaned.corrections) and len(body.split()) < MIN_BODY_WORDS:
            body = index_title(article.title, article.url) or body or article.body
        return Prepared(
            replace(article, body=body),
            article.body,
            cleaned.corrections,
            outlet,
            frozenset(body_fingerprints(article.body)),
        )

    def written(self, article_ids: Iterable[str]) -> None:
        """These articles' lines are now counted by the catalog."""
        for article_id in article_ids:
            self.pending.forget(article_id)


def is_stored(catalog: Catalog, ready: Prepared) -> bool:
    """Whether the article is stored with the same indexed content and correction notices."""
    rows = catalog.query("SELECT content_hash, corrections FROM articles WHERE id=?", (ready.article.id,))
    return bool(rows) and rows[0] == (ready.article.content_hash, ready.corrections_json)


def previous_version(db: sqlite3.Connection, article_id: str) -> tuple[str, str, str] | None:
    """The stored version's (body as it came, content hash, corrections), read in the write transaction before
    it is replaced."""
    return db.execute(
        "SELECT COALESCE(raw_body, body), content_hash, corrections FROM articles WHERE id=?", (article_id,)
    ).fetchone()


def save(db: sqlite3.Connection, ready: Prepared, previous: tuple[str, str, str] | None, crossed: Crossed) -> None:
    """Store what cleaning set apart and record the article's lines (inside the transaction that saved it).
    The article is marked updated when it came with another body and its text or corrections changed (not
    when it was only cleaned again). Adds to `crossed` the lines that have just become boilerplate."""
    a = ready.article
    changed = (
        previous is not None
        and previous[0] != ready.raw_body
        and previous[1:] != (a.content_hash, ready.corrections_json)
    )
    db.execute(
        "UPDATE articles SET raw_body=?, corrections=?, updated_at=CASE WHEN ? THEN ? ELSE updated_at END WHERE id=?",
        (ready.raw_body if ready.raw_body != a.body else None, ready.corrections_json, changed, now_text(), a.id),
    )
    stats = SqliteLineStats(db)
    if ready.outlet:
        crossed.setdefault(ready.outlet, set()).update(stats.record(ready.outlet, a.id, ready.fingerprints))
    else:
        stats.forget(a.id)


def record_lines(db: sqlite3.Connection, articles: Sequence[Article]) -> Crossed:
    """Record the lines of articles before they are added (bulk import's first pass; inside a transaction)."""
    stats, crossed = SqliteLineStats(db), defaultdict[str, set[int]](set)
    for article in articles:
        if outlet := outlet_key(article.url):
            crossed[outlet] |= stats.record(outlet, article.id, body_fingerprints(article.body))
    return dict(crossed)


def to_clean_again(
    catalog: Catalog, crossed: Crossed, exclude: frozenset[str] | set[str] = frozenset()
) -> list[Article]:
    """The stored articles holding lines that have just become boilerplate (but those in `exclude`, cleaned
    knowing them), as they came (raw bodies)."""
    stats = SqliteLineStats(catalog.reader())
    ids = sorted({a for outlet, fps in crossed.items() if fps for a in stats.articles_with(outlet, fps)} - exclude)
    return stored_as_added(catalog, ids)


def stored_as_added(catalog: Catalog, ids: Sequence[str]) -> list[Article]:
    """Stored articles with the body they came with (to clean them again)."""
    out = []
    for start in range(0, len(ids), 500):
        part = list(ids[start : start + 500])
        marks = ",".join("?" * len(part))
        for article_id, server, title, body, outlet, published, url, authors in catalog.query(
            "SELECT id, server, title, COALESCE(raw_body, body), outlet, published, url, authors FROM articles"
            f" WHERE id IN ({marks})",
            part,
        ):
            article = Article.from_dict(
                {
                    "title": title,
                    "body": body,
                    "outlet": outlet,
                    "published": published,
                    "url": url,
                    "authors": json.loads(authors),
                }
            )
            out.append(replace(article, server=server_of(server), stored_id=article_id))  # its id and corpus stay
    return out


def _recorded(catalog: Catalog, ids: list[str]) -> set[str]:
    out: set[str] = set()
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        out.update(
            r[0]
            for r in catalog.query(f"SELECT DISTINCT article_id FROM line_seen WHERE article_id IN ({marks})", part)
        )
    return out
