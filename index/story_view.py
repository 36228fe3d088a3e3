"""Reading stories for answers: which story an article is in, a story's reports by date and outlet, an article's
copies, the stories of a period by coverage. Every query reads the catalog's articles joined with the story
tables through `_MEMBERS`, the one place to narrow them (to one server's articles, say)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from .catalog import Catalog
from .servers import Scope

# Stored articles with their story row (an article written before stories existed counts as its own story).
_MEMBERS = (
    "SELECT a.id, COALESCE(s.story_id, 's' || a.id), s.copy_of, a.published, a.outlet, a.title, a.url, "
    "COALESCE(s.day, 0) FROM articles a LEFT JOIN story_articles s ON s.article_id = a.id"
)
_BATCH = 500


@dataclass(frozen=True)
class Member:
    """One article of a story, as answers need it."""

    article_id: str
    story_id: str
    copy_of: str | None
    published: date | None
    outlet: str | None
    title: str
    url: str | None
    day: date  # its publication date, or the day it was added

    @property
    def original(self) -> str:
        """The article this one copies, or itself: one source for all of its copies."""
        return self.copy_of or self.article_id


def _member(row: tuple) -> Member:
    article_id, story_id, copy_of, published, outlet, title, url, day = row
    published_day = date.fromisoformat(published) if published else None
    return Member(
        article_id,
        story_id,
        copy_of,
        published_day,
        outlet,
        title,
        url,
        published_day or (date.fromordinal(day) if day > 0 else date.min),
    )


def outlet_name_key(outlet: str) -> str:
    """An outlet's name reduced for matching: 'www.usatoday.com' and 'USA Today' both give 'usatoday',
    'theweek.co.uk' and 'The Week' 'theweek'."""
    text = outlet.strip().lower()
    if re.fullmatch(r"[a-z0-9.-]+\.[a-z]{2,}", text):  # a host name: its registrable label
        labels = [p for p in text.split(".") if p]
        if labels and labels[0] == "www":
            labels = labels[1:]
        if len(labels) >= 3 and labels[-2] in {"co", "com", "org", "net", "ac", "gov"} and len(labels[-1]) == 2:
            text = labels[-3]
        elif len(labels) >= 2:
            text = labels[-2]
    return re.sub(r"[^a-z0-9]", "", text)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _readable(scope: Scope) -> str:
    """The SQL condition on `articles` of what a scope may read (its corpora, less the articles hidden in it)."""
    condition = f"server IN ({','.join(map(_literal, scope.keys))})"
    if scope.hidden:
        condition += f" AND id NOT IN ({','.join(map(_literal, sorted(scope.hidden)))})"
    return condition


class StoryReader:
    """Story queries over the catalog's read connection (each thread its own); with a scope, of the articles that
    scope may read only."""

    def __init__(self, catalog: Catalog, scope: Scope | None = None) -> None:
        self.catalog = catalog
        self.scope = scope
        self._readable = _readable(scope) if scope is not None else "1"
        self._members = (
            _MEMBERS
            if scope is None
            else _MEMBERS.replace("FROM articles a", f"FROM (SELECT * FROM articles WHERE {self._readable}) a")
        )

    def scoped(self, scope: Scope) -> StoryReader:
        """The same queries, narrowed to what a scope may read."""
        return StoryReader(self.catalog, scope)

    def members_of(self, article_ids: Iterable[str]) -> dict[str, Member]:
        """The stored articles among these ids, with their stories."""
        ids = list(dict.fromkeys(article_ids))
        out: dict[str, Member] = {}
        for start in range(0, len(ids), _BATCH):
            part = ids[start : start + _BATCH]
            rows = self.catalog.query(f"{self._members} WHERE a.id IN ({','.join('?' * len(part))})", part)
            out.update((r[0], _member(r)) for r in rows)
        return out

    def stories(self, story_ids: Iterable[str], until: date | None = None) -> dict[str, list[Member]]:
        """Each story's articles published up to `until` (all when None), oldest first."""
        out: dict[str, list[Member]] = {}
        for story_id in dict.fromkeys(story_ids):
            if story_id.startswith("s") and not self.catalog.query(
                "SELECT 1 FROM story_articles WHERE story_id = ? LIMIT 1", (story_id,)
            ):
                rows = self.catalog.query(f"{self._members} WHERE a.id = ?", (story_id[1:],))  # never assigned
            else:
                rows = self.catalog.query(f"{self._members} WHERE s.story_id = ?", (story_id,))
            members = [m for m in map(_member, rows) if until is None or m.day <= until]
            out[story_id] = sorted(members, key=lambda m: (m.day, m.article_id))
        return out

    def copies(self, article_ids: Iterable[str]) -> dict[str, list[Member]]:
        """For each article, the other articles of its copy group (its original and the original's copies),
        oldest first."""
        found = self.members_of(article_ids)
        out: dict[str, list[Member]] = {}
        for article_id, member in found.items():
            original = member.original
            rows = self.catalog.query(
                f"{self._members} WHERE a.id IN (SELECT ? UNION SELECT article_id FROM story_articles"
                " WHERE copy_of = ?)",
                (original, original),
            )  # two index lookups, no scan
            out[article_id] = sorted(
                (m for m in map(_member, rows) if m.article_id != article_id), key=lambda m: (m.day, m.article_id)
            )
        return out

    def published_between(self, start: date, end: date) -> list[Member]:
        """The articles published in [start, end], with their stories."""
        rows = self.catalog.query(
            f"{self._members} WHERE a.published BETWEEN ? AND ?", (start.isoformat(), end.isoformat())
        )
        return sorted(map(_member, rows), key=lambda m: (m.day, m.article_id))

    def newest_before(self, day: date) -> date | None:
        """The latest publication date on or before a day."""
        row = self.catalog.query(
            f"SELECT MAX(published) FROM articles WHERE published <= ? AND {self._readable}", (day.isoformat(),)
        )
        return date.fromisoformat(row[0][0]) if row and row[0][0] else None

    def outlets(self) -> dict[str, str]:
        """The stored articles' outlets by outlet_name_key (the most frequent spelling of each)."""
        rows = self.catalog.query(
            "SELECT outlet, COUNT(*) FROM articles WHERE outlet IS NOT NULL GROUP BY outlet ORDER BY COUNT(*) DESC"
        )
        out: dict[str, str] = {}
        for outlet, _ in rows:
            key = outlet_name_key(outlet)
            if key:
                out.setdefault(key, outlet)
        return out

    def outlet_names(self, key: str) -> list[str]:
        """Every stored spelling of an outlet (by outlet_name_key)."""
        rows = self.catalog.query("SELECT DISTINCT outlet FROM articles WHERE outlet IS NOT NULL")
        return [r[0] for r in rows if outlet_name_key(r[0]) == key]
