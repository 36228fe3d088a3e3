"""Stories in the write path: an article added, replaced or removed is assigned to its story (or forgotten) in
the catalog transaction that stores it. Its story vector (stories.StoryIndex.story_text embedded by the engine's
model) goes through the embedding cache like every other vector, so it is computed once per text.

Neighbours come from the assigner's own SQLite table (`StoryIndex.window_neighbours`: the story vectors of the
articles within the date window, one matrix product), not from the vector store's title collection: the title
vector is the headline alone, which finds copies and same-story articles less well (docs/stories.md), and the
title collection holds no dates to bound the window by. docs/stories.md gives the time per add.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from .articles import Article
from .embedcache import EmbeddingCache, cache_key
from .stories import Assignment, StoryIndex, StoryInput
from .story_store import create_tables

if TYPE_CHECKING:
    from .embedding import Embedder

log = logging.getLogger(__name__)
BACKFILL_BATCH = 256  # articles whose story texts are embedded together when stories are assigned afresh
Progress = Callable[[int, int], None]


def story_key(model_key: str, text: str) -> str:
    """Embedding-cache key of a story text (headline and lead) embedded by a model."""
    return cache_key(model_key, f"story\x1f{text}")


def create_story_tables(db: sqlite3.Connection) -> None:
    """The assigner's tables, the model its vectors were made with, and an index of articles by date."""
    create_tables(db)
    db.execute("CREATE TABLE IF NOT EXISTS story_state (id INTEGER PRIMARY KEY CHECK (id = 1), model TEXT)")
    db.execute("INSERT OR IGNORE INTO story_state (id, model) VALUES (1, NULL)")
    db.execute("CREATE INDEX IF NOT EXISTS articles_published ON articles (published)")


def story_day(published: date | None, added: str | None = None) -> date:
    """The day an article counts from: its publication date, else the day it was added (else today)."""
    if published is not None:
        return published
    if added:
        try:
            return date.fromisoformat(added[:10])
        except ValueError:
            pass
    return date.today()


@dataclass
class BackfillReport:
    """What assigning every stored article afresh cost."""

    articles: int = 0
    embedded: int = 0
    embed_seconds: float = 0.0
    assign_seconds: float = 0.0
    add_ms: list[float] = field(default_factory=list, repr=False)


@dataclass
class StoryWriter:
    """Assigns articles to stories inside the write path's catalog transaction."""

    cache: EmbeddingCache
    embed_model: Embedder
    model_key: str
    embedded: int = 0  # story texts this writer has embedded (the others came from the cache)

    def prepare(self, conn: sqlite3.Connection, articles: Sequence[Article]) -> dict[str, np.ndarray]:
        """Story vectors of articles about to be written, from the cache or embedded now, before the write
        transaction: their texts as the stored articles make them now (`assign` re-embeds the rare one whose
        lead changed meanwhile, e.g. by a paragraph that an earlier article of the same write made boilerplate)."""
        index = StoryIndex(conn, create=False)
        return self.vectors(
            {story_key(self.model_key, t): t for t in (index.story_text(a.title, a.body) for a in articles)}
        )

    def assign(
        self, db: sqlite3.Connection, articles: Sequence[Article], prepared: dict[str, np.ndarray] | None = None
    ) -> list[Assignment]:
        """Assign each article (a new version replaces the old) to its story, in order (inside a transaction)."""
        index = StoryIndex(db, create=False)
        out = []
        for a in articles:
            added = db.execute("SELECT added_at FROM articles WHERE id = ?", (a.id,)).fetchone()
            out.append(
                self._add(
                    index,
                    a.id,
                    a.title,
                    a.body,
                    story_day(a.published, added[0] if added else None),
                    a.outlet,
                    prepared or {},
                )
            )
        return out

    def remove(self, db: sqlite3.Connection, article_id: str) -> None:
        """Forget a removed article (inside the transaction that removes it)."""
        StoryIndex(db, create=False).remove(article_id)

    def current(self, conn: sqlite3.Connection) -> bool:
        """True when the stored story vectors were made with this model."""
        row = conn.execute("SELECT model FROM story_state WHERE id = 1").fetchone()
        return bool(row) and row[0] == self.model_key

    def assign_all(self, db: sqlite3.Connection, progress: Progress | None = None) -> BackfillReport:
        """Assign every stored article afresh, in publication order, as if each had just been added (inside a
        transaction): the story texts are embedded in batches (from the cache when they are there)."""
        create_story_tables(db)
        for table in ("story_bands", "story_articles", "story_paragraphs", "story_terms"):
            db.execute(f"DELETE FROM {table}")
        rows = db.execute(
            "SELECT id, published, added_at FROM articles ORDER BY COALESCE(published, substr(added_at, 1, 10)), id"
        ).fetchall()
        report = BackfillReport(articles=len(rows))
        index = StoryIndex(db, create=False)
        for start in range(0, len(rows), BACKFILL_BATCH):
            part = rows[start : start + BACKFILL_BATCH]
            found = {
                r[0]: r[1:]
                for r in db.execute(
                    f"SELECT id, title, body, outlet FROM articles WHERE id IN ({','.join('?' * len(part))})",
                    [r[0] for r in part],
                )
            }
            began = time.perf_counter()
            before = self.embedded
            prepared = self.vectors(
                {
                    story_key(self.model_key, t): t
                    for t in (index.story_text(found[r[0]][0], found[r[0]][1]) for r in part)
                }
            )
            report.embed_seconds += time.perf_counter() - began
            for article_id, published, added in part:
                title, body, outlet = found[article_id]
                began = time.perf_counter()
                self._add(
                    index,
                    article_id,
                    title,
                    body,
                    story_day(date.fromisoformat(published) if published else None, added),
                    outlet,
                    prepared,
                )
                report.add_ms.append(1000 * (time.perf_counter() - began))
            report.embedded += self.embedded - before
            if progress:
                progress(min(start + BACKFILL_BATCH, len(rows)), len(rows))
        report.assign_seconds = sum(report.add_ms) / 1000
        db.execute("UPDATE story_state SET model = ? WHERE id = 1", (self.model_key,))
        return report

    def vectors(self, texts: dict[str, str]) -> dict[str, np.ndarray]:
        """Vectors of texts by cache key: cached ones read, the others embedded and cached."""
        from .chunking import embed_into_cache

        found = self.cache.get(texts)
        missing = {k: t for k, t in texts.items() if k not in found}
        found.update(embed_into_cache(missing, self.embed_model, self.cache))
        self.embedded += len(missing)
        return found

    def _add(
        self,
        index: StoryIndex,
        article_id: str,
        title: str,
        body: str,
        day: date,
        outlet: str | None,
        prepared: dict[str, np.ndarray],
    ) -> Assignment:
        text = index.story_text(title, body)
        key = story_key(self.model_key, text)
        vector = prepared.get(key)
        if vector is None:  # the lead changed since `prepare` (rare): one more short text to embed
            vector = self.vectors({key: text})[key]
        return index.add(StoryInput(article_id, title, body, day, outlet, _unit(vector)))


def _unit(vector: np.ndarray) -> np.ndarray:
    vector = np.asarray(vector, dtype=np.float32)
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
