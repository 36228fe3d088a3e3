"""The story assigner's state in SQLite: its tables (SCHEMA) and the bounded queries an add makes."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# The tables the engine persists; the lead turns them into a numbered migration. Days are date ordinals.
SCHEMA = """
CREATE TABLE IF NOT EXISTS story_articles (
    article_id  TEXT PRIMARY KEY,
    story_id    TEXT NOT NULL,
    copy_of     TEXT,               -- the article this one is a near-verbatim copy of (its original), or NULL
    day         INTEGER NOT NULL,   -- publication date (or the day it was added when it has none), ordinal
    outlet      TEXT,
    title_words TEXT NOT NULL,      -- JSON list of the headline's stemmed content words
    names       TEXT NOT NULL,      -- JSON list of the lead's capitalised names, stemmed
    signature   BLOB NOT NULL,      -- MinHash signature of the body, NUM_PERM little-endian uint64
    shingles    INTEGER NOT NULL,   -- number of distinct shingles in the body (for the containment estimate)
    paragraphs  TEXT NOT NULL,      -- JSON list of the body's distinct paragraph keys (to undo story_paragraphs)
    vector      BLOB NOT NULL       -- float32 story vector (copy check, story members; window_neighbours)
);
CREATE INDEX IF NOT EXISTS story_articles_story ON story_articles (story_id, day);
CREATE INDEX IF NOT EXISTS story_articles_day ON story_articles (day);
CREATE INDEX IF NOT EXISTS story_articles_copy ON story_articles (copy_of);
CREATE TABLE IF NOT EXISTS story_bands (
    band       INTEGER NOT NULL,
    key        INTEGER NOT NULL,    -- 64-bit hash of the signature's rows in this band
    article_id TEXT NOT NULL REFERENCES story_articles (article_id) ON DELETE CASCADE,
    PRIMARY KEY (band, key, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_bands_article ON story_bands (article_id);
CREATE TABLE IF NOT EXISTS story_paragraphs (
    key      INTEGER PRIMARY KEY,   -- paragraph_key of a paragraph
    articles INTEGER NOT NULL       -- stored articles containing it; BOILERPLATE_ARTICLES or more: boilerplate
);
CREATE TABLE IF NOT EXISTS story_terms (
    term     TEXT PRIMARY KEY,      -- 't:' + headline word or 'n:' + name; '' counts the stored articles
    articles INTEGER NOT NULL       -- stored articles whose headline or lead has it (document frequency)
) WITHOUT ROWID;
"""


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the SCHEMA tables if they are missing, statement by statement (inside the caller's transaction:
    executescript would commit it)."""
    statement = ""
    for line in SCHEMA.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


@dataclass(frozen=True)
class StoredArticle:
    """What the assigner keeps of an article."""

    article_id: str
    story_id: str
    copy_of: str | None
    day: int
    outlet: str | None
    title_words: frozenset[str]
    names: frozenset[str]
    signature: np.ndarray
    shingles: int
    vector: np.ndarray

    def terms(self) -> set[str]:
        """The document-frequency terms of the article: its headline words and its names."""
        return terms_of(self.title_words, self.names)


def terms_of(title_words: Iterable[str], names: Iterable[str]) -> set[str]:
    """story_terms keys of headline words and names."""
    return {"t:" + w for w in title_words} | {"n:" + n for n in names}


_COLUMNS = "article_id, story_id, copy_of, day, outlet, title_words, names, signature, shingles, vector"


def _record(r: tuple) -> StoredArticle:
    return StoredArticle(
        r[0],
        r[1],
        r[2],
        r[3],
        r[4],
        frozenset(json.loads(r[5])),
        frozenset(json.loads(r[6])),
        np.frombuffer(r[7], dtype="<u8"),
        r[8],
        np.frombuffer(r[9], dtype=np.float32),
    )


def _marks(n: int) -> str:
    return ",".join("?" * n)


class StoryStore:
    """The SCHEMA tables over one SQLite connection; every query is bounded by its arguments, not the corpus."""

    def __init__(self, conn: sqlite3.Connection, *, create: bool = True) -> None:
        self.conn = conn
        if create:
            create_tables(conn)

    def articles(self, ids: Iterable[str]) -> dict[str, StoredArticle]:
        """The stored articles with these ids."""
        ids = list(ids)
        if not ids:
            return {}
        rows = self.conn.execute(f"SELECT {_COLUMNS} FROM story_articles WHERE article_id IN ({_marks(len(ids))})", ids)
        return {r[0]: _record(r) for r in rows}

    def originals_in_window(
        self, story_ids: Iterable[str], since: int, until: int, limit: int
    ) -> dict[str, list[StoredArticle]]:
        """Each story's articles that are not copies, published in [since, until]: the `limit` nearest in date."""
        out: dict[str, list[StoredArticle]] = {}
        middle = (since + until) // 2
        for story_id in story_ids:
            rows = self.conn.execute(
                f"SELECT {_COLUMNS} FROM story_articles WHERE story_id = ? AND day BETWEEN ? AND ? "
                "AND copy_of IS NULL ORDER BY ABS(day - ?), article_id LIMIT ?",
                (story_id, since, until, middle, limit),
            )
            out[story_id] = [_record(r) for r in rows]
        return out

    def sharing_a_band(self, keys: list[int]) -> list[str]:
        """Articles whose signature shares at least one LSH band key with these (band i has keys[i])."""
        where = " OR ".join("(band = ? AND key = ?)" for _ in keys)
        params = [v for pair in enumerate(keys) for v in pair]
        return [r[0] for r in self.conn.execute(f"SELECT DISTINCT article_id FROM story_bands WHERE {where}", params)]

    def paragraph_counts(self, keys: set[int]) -> dict[int, int]:
        """How many stored articles contain each of these paragraphs (absent: none)."""
        if not keys:
            return {}
        rows = self.conn.execute(
            f"SELECT key, articles FROM story_paragraphs WHERE key IN ({_marks(len(keys))})", list(keys)
        )
        return {k: n for k, n in rows}

    def term_counts(self, terms: set[str]) -> tuple[int, dict[str, int]]:
        """The number of stored articles, and how many of them have each of these terms."""
        wanted = sorted(terms | {""})
        rows = dict(
            self.conn.execute(
                f"SELECT term, articles FROM story_terms WHERE term IN ({_marks(len(wanted))})", wanted
            ).fetchall()
        )
        return rows.pop("", 0), rows

    def window_vectors(self, since: int, until: int) -> tuple[list[str], np.ndarray]:
        """Ids and story vectors of the articles published in [since, until]."""
        rows = self.conn.execute(
            "SELECT article_id, vector FROM story_articles WHERE day BETWEEN ? AND ?", (since, until)
        ).fetchall()
        if not rows:
            return [], np.zeros((0, 0), dtype=np.float32)
        return [r[0] for r in rows], np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(
            len(rows), -1
        )

    def insert(self, a: StoredArticle, paragraph_keys: list[int], band_keys: list[int]) -> None:
        """Store an article with its band keys, and count its paragraphs and terms."""
        self.conn.execute(
            f"INSERT INTO story_articles ({_COLUMNS}, paragraphs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                a.article_id,
                a.story_id,
                a.copy_of,
                a.day,
                a.outlet,
                json.dumps(sorted(a.title_words)),
                json.dumps(sorted(a.names)),
                a.signature.astype("<u8").tobytes(),
                a.shingles,
                np.asarray(a.vector, dtype=np.float32).tobytes(),
                json.dumps(paragraph_keys),
            ),
        )
        self.conn.executemany(
            "INSERT OR IGNORE INTO story_bands (band, key, article_id) VALUES (?, ?, ?)",
            [(b, k, a.article_id) for b, k in enumerate(band_keys)],
        )
        self._count("story_paragraphs", "key", paragraph_keys, +1)
        self._count("story_terms", "term", sorted(a.terms() | {""}), +1)

    def delete(self, article_id: str) -> None:
        """Forget an article and uncount it; its copies then copy the earliest of them, in the same story."""
        stored = self.articles([article_id]).get(article_id)
        if stored is None:
            return
        copies = [
            r[0]
            for r in self.conn.execute(
                "SELECT article_id FROM story_articles WHERE copy_of = ? ORDER BY day, article_id", (article_id,)
            )
        ]
        if copies:
            self.conn.execute("UPDATE story_articles SET copy_of = NULL WHERE article_id = ?", (copies[0],))
            self.conn.execute("UPDATE story_articles SET copy_of = ? WHERE copy_of = ?", (copies[0], article_id))
        row = self.conn.execute("SELECT paragraphs FROM story_articles WHERE article_id = ?", (article_id,)).fetchone()
        self._count("story_paragraphs", "key", json.loads(row[0]), -1)
        self._count("story_terms", "term", sorted(stored.terms() | {""}), -1)
        self.conn.execute("DELETE FROM story_bands WHERE article_id = ?", (article_id,))
        self.conn.execute("DELETE FROM story_articles WHERE article_id = ?", (article_id,))

    def story_of(self, article_id: str) -> str | None:
        """The story an article belongs to."""
        row = self.conn.execute("SELECT story_id FROM story_articles WHERE article_id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def members(self, story_id: str) -> list[tuple[str, str | None]]:
        """(article_id, copy_of) of a story's articles, oldest first."""
        rows = self.conn.execute(
            "SELECT article_id, copy_of FROM story_articles WHERE story_id = ? ORDER BY day, article_id", (story_id,)
        )
        return [(a, c) for a, c in rows]

    def _count(self, table: str, column: str, keys: list, step: int) -> None:
        if step > 0:
            self.conn.executemany(
                f"INSERT INTO {table} ({column}, articles) VALUES (?, 1) "
                f"ON CONFLICT ({column}) DO UPDATE SET articles = articles + 1",
                [(k,) for k in keys],
            )
        else:
            self.conn.executemany(
                f"UPDATE {table} SET articles = articles - 1 WHERE {column} = ?", [(k,) for k in keys]
            )
            self.conn.executemany(f"DELETE FROM {table} WHERE {column} = ? AND articles <= 0", [(k,) for k in keys])
