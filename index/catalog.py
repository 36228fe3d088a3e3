"""The article database (SQLite): stored articles, their chunks, the embedding cache, index state."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from .articles import Article
from .errors import StoreError
from .results import ArticleInfo

if TYPE_CHECKING:
    from .embedcache import EmbeddingCache

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, outlet TEXT, published TEXT, url TEXT,
    authors TEXT NOT NULL DEFAULT '[]', body TEXT NOT NULL, content_hash TEXT NOT NULL,
    added_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL, text TEXT NOT NULL, embed_key TEXT NOT NULL, sentences TEXT
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS chunks_next (
    id TEXT PRIMARY KEY, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL, text TEXT NOT NULL,
    embed_key TEXT NOT NULL, sentences TEXT, content_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored: its id, article, position, text and embedding-cache key."""

    id: str
    article_id: str
    ordinal: int
    text: str
    embed_key: str
    sentences: tuple[tuple[int, int], ...] = ()  # (start, end) of each sentence in text

    @classmethod
    def from_db(cls, row: tuple) -> "ChunkRow":
        """A row as selected by _CHUNK_COLUMNS."""
        *head, spans = row
        return cls(*head, sentences=tuple(tuple(s) for s in json.loads(spans)) if spans else ())


_CHUNK_COLUMNS = "id, article_id, ordinal, text, embed_key, sentences"


class Catalog:
    """SQLite-backed store of articles and chunks; safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        if "sentences" not in {r[1] for r in self._db.execute("PRAGMA table_info(chunks)")}:
            self._db.execute("ALTER TABLE chunks ADD COLUMN sentences TEXT")  # catalogs made before chunks kept their sentences
        self._lock = threading.RLock()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(params)).fetchall()

    # articles -------------------------------------------------------------------------------------
    def content_hash(self, article_id: str) -> str | None:
        """The stored version's content hash, or None when the article is not stored."""
        rows = self._query("SELECT content_hash FROM articles WHERE id=?", (article_id,))
        return rows[0][0] if rows else None

    def article(self, article_id: str) -> Article | None:
        """The stored article, or None."""
        rows = self._query(
            "SELECT title, body, outlet, published, url, authors FROM articles WHERE id=?", (article_id,)
        )
        if not rows:
            return None
        title, body, outlet, published, url, authors = rows[0]
        return Article(title=title, body=body, outlet=outlet, url=url, authors=tuple(json.loads(authors)),
                       published=date.fromisoformat(published) if published else None)

    def article_ids(self) -> list[str]:
        """Every stored article's id, oldest added first."""
        return [r[0] for r in self._query("SELECT id FROM articles ORDER BY added_at, id")]

    def iter_articles(self) -> Iterator[Article]:
        """Every stored article, oldest added first."""
        for article_id in self.article_ids():
            article = self.article(article_id)
            if article is not None:
                yield article

    def infos(self, query: str | None = None, limit: int | None = None) -> list[ArticleInfo]:
        """Article listings, newest published first; optionally filtered by a substring."""
        sql = ("SELECT a.id, a.title, a.outlet, a.published, a.url, a.added_at, "
               "(SELECT COUNT(*) FROM chunks c WHERE c.article_id=a.id) FROM articles a")
        params: list = []
        if query:
            sql += " WHERE a.title LIKE ? OR a.outlet LIKE ? OR a.id LIKE ? OR a.url LIKE ?"
            params = [f"%{query}%"] * 4
        sql += " ORDER BY COALESCE(a.published, '') DESC, a.added_at DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_info(row) for row in self._query(sql, params)]

    def info(self, article_id: str) -> ArticleInfo | None:
        """One listing, or None."""
        found = self.infos_for([article_id])
        return found[0] if found else None

    def infos_for(self, ids: Iterable[str]) -> list[ArticleInfo]:
        """Listings of the given articles (unknown ids skipped)."""
        ids = list(ids)
        out: list[ArticleInfo] = []
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            out += [_info(r) for r in self._query(
                "SELECT a.id, a.title, a.outlet, a.published, a.url, a.added_at, "
                f"(SELECT COUNT(*) FROM chunks c WHERE c.article_id=a.id) FROM articles a WHERE a.id IN ({marks})",
                part)]
        return out

    def published_dates(self, ids: Iterable[str]) -> dict[str, date | None]:
        """Publication date of each stored article among ids."""
        ids = list(ids)
        out: dict[str, date | None] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for article_id, published in self._query(f"SELECT id, published FROM articles WHERE id IN ({marks})", part):
                out[article_id] = date.fromisoformat(published) if published else None
        return out

    def counts(self) -> tuple[int, int]:
        """(articles, chunks)."""
        (articles,), = self._query("SELECT COUNT(*) FROM articles")
        (chunks,), = self._query("SELECT COUNT(*) FROM chunks")
        return articles, chunks

    def save(self, article: Article, chunks: list[ChunkRow]) -> list[str]:
        """Store an article and its chunks in one transaction; returns the ids of the chunks it replaced."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                old = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE article_id=?", (article.id,))]
                self._db.execute("DELETE FROM chunks WHERE article_id=?", (article.id,))
                self._db.execute(
                    "INSERT INTO articles(id, title, outlet, published, url, authors, body, content_hash, added_at)"
                    " VALUES(?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
                    " outlet=excluded.outlet, published=excluded.published, url=excluded.url,"
                    " authors=excluded.authors, body=excluded.body, content_hash=excluded.content_hash",
                    (article.id, article.title, article.outlet,
                     article.published.isoformat() if article.published else None, article.url,
                     json.dumps(list(article.authors)), article.body, article.content_hash, now),
                )
                self._db.executemany(
                    "INSERT INTO chunks(id, article_id, ordinal, text, embed_key, sentences) VALUES(?,?,?,?,?,?)",
                    [(c.id, c.article_id, c.ordinal, c.text, c.embed_key, _spans_json(c.sentences)) for c in chunks],
                )
                self._bump_version()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"Could not save the article: {exc}") from exc
        return [c for c in old if c not in {n.id for n in chunks}]

    def delete(self, article_id: str) -> list[str]:
        """Delete an article and its chunks; returns the chunk ids that were removed."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                old = [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,))]
                self._db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
                self._db.execute("DELETE FROM articles WHERE id=?", (article_id,))
                self._bump_version()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"Could not remove the article: {exc}") from exc
        return old

    # chunks ---------------------------------------------------------------------------------------
    def chunks(self, article_id: str | None = None) -> list[ChunkRow]:
        """Stored chunks (of one article, or all), in article and position order."""
        sql = f"SELECT {_CHUNK_COLUMNS} FROM chunks"
        params: tuple = ()
        if article_id is not None:
            sql += " WHERE article_id=?"
            params = (article_id,)
        return [ChunkRow.from_db(row) for row in self._query(sql + " ORDER BY article_id, ordinal", params)]

    def chunk_rows(self, ids: list[str]) -> list[ChunkRow]:
        """The stored chunks among ids, in the order given (unknown ids skipped)."""
        found: dict[str, ChunkRow] = {}
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self._query(f"SELECT {_CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", part):
                found[row[0]] = ChunkRow.from_db(row)
        return [found[i] for i in ids if i in found]

    # a rebuild's chunks, staged until it switches over ----------------------------------------------
    def stage_chunks(self, article: Article, rows: list[ChunkRow]) -> None:
        """Keep an article's re-chunked rows aside until promote_staged (the live index keeps the old ones)."""
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks_next(id, article_id, ordinal, text, embed_key, sentences, content_hash)"
                " VALUES(?,?,?,?,?,?,?)",
                [(c.id, c.article_id, c.ordinal, c.text, c.embed_key, _spans_json(c.sentences), article.content_hash)
                 for c in rows])

    def promote_staged(self) -> None:
        """Replace the chunks of every staged article that is still stored in the same version; clear the stage."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                current = ("SELECT n.article_id FROM chunks_next n JOIN articles a"
                           " ON a.id = n.article_id AND a.content_hash = n.content_hash")
                self._db.execute(f"DELETE FROM chunks WHERE article_id IN ({current})")
                self._db.execute(
                    f"INSERT INTO chunks({_CHUNK_COLUMNS}) SELECT {_CHUNK_COLUMNS} FROM chunks_next"
                    f" WHERE article_id IN ({current})")
                self._db.execute("DELETE FROM chunks_next")
                self._bump_version()
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StoreError(f"Could not switch to the rebuilt chunks: {exc}") from exc

    def clear_staged(self) -> None:
        """Forget staged chunks (a rebuild failed or starts afresh)."""
        with self._lock:
            self._db.execute("DELETE FROM chunks_next")

    def chunk_ids(self) -> set[str]:
        """Ids of every stored chunk."""
        return {r[0] for r in self._query("SELECT id FROM chunks")}

    # embedding cache, kept in the catalog by earlier versions --------------------------------------
    def move_embeddings_to(self, cache: "EmbeddingCache") -> None:
        """Move vectors cached in the catalog's own table (earlier versions) into the embedding cache."""
        while True:
            rows = self._query("SELECT key, vector FROM embeddings LIMIT 20000")
            if not rows:
                return
            cache.put({key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows})
            with self._lock:
                self._db.executemany("DELETE FROM embeddings WHERE key=?", [(r[0],) for r in rows])

    # state ----------------------------------------------------------------------------------------
    def get_state(self, key: str, default: str | None = None) -> str | None:
        """A value of the index state."""
        rows = self._query("SELECT value FROM state WHERE key=?", (key,))
        return rows[0][0] if rows else default

    def set_state(self, key: str, value: str) -> None:
        """Set a value of the index state."""
        with self._lock:
            self._db.execute("INSERT INTO state(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                             (key, value))

    @property
    def version(self) -> int:
        """A counter bumped by every change to the articles."""
        return int(self.get_state("version", "0") or 0)

    def _bump_version(self) -> None:
        self._db.execute(
            "INSERT INTO state(key, value) VALUES('version', '1') "
            "ON CONFLICT(key) DO UPDATE SET value=CAST(value AS INTEGER)+1"
        )


def _spans_json(spans: tuple[tuple[int, int], ...]) -> str | None:
    return json.dumps(spans, separators=(",", ":")) if spans else None


def _info(row: tuple) -> ArticleInfo:
    article_id, title, outlet, published, url, added_at, chunks = row
    return ArticleInfo(
        id=article_id, title=title, outlet=outlet, url=url, chunks=chunks,
        published=date.fromisoformat(published) if published else None,
        added_at=datetime.fromisoformat(added_at) if added_at else None,
    )
